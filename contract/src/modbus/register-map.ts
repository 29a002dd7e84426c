/**
 * Register values to section-1 fields and back. The poller decodes what it read; the simulators'
 * Modbus server encodes its model's values with the same functions, so both sides agree by
 * construction and a unit test pins the byte layout against hand-computed frames.
 *
 * Inside one register the byte order is fixed by the protocol (big endian, Modbus Application
 * Protocol specification v1.1b3 section 4.2); the order of the two registers of a 32-bit value is not,
 * hence `wordOrder`.
 */
import { wordsOf, type BitPoint, type NumberPoint } from '../site/modbus-schema.ts';

export { wordsOf } from '../site/modbus-schema.ts';

/**
 * Decoded values are rounded to this many decimals: `3125 × 0.1` is 312.50000000000006 in floating
 * point, and a float32's last bits are no information. Same registers, same value, so change
 * detection is not fooled either way.
 */
const DECIMALS = 6;
const round = (x: number): number => {
  const f = 10 ** DECIMALS;
  return Math.round(x * f) / f;
};

/** The raw register value(s) as the type says, before scale and offset. `words` starts at the point's address. */
export function rawValue(point: Pick<NumberPoint, 'type' | 'wordOrder'>, words: readonly number[]): number {
  const need = wordsOf(point.type);
  if (words.length < need) throw new RangeError(`a ${point.type} needs ${need} registers, got ${words.length}`);
  const buf = Buffer.alloc(4);
  const [first = 0, second = 0] = words;
  const [hi, lo] = point.wordOrder === 'low-first' ? [second, first] : [first, second];
  buf.writeUInt16BE(need === 1 ? first & 0xffff : hi & 0xffff, 0);
  buf.writeUInt16BE(need === 1 ? 0 : lo & 0xffff, 2);
  switch (point.type) {
    case 'uint16':
      return buf.readUInt16BE(0);
    case 'int16':
      return buf.readInt16BE(0);
    case 'uint32':
      return buf.readUInt32BE(0);
    case 'int32':
      return buf.readInt32BE(0);
    case 'float32': {
      // A float32 carries 7 significant decimal digits (24-bit mantissa); the rest of its float64
      // expansion is noise: a transmitter's 84.7 arrives as 84.69999694824219.
      const f = buf.readFloatBE(0);
      return Number.isFinite(f) ? Number(f.toPrecision(7)) : f;
    }
  }
}

/** The field's value: raw × scale + offset. NaN or ±Infinity from a float32 stays as it is (ingest refuses it). */
export function decodeNumber(point: NumberPoint, words: readonly number[]): number {
  const v = rawValue(point, words) * point.scale + point.offset;
  return Number.isFinite(v) ? round(v) : v;
}

/** A coil or discrete input as read, or a register (one bit of it, or non-zero), inverted if the map says so. */
export function decodeBit(point: BitPoint, value: boolean | number): boolean {
  let on: boolean;
  if (typeof value === 'boolean') on = value;
  else on = point.bit === undefined ? (value & 0xffff) !== 0 : ((value >> point.bit) & 1) === 1;
  return point.invert ? !on : on;
}

/**
 * The register words that decode to `value` (the simulator's side). Integer types round and clamp to
 * their range, as a panel's analogue-to-register conversion would.
 */
export function encodeNumber(point: NumberPoint, value: number): number[] {
  const raw = (value - point.offset) / point.scale;
  const buf = Buffer.alloc(4);
  const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(x)));
  switch (point.type) {
    case 'uint16':
      return [clamp(raw, 0, 0xffff)];
    case 'int16':
      buf.writeInt16BE(clamp(raw, -0x8000, 0x7fff), 0);
      return [buf.readUInt16BE(0)];
    case 'uint32':
      buf.writeUInt32BE(clamp(raw, 0, 0xffffffff), 0);
      break;
    case 'int32':
      buf.writeInt32BE(clamp(raw, -0x80000000, 0x7fffffff), 0);
      break;
    case 'float32':
      buf.writeFloatBE(raw, 0);
      break;
  }
  const hi = buf.readUInt16BE(0);
  const lo = buf.readUInt16BE(2);
  return point.wordOrder === 'low-first' ? [lo, hi] : [hi, lo];
}

/**
 * Writes `on` into a bit point: for a coil or discrete input the bit itself; for a register, the new
 * register value given its current one (only the point's bit changes; without `bit`, 1 or 0).
 */
export function encodeBit(point: BitPoint, on: boolean, current = 0): boolean | number {
  const v = point.invert ? !on : on;
  if (point.table === 'coil' || point.table === 'discrete-input') return v;
  if (point.bit === undefined) return v ? 1 : 0;
  const mask = 1 << point.bit;
  return v ? (current | mask) & 0xffff : current & ~mask & 0xffff;
}
