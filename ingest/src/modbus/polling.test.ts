import { describe, expect, it } from 'vitest';
import { parseSite } from '@parkops/contract/site/index.ts';
import { testSiteFile } from '../alerts/testing.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { modbusDevices, payloadOf, pointsOf, ReportGate } from './devices.ts';
import { MAX_READ, planReads, pointValues, type PointRead } from './read-plan.ts';
import { retryDelay } from './peer.ts';

const pt = (key: string, address: number, count = 1, table: PointRead['table'] = 'holding-register', unitId = 1): PointRead => ({ key, device: key.split('.')[0]!, unitId, table, address, count });

describe('planReads', () => {
  it('merges contiguous and overlapping points of one unit and table into one read', () => {
    const reqs = planReads([pt('P2.amps', 1), pt('P1.amps', 0), pt('L1.mm', 2, 2), pt('L2.mm', 3, 1)]);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]).toMatchObject({ unitId: 1, table: 'holding-register', address: 0, count: 4 });
    expect(reqs[0]!.points.map((p) => p.key)).toEqual(['P1.amps', 'P2.amps', 'L1.mm', 'L2.mm']);
  });

  it('does not read across a gap, another table or another unit', () => {
    const reqs = planReads([pt('A.x', 0), pt('B.x', 2), pt('C.x', 0, 1, 'input-register'), pt('D.x', 0, 1, 'holding-register', 2), pt('E.x', 0, 1, 'coil'), pt('F.x', 1, 1, 'coil')]);
    expect(reqs.map((r) => `${r.unitId}/${r.table}/${r.address}+${r.count}`).sort()).toEqual(['1/coil/0+2', '1/holding-register/0+1', '1/holding-register/2+1', '1/input-register/0+1', '2/holding-register/0+1']);
  });

  it('splits a run longer than one request may ask for (125 registers)', () => {
    const points = Array.from({ length: 200 }, (_, i) => pt(`D${i}.x`, i));
    const reqs = planReads(points);
    expect(reqs.map((r) => [r.address, r.count])).toEqual([
      [0, MAX_READ['holding-register']],
      [125, 75],
    ]);
  });

  it('hands each point its own slice of the answer', () => {
    const [req] = planReads([pt('P1.amps', 10), pt('L1.mm', 11, 2)]);
    expect(pointValues(req!, req!.points[1]!, [7, 8, 9])).toEqual([8, 9]);
  });
});

describe('devices from the site file', () => {
  const site = parseSite(
    testSiteFile({
      levels: [
        { id: 'L1', name: 'Radar', intervalSec: 10, modbus: { host: '10.0.0.7', mm: { table: 'input-register', address: 4, type: 'float32' } } },
        { id: 'L2', name: 'MQTT sensor' },
      ],
      pumps: [
        { id: 'P1', name: 'Duty', role: 'duty', startMm: 250, stopMm: 80, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30, modbus: { host: '10.0.0.8', port: 1502, unitId: 3, running: { table: 'coil', address: 0 }, amps: { table: 'holding-register', address: 1, scale: 0.1 } } },
        { id: 'P2', name: 'Standby', role: 'standby', startMm: 450, stopMm: 150, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30, modbus: { host: '10.0.0.8', port: 1502, unitId: 3, running: { table: 'holding-register', address: 5, bit: 1 } } },
      ],
    }),
  );
  const devices = modbusDevices(site, new Topics('park'));

  it('lists the Modbus devices with their peers and section-1 topics', () => {
    expect(devices.map((d) => [d.id, d.peer, d.topic, d.pollMs, d.intervalMs])).toEqual([
      ['L1', '10.0.0.7:502', 'park/flood/b1/levels/L1', 1000, 10_000],
      ['P1', '10.0.0.8:1502', 'park/flood/b1/pumps/P1', 1000, 30_000],
      ['P2', '10.0.0.8:1502', 'park/flood/b1/pumps/P2', 1000, 30_000],
    ]);
    expect(devices.flatMap(pointsOf).map((p) => `${p.key}@${p.unitId}/${p.table}/${p.address}+${p.count}`)).toEqual([
      'L1.mm@1/input-register/4+2',
      'P1.running@3/coil/0+1',
      'P1.amps@3/holding-register/1+1',
      'P2.running@3/holding-register/5+1',
    ]);
  });

  it('makes section-1 payloads from the values read', () => {
    const [l1, p1, p2] = devices;
    expect(payloadOf(l1!, new Map([['L1.mm', [0x4316, 0x4000]]]))).toBe('{"mm":150.25}');
    expect(payloadOf(p1!, new Map([['P1.running', [true]], ['P1.amps', [56]]]))).toBe('{"running":true,"amps":5.6}');
    expect(payloadOf(p2!, new Map([['P2.running', [0b10]]]))).toBe('{"running":true}');
    expect(() => payloadOf(p1!, new Map([['P1.running', [true]]]))).toThrow('no value read for amps');
  });
});

describe('ReportGate: store on change, or as a heartbeat every intervalSec', () => {
  it('passes a change at once and an unchanged value only once per interval', () => {
    const gate = new ReportGate(30_000);
    const polls: Array<[number, string]> = [];
    // One poll a second for two minutes; the value changes at 45 s and back at 47 s.
    for (let t = 0; t <= 120_000; t += 1000) {
      const v = t >= 45_000 && t < 47_000 ? '{"running":true}' : '{"running":false}';
      if (gate.due(v, t)) {
        gate.sent(v, t);
        polls.push([t, v]);
      }
    }
    expect(polls).toEqual([
      [0, '{"running":false}'],
      [30_000, '{"running":false}'],
      [45_000, '{"running":true}'],
      [47_000, '{"running":false}'],
      [77_000, '{"running":false}'],
      [107_000, '{"running":false}'],
    ]);
  });

  it('after forget() the next reading goes out even if unchanged', () => {
    const gate = new ReportGate(30_000);
    gate.sent('{"mm":1}', 0);
    expect(gate.due('{"mm":1}', 5000)).toBe(false);
    gate.forget();
    expect(gate.due('{"mm":1}', 5000)).toBe(true);
  });
});

describe('retryDelay', () => {
  it('doubles from the first retry and stays at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => retryDelay(n, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(retryDelay(0, 1000, 30_000)).toBe(0);
  });
});
