import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from './testing.ts';

const LEVEL = 'flood.level';
const STALE = 'device.stale';
let h!: Harness;
useHarness((x) => (h = x));

const pumpsOk = () => ({ P1: { running: true, amps: 5 }, P2: { running: true, amps: 5 } });

describe('a reading is proof of life', () => {
  it('the reported bug: both sensors once said offline, then read 800 and 805 mm: critical at once, an incident, not stale', async () => {
    await h.run(30, () => 100, { pumps: pumpsOk });
    await h.status('L1', false);
    await h.status('L2', false);
    // Offline is a "device silent" alert, and the room is blind: critical.
    expect(h.openOf(STALE).map((a) => [a.subject, a.severity]).sort()).toEqual([
      ['flood/b1/levels/L1', 'critical'],
      ['flood/b1/levels/L2', 'critical'],
    ]);
    await h.advance(5000);
    await h.levels([800, 805]);
    // Both fresh sensors are at or above critical (700): the band is entered at once, in the reading handler.
    const level = h.openOf(LEVEL);
    expect(level.map((a) => [a.severity, a.value])).toEqual([['critical', 805]]);
    expect((await h.engine.incidents()).map((i) => i.state)).toEqual(['open']);
    // The readings cleared offline: no device-silent alert stands, and the judgement shows the sensors fresh.
    expect(h.openOf(STALE)).toEqual([]);
    const j = h.engine.floodJudgement('b1')!;
    expect(j.level).toMatchObject({ mm: 805, band: 'critical', from: 'L2', sensors: ['L1', 'L2'] });
    expect(j.levels.map((l) => [l.id, l.stale, l.online])).toEqual([
      ['L1', false, true],
      ['L2', false, true],
    ]);
  });

  it('offline never resolves or delays a level alert while readings keep arriving', async () => {
    await h.run(40, () => 720, { pumps: pumpsOk });
    const id = h.openOf(LEVEL)[0]!.id;
    // Someone on the LAN keeps publishing offline for both sensors between their readings.
    for (let i = 0; i < 30; i++) {
      await h.status('L1', false);
      await h.status('L2', false);
      await h.advance(5000);
      await h.levels(720);
      await h.advance(5000);
      expect(h.openOf(LEVEL).map((a) => [a.id, a.severity])).toEqual([[id, 'critical']]);
    }
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened']);
  });

  it('offline before the flood does not hold back a band that has to wait its hold', async () => {
    await h.run(30, () => 100, { pumps: pumpsOk });
    await h.status('L1', false);
    await h.status('L2', false);
    // Warning is 300 mm with a 30 s hold; offline repeated all along changes nothing about it.
    for (let t = 0; t < 40; t += 10) {
      await h.status('L1', false);
      await h.levels(320);
      await h.advance(10_000);
    }
    expect(h.openOf(LEVEL).map((a) => a.severity)).toEqual(['warning']);
  });

  it('a back-filled reading received now is proof of life too; a duplicate is not', async () => {
    await h.run(30, () => 100, { pumps: pumpsOk });
    await h.status('P1', false);
    expect(h.openOf(STALE).map((a) => a.subject)).toEqual(['flood/b1/pumps/P1']);
    // A QoS 1 redelivery of a reading already stored says nothing new.
    await h.emit({ kind: 'pump', subject: 'flood/b1/pumps/P1', ts: Date.now() - 30_000, roomId: 'b1', pumpId: 'P1', running: true, amps: 5 }, { applied: false, duplicate: true });
    expect(h.openOf(STALE).map((a) => a.subject)).toEqual(['flood/b1/pumps/P1']);
    // An older reading the pump buffered while its link was down, arriving now: it is talking to us.
    await h.emit({ kind: 'pump', subject: 'flood/b1/pumps/P1', ts: Date.now() - 60_000, roomId: 'b1', pumpId: 'P1', running: true, amps: 5 }, { applied: false });
    expect(h.openOf(STALE)).toEqual([]);
    expect(h.changesOf(STALE).map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('offline stands until the next reading or online; silence after a reading is measured from its receipt', async () => {
    await h.run(30, () => 100, { pumps: pumpsOk });
    await h.status('L2', false);
    expect(h.engine.floodJudgement('b1')!.levels.find((l) => l.id === 'L2')).toMatchObject({ stale: true, online: false });
    await h.level('L2', 100);
    expect(h.engine.floodJudgement('b1')!.levels.find((l) => l.id === 'L2')).toMatchObject({ stale: false, online: true });
    // A reading stamped an hour ago by a device with a wrong clock still counts from when it arrived.
    await h.emit({ kind: 'level', subject: 'flood/b1/levels/L1', ts: Date.now() - 3_600_000, roomId: 'b1', sensorId: 'L1', mm: 100 }, { applied: true });
    expect(h.engine.floodJudgement('b1')!.levels.find((l) => l.id === 'L1')).toMatchObject({ stale: false });
    await h.advance(31_000);
    expect(h.engine.floodJudgement('b1')!.levels.map((l) => l.stale)).toEqual([true, true]);
  });

  it('the level and rise alerts keep working for a pump reported offline whose readings arrive', async () => {
    await h.status('P1', false);
    await h.run(80, () => 300); // above P1's start level, P1 reporting "not running"
    // The pump's readings cleared its offline flag: the failed start is diagnosed, not hidden.
    expect(h.openOf('pump.failed-start').map((a) => a.subject)).toEqual(['flood/b1/pumps/P1']);
    expect(h.openOf(STALE).filter((a) => a.subject.includes('P1'))).toEqual([]);
  });
});
