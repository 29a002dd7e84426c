/**
 * Milesight's uplink format, shared by the EM310-UDL, EM500-SWL and VS133/VS135: a sequence of
 * `channel (1 byte) | type (1 byte) | data (N bytes)`, multi-byte values little-endian. The length of
 * each channel/type pair comes from the device's published table; a pair not in the table cannot be
 * skipped, so reading stops there (what was read before it is kept).
 * Source: the payload tables in Milesight-IoT/SensorDecoders (em-series/em310-udl, em-series/em500-swl,
 * vs-series/vs133 README.md) and Milesight's user guides; see docs/devices.md.
 */
import { z } from 'zod';
import { hex, reject, withoutPayload, type CodecInput, type CodecResult } from './types.ts';

/** Device information Milesight devices send on joining ("attribute" rows of every table): channel 0xff. */
export const ATTRIBUTES: ReadonlyArray<readonly [channel: number, type: number, length: number]> = [
  [0xff, 0x01, 1], // IPSO / protocol version
  [0xff, 0x09, 2], // hardware version
  [0xff, 0x0a, 2], // firmware version
  [0xff, 0xff, 2], // TSL version
  [0xff, 0x16, 8], // serial number
  [0xff, 0x0f, 1], // LoRaWAN class
  [0xff, 0xfe, 1], // reset event
  [0xff, 0x0b, 1], // device status (power on)
];

export interface TlvItem {
  channel: number;
  type: number;
  data: Uint8Array;
}

export interface TlvRead {
  items: TlvItem[];
  /** Where reading stopped before the end, and why. */
  stop?: { at: number; channel: number; type: number; why: 'unknown' | 'short'; need?: number };
}

const key = (channel: number, type: number): number => (channel << 8) | type;

export function tlvTable(rows: ReadonlyArray<readonly [number, number, number]>): ReadonlyMap<number, number> {
  return new Map([...ATTRIBUTES, ...rows].map(([c, t, n]) => [key(c, t), n]));
}

export function readTlv(bytes: Uint8Array, lengths: ReadonlyMap<number, number>): TlvRead {
  const items: TlvItem[] = [];
  let i = 0;
  while (i < bytes.length) {
    const channel = bytes[i]!;
    const type = bytes[i + 1];
    if (type === undefined) return { items, stop: { at: i, channel, type: -1, why: 'short', need: 1 } };
    const length = lengths.get(key(channel, type));
    if (length === undefined) return { items, stop: { at: i, channel, type, why: 'unknown' } };
    if (i + 2 + length > bytes.length) return { items, stop: { at: i, channel, type, why: 'short', need: length } };
    items.push({ channel, type, data: bytes.subarray(i + 2, i + 2 + length) });
    i += 2 + length;
  }
  return { items };
}

export function find(read: TlvRead, channel: number, type: number): TlvItem | undefined {
  return read.items.find((x) => x.channel === channel && x.type === type);
}

export const u16le = (d: Uint8Array, at = 0): number => d[at]! | (d[at + 1]! << 8);
export const u32le = (d: Uint8Array, at = 0): number => (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16)) + d[at + 3]! * 0x1000000;

/** The rejection for a payload that ends or turns unreadable before the value the codec needs. */
export function stopped(codec: string, read: TlvRead, wanted: string): CodecResult {
  const s = read.stop!;
  if (s.why === 'short') {
    return reject('payload_too_short', `${codec}: channel ${hex(s.channel)}${s.type >= 0 ? ` type ${hex(s.type)}` : ''} at byte ${s.at} needs ${s.need} more byte(s) than the payload has, and no ${wanted} came before it`);
  }
  return reject('undecodable_payload', `${codec}: channel ${hex(s.channel)} type ${hex(s.type)} at byte ${s.at} is not in the device's payload table, and no ${wanted} came before it`);
}

/** Battery level channel 0x01 type 0x75: UINT8 percent. */
export function battery(read: TlvRead): number | undefined {
  const item = find(read, 0x01, 0x75);
  const pct = item?.data[0];
  return pct !== undefined && pct <= 100 ? pct : undefined;
}

/**
 * Milesight's documents give 85 as the default application port; the TLV format is self-describing,
 * so any application port (1..223, LoRaWAN 1.0.x section 4.3.2) is read unless `fPort` narrows it.
 */
export const fPortParam = z.number().int().min(1).max(223);

export function portProblem(codec: string, input: CodecInput, fPort: number | undefined): CodecResult | null {
  const empty = withoutPayload(input);
  if (empty) return empty;
  if (fPort !== undefined ? input.fPort !== fPort : input.fPort < 1 || input.fPort > 223) {
    return reject('unknown_fport', `${codec} reads FPort ${fPort ?? '1..223'}, the uplink came on FPort ${input.fPort}`);
  }
  if (input.bytes.length === 0) return reject('payload_too_short', `${codec}: the uplink has no FRMPayload`);
  return null;
}
