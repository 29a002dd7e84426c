/**
 * Register decoding against frames worked out by hand from the data types' definitions (IEEE 754
 * binary32, two's complement) and the Modbus rule that a register is sent big endian.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitPoint, numberPoint, MODBUS_TYPES, type BitPoint, type ModbusType, type NumberPoint } from '../site/modbus-schema.ts';
import { decodeBit, decodeNumber, encodeBit, encodeNumber, rawValue } from './register-map.ts';

const num = (p: Partial<NumberPoint> & { type?: ModbusType }): NumberPoint => numberPoint.parse({ table: 'holding-register', address: 0, ...p });
const bit = (p: Partial<BitPoint>): BitPoint => bitPoint.parse({ table: 'holding-register', address: 0, ...p });

describe('rawValue', () => {
  it('reads 16-bit registers unsigned and as two’s complement', () => {
    expect(rawValue(num({ type: 'uint16' }), [0xfffe])).toBe(65534);
    expect(rawValue(num({ type: 'int16' }), [0xfffe])).toBe(-2);
    expect(rawValue(num({ type: 'int16' }), [0x7fff])).toBe(32767);
    expect(rawValue(num({ type: 'int16' }), [0x8000])).toBe(-32768);
  });

  it('puts the high word first for high-first (ABCD) and second for low-first (CDAB)', () => {
    // 0x0001_86A0 = 100000
    expect(rawValue(num({ type: 'uint32', wordOrder: 'high-first' }), [0x0001, 0x86a0])).toBe(100000);
    expect(rawValue(num({ type: 'uint32', wordOrder: 'low-first' }), [0x86a0, 0x0001])).toBe(100000);
    // 0xFFFF_FF9C = -100 as int32
    expect(rawValue(num({ type: 'int32' }), [0xffff, 0xff9c])).toBe(-100);
    expect(rawValue(num({ type: 'int32', wordOrder: 'low-first' }), [0xff9c, 0xffff])).toBe(-100);
    expect(rawValue(num({ type: 'uint32' }), [0xffff, 0xffff])).toBe(4294967295);
  });

  it('reads IEEE 754 float32 in both word orders, to the 7 digits a float32 holds', () => {
    // 150.25 = 0x43164000; 84.7 = 0x42A96666 (84.69999694824219 as float64)
    expect(rawValue(num({ type: 'float32' }), [0x4316, 0x4000])).toBe(150.25);
    expect(rawValue(num({ type: 'float32', wordOrder: 'low-first' }), [0x4000, 0x4316])).toBe(150.25);
    expect(rawValue(num({ type: 'float32' }), [0x42a9, 0x6666])).toBe(84.7);
    expect(rawValue(num({ type: 'float32' }), [0xc2a9, 0x6666])).toBe(-84.7);
    // NaN stays NaN: ingest refuses it with a reason instead of storing a made-up number.
    expect(rawValue(num({ type: 'float32' }), [0x7fc0, 0x0000])).toBeNaN();
  });

  it('refuses too few registers for the type', () => {
    expect(() => rawValue(num({ type: 'float32' }), [0x4316])).toThrow('a float32 needs 2 registers, got 1');
  });
});

describe('decodeNumber', () => {
  it('applies scale then offset: value = raw × scale + offset', () => {
    expect(decodeNumber(num({ scale: 0.1 }), [3125])).toBe(312.5); // not 312.50000000000006
    expect(decodeNumber(num({ scale: 0.01 }), [512])).toBe(5.12);
    // A 4-20 mA transmitter scaled 0..10000 to 0..2000 mm, mounted 150 mm above the pit floor.
    expect(decodeNumber(num({ scale: 0.2, offset: 150 }), [5000])).toBe(1150);
    expect(decodeNumber(num({ type: 'int16', scale: 0.1, offset: -20 }), [0xfff6])).toBe(-21);
  });
});

describe('decodeBit', () => {
  it('takes coils and discrete inputs as they are, register bits by number, registers as non-zero', () => {
    expect(decodeBit(bit({ table: 'coil' }), true)).toBe(true);
    expect(decodeBit(bit({ table: 'discrete-input', invert: true }), true)).toBe(false);
    expect(decodeBit(bit({ bit: 3 }), 0b1000)).toBe(true);
    expect(decodeBit(bit({ bit: 3 }), 0b0111)).toBe(false);
    expect(decodeBit(bit({ bit: 15 }), 0x8000)).toBe(true);
    expect(decodeBit(bit({}), 0)).toBe(false);
    expect(decodeBit(bit({}), 2)).toBe(true);
    expect(decodeBit(bit({ invert: true }), 2)).toBe(false);
  });
});

describe('encode (the simulators’ side) and decode agree', () => {
  it('for every type, word order, scale and offset', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MODBUS_TYPES),
        fc.constantFrom('high-first' as const, 'low-first' as const),
        fc.constantFrom(1, 0.1, 0.01, 0.5, 2),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 30000 }),
        (type, wordOrder, scale, offset, steps) => {
          const p = num({ type, wordOrder, scale, offset });
          // A value the register can represent: a whole number of steps above the offset, inside the type's range.
          const signed = type === 'int16' || type === 'int32' || type === 'float32';
          const value = offset + (signed ? steps - 15000 : steps) * scale;
          const words = encodeNumber(p, value);
          expect(words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)).toBe(true);
          expect(decodeNumber(p, words)).toBeCloseTo(value, 4);
        },
      ),
    );
  });

  it('clamps integers to the type’s range as a panel would', () => {
    expect(encodeNumber(num({ type: 'uint16' }), -5)).toEqual([0]);
    expect(encodeNumber(num({ type: 'uint16' }), 70000)).toEqual([0xffff]);
    expect(encodeNumber(num({ type: 'int16' }), -40000)).toEqual([0x8000]);
  });

  it('sets only the point’s bit of a status word', () => {
    const p = bit({ bit: 2 });
    expect(encodeBit(p, true, 0b1001)).toBe(0b1101);
    expect(encodeBit(p, false, 0b1101)).toBe(0b1001);
    expect(encodeBit(bit({ table: 'coil', invert: true }), true)).toBe(false);
    expect(decodeBit(p, encodeBit(p, true, 0xffff & ~0b100) as number)).toBe(true);
  });
});
