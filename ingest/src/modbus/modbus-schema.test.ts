/**
 * The site file's Modbus register maps: a map that does not fit the device kind, or a point that
 * cannot be read, stops start-up with a message naming the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testSiteFile } from '../alerts/testing.ts';
import { DEFAULT_SITE_PATH, loadSite, parseSite } from '@parkops/contract/site/index.ts';

const HOST = { host: '127.0.0.1' };
const level = (modbus: unknown, extra: object = {}) => testSiteFile({ levels: [{ id: 'L1', name: 'Level 1', intervalSec: 10, modbus, ...extra }, { id: 'L2', name: 'Level 2' }] });
const pump = (modbus: unknown) =>
  testSiteFile({ pumps: [{ id: 'P1', name: 'Duty', role: 'duty', startMm: 250, stopMm: 80, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30, modbus }] });
const refusal = (file: object): string => {
  try {
    parseSite(file);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the site was accepted');
};
const MM = { table: 'holding-register', address: 0 };
const RUNNING = { table: 'coil', address: 0 };

describe('a Modbus register map that does not fit the device kind is refused, naming it', () => {
  it.each([
    ['running on a level sensor', level({ ...HOST, mm: MM, running: RUNNING }), "flood.rooms[0].levels[0].modbus.running: running is a pump's running signal; a level sensor's register map gives mm only"],
    ['amps on a level sensor', level({ ...HOST, mm: MM, amps: MM }), "flood.rooms[0].levels[0].modbus.amps: amps is a pump's motor current; a level sensor's register map gives mm only"],
    ['a level sensor without mm', level({ ...HOST }), "flood.rooms[0].levels[0].modbus.mm: a level sensor's register map needs mm: the register that holds the water level in mm above the pit floor"],
    ['mm on a pump', pump({ ...HOST, running: RUNNING, mm: MM }), "flood.rooms[0].pumps[0].modbus.mm: mm is a level sensor's water level; a pump's register map gives running and amps only"],
    ['a pump without running', pump({ ...HOST, amps: MM }), "flood.rooms[0].pumps[0].modbus.running: a pump's register map needs running: the coil, discrete input or register bit that says the motor runs"],
    ['an unknown field', pump({ ...HOST, running: RUNNING, speed: MM }), "flood.rooms[0].pumps[0].modbus.speed: unknown field; a pump's modbus block has host, port, unitId, pollSec, running, amps"],
  ])('%s', (_what, file, message) => {
    expect(refusal(file)).toContain(message);
  });
});

describe('a point that cannot be read is refused, naming it', () => {
  it.each([
    ['a level from a coil', level({ ...HOST, mm: { table: 'coil', address: 0 } }), 'levels[0].modbus.mm.table: a number comes from an input-register or holding-register (coils and discrete inputs hold one bit)'],
    ['an unknown table', pump({ ...HOST, running: { table: 'register', address: 0 } }), 'pumps[0].modbus.running.table: must be one of coil, discrete-input, input-register, holding-register'],
    ['an unknown type', level({ ...HOST, mm: { ...MM, type: 'float64' } }), 'levels[0].modbus.mm.type: must be one of uint16, int16, uint32, int32, float32'],
    ['an unknown word order', level({ ...HOST, mm: { ...MM, type: 'float32', wordOrder: 'BADC' } }), 'levels[0].modbus.mm.wordOrder: must be high-first (ABCD) or low-first (CDAB)'],
    ['a 32-bit value past the last register', level({ ...HOST, mm: { ...MM, address: 65535, type: 'uint32' } }), 'levels[0].modbus.mm.address: a uint32 at 65535 runs past register 65535'],
    ['a Modicon-style address', level({ ...HOST, mm: { ...MM, address: 400001 } }), 'levels[0].modbus.mm.address: must be 0..65535 (the protocol address, counted from 0)'],
    ['scale 0', level({ ...HOST, mm: { ...MM, scale: 0 } }), 'levels[0].modbus.mm.scale: must not be 0'],
    ['a misspelt point field', level({ ...HOST, mm: { ...MM, scael: 0.1 } }), 'levels[0].modbus.mm: unknown field "scael"; a point has table, address, type, wordOrder, scale, offset'],
    ['a bit of a coil', pump({ ...HOST, running: { ...RUNNING, bit: 2 } }), 'pumps[0].modbus.running.bit: a coil is one bit already; bit applies to registers only'],
    ['bit 16', pump({ ...HOST, running: { table: 'holding-register', address: 0, bit: 16 } }), 'pumps[0].modbus.running.bit: must be 0..15'],
    ['no host', level({ mm: MM }), 'levels[0].modbus.host'],
    ['unit 256', level({ ...HOST, unitId: 256, mm: MM }), 'levels[0].modbus.unitId: must be 0..255'],
    ['port 0', level({ ...HOST, port: 0, mm: MM }), 'levels[0].modbus.port: must be a port number 1..65535'],
    ['polled less often than it reports', level({ ...HOST, pollSec: 20, mm: MM }), "levels[0].modbus.pollSec: must not exceed the device's intervalSec (10 s), or the device would be judged silent between polls"],
  ])('%s', (_what, file, message) => {
    expect(refusal(file)).toContain(message);
  });

  it('fills the defaults of a minimal map', () => {
    const site = parseSite(level({ ...HOST, mm: MM }));
    expect(site.rooms[0]!.levels[0]!.modbus).toEqual({ host: '127.0.0.1', port: 502, unitId: 1, pollSec: 1, mm: { table: 'holding-register', address: 0, type: 'uint16', wordOrder: 'high-first', scale: 1, offset: 0 } });
    expect(site.rooms[0]!.levels[1]!.modbus).toBeUndefined();
  });
});

describe('the bundled Modbus variant of the site', () => {
  const path = join(dirname(DEFAULT_SITE_PATH), 'jining-innovation-valley-modbus.json');

  it('is the bundled site with a pump panel and a level transmitter on Modbus TCP, nothing else changed', () => {
    const strip = (raw: { flood: { rooms: Array<{ levels: Array<Record<string, unknown>>; pumps: Array<Record<string, unknown>> }> } }) => {
      for (const room of raw.flood.rooms) {
        for (const d of [...room.levels, ...room.pumps]) {
          delete d.modbus;
          delete d.name;
          delete d.nameZh;
        }
      }
      return raw;
    };
    const variant = JSON.parse(readFileSync(path, 'utf8'));
    const plain = JSON.parse(readFileSync(DEFAULT_SITE_PATH, 'utf8'));
    expect(strip(variant)).toEqual(strip(plain));
    const site = loadSite(path);
    const room = site.rooms[0]!;
    expect(room.levels.map((l) => l.modbus?.port ?? null)).toEqual([null, 5021]);
    expect(room.pumps.map((p) => [p.modbus?.port, p.modbus?.unitId, p.modbus?.running.address])).toEqual([
      [5020, 1, 0],
      [5020, 1, 1],
    ]);
  });
});
