import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from './testing.ts';

const LEVEL = 'flood.level';
const SUBJECT = 'flood/b1/levels';
let h!: Harness;
useHarness((x) => (h = x));

describe('water-level bands', () => {
  it('a level wobbling around the warning threshold for ten minutes makes exactly one alert', async () => {
    // 290, 310, 290, 310, ... mm: crosses warnMm 300 every 10 s, never leaves the 25 mm deadband.
    await h.run(600, (t) => (Math.round(t / 10) % 2 === 0 ? 290 : 310));
    const changes = h.changesOf(LEVEL);
    expect(changes.map((c) => c.change)).toEqual(['opened']);
    expect(changes[0]!.alert).toMatchObject({ severity: 'warning', state: 'firing', subject: SUBJECT, room: 'b1' });
  });

  it('waits holdSec before firing a warning, and a short excursion fires nothing', async () => {
    await h.run(20, () => 320); // above warnMm for 20 s < holdSec 30
    await h.run(60, () => 200); // well below the deadband
    expect(h.changesOf(LEVEL)).toEqual([]);

    await h.run(20, () => 320);
    expect(h.changesOf(LEVEL)).toEqual([]);
    await h.run(20, () => 320); // 40 s above: past the hold
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened']);
  });

  it('fires critical at once, inside the reading handler, and publishes it retained', async () => {
    await h.run(30, () => 100);
    await h.levels(720);
    const opened = h.changesOf(LEVEL);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.alert).toMatchObject({ severity: 'critical', state: 'firing', value: 720 });
    const topic = `park/alerts/${opened[0]!.alert.id}`;
    const msg = h.publisher.messages.find((m) => m.topic === topic)!;
    expect(msg.opts).toEqual({ qos: 1, retain: true });
    expect(JSON.parse(msg.payload)).toMatchObject({ id: opened[0]!.alert.id, rule: LEVEL, state: 'firing', severity: 'critical' });
  });

  it('a spike on one sensor is not a flood; both sensors reading it is', async () => {
    await h.run(30, () => 100);
    await h.levels([800, 100]); // L1 spikes, L2 still low
    await h.run(20, () => 100);
    expect(h.changesOf(LEVEL)).toEqual([]);
    await h.levels(760);
    expect(h.changesOf(LEVEL).map((c) => c.alert.severity)).toEqual(['critical']);
  });

  it('with one sensor silent, the other one alone decides', async () => {
    await h.run(30, () => 100);
    // L2 goes silent; L1 keeps reporting.
    for (let t = 0; t < 40; t += 10) {
      await h.level('L1', 100);
      await h.advance(10_000);
    }
    await h.level('L1', 750);
    expect(h.changesOf(LEVEL).map((c) => c.alert.severity)).toEqual(['critical']);
  });

  it('with one sensor offline, the other one alone decides', async () => {
    await h.run(30, () => 100);
    await h.status('L2', false);
    await h.level('L1', 750);
    expect(h.changesOf(LEVEL).map((c) => c.alert.severity)).toEqual(['critical']);
  });

  it('climbing to the alarm band worsens the same alert instead of opening a second one', async () => {
    await h.run(40, () => 320);
    await h.run(40, () => 520);
    const changes = h.changesOf(LEVEL);
    expect(changes.map((c) => [c.change, c.alert.severity])).toEqual([
      ['opened', 'warning'],
      ['worsened', 'critical'],
    ]);
    expect(new Set(changes.map((c) => c.alert.id)).size).toBe(1);
    expect(changes[1]!.alert.message).toContain('alarm band');
  });

  it('resolves only after the level stayed below threshold - deadband for clearHoldSec, and clears the retained message', async () => {
    const duty = () => ({ P1: { running: true, amps: 5 }, P2: { running: false, amps: 0 } });
    await h.run(40, () => 320, { pumps: duty });
    const id = h.changesOf(LEVEL)[0]!.alert.id;
    await h.run(100, () => 290, { pumps: duty }); // below 300 but inside the deadband: stays in the band
    await h.run(110, () => 260, { pumps: duty }); // below 275 for 110 s < clearHoldSec 120
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened']);
    await h.run(20, () => 260, { pumps: duty });
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened', 'resolved']);

    await h.engine.settled();
    const topic = `park/alerts/${id}`;
    const mine = h.publisher.messages.filter((m) => m.topic === topic);
    const last2 = mine.slice(-2);
    expect(JSON.parse(last2[0]!.payload)).toMatchObject({ state: 'resolved' });
    expect(last2[0]!.opts.retain).toBe(false);
    expect(last2[1]).toMatchObject({ payload: '', opts: { retain: true } });
    expect(h.publisher.retained().has(topic)).toBe(false);
  });

  it('while a pump is faulty, the standby cycling the level through the band stays one alert', async () => {
    await h.run(70, () => 320); // warning, and P1 failed to start
    expect(h.changesOf('pump.failed-start').map((c) => c.change)).toEqual(['opened']);
    // The standby pumps down to 150 mm and stops; the water comes back: three cycles of 20 min.
    for (let i = 0; i < 3; i++) {
      await h.run(600, () => 150, { pumps: () => ({ P1: { running: false, amps: 0 }, P2: { running: false, amps: 0 } }) });
      await h.run(600, () => 420, { pumps: () => ({ P1: { running: false, amps: 0 }, P2: { running: true, amps: 5 } }) });
    }
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened']);
    // Without a faulty pump the same 10 minutes below the band resolves it.
    await h.pump('P1', { running: true, amps: 5 });
    await h.run(600, () => 150, { pumps: () => ({ P1: { running: true, amps: 5 }, P2: { running: false, amps: 0 } }) });
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('duplicates and back-fill do not move the level', async () => {
    await h.run(30, () => 100);
    await h.emit({ kind: 'level', subject: 'flood/b1/levels/L1', ts: Date.now() - 60_000, roomId: 'b1', sensorId: 'L1', mm: 800 }, { applied: false });
    await h.emit({ kind: 'level', subject: 'flood/b1/levels/L2', ts: Date.now() - 60_000, roomId: 'b1', sensorId: 'L2', mm: 800 }, { applied: false, duplicate: true });
    await h.run(40, () => 100);
    expect(h.changesOf(LEVEL)).toEqual([]);
  });
});
