import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseSite } from '@parkops/contract/site/index.ts';
import { BASE_TIME, cleanupDirs, Harness, tempDir, testSiteFile } from './testing.ts';

const LEVEL = 'flood.level';
const pumpsOk = () => ({ P1: { running: true, amps: 5 }, P2: { running: true, amps: 5 } });
const started: Harness[] = [];

async function engineOn(dir: string): Promise<Harness> {
  const h = await new Harness(dir, parseSite(testSiteFile())).start();
  started.push(h);
  return h;
}

beforeEach(() => {
  vi.useFakeTimers({ now: BASE_TIME });
});
afterEach(async () => {
  for (const h of started.splice(0)) await h.stop();
  vi.useRealTimers();
  cleanupDirs();
});

describe('restart on the same SQLite file', () => {
  it('an open, acknowledged alert is still acknowledged after a restart, and its ack expiry runs from the stored time', async () => {
    const dir = tempDir();
    const first = await engineOn(dir);
    await first.run(20, () => 100, { pumps: pumpsOk });
    await first.levels(720);
    const id = first.changesOf(LEVEL)[0]!.alert.id;
    await first.advance(60_000);
    await first.levels(720);
    const ackedAt = Date.now();
    await first.engine.acknowledge(id, { username: 'wang.li' }, 'pumping out');
    await first.run(4 * 60, () => 720, { pumps: pumpsOk });
    await first.stop();

    vi.advanceTimersByTime(2 * 60_000); // two minutes down
    const second = await engineOn(dir);
    // Nothing changed: same alert, still acknowledged, nothing opened twice, retained message re-asserted.
    expect((await second.engine.list({ state: 'active' })).filter((a) => a.rule === LEVEL)).toEqual([
      expect.objectContaining({ id, state: 'acknowledged', ackedBy: 'wang.li', ackNote: 'pumping out', severity: 'critical' }),
    ]);
    await second.engine.settled();
    expect(JSON.parse(second.publisher.retained().get(`park/alerts/${id}`)!)).toMatchObject({ id, state: 'acknowledged' });

    // ackExpiresMin = 30: it expires 30 min after the acknowledgement, not 30 min after the restart.
    await second.run(30 * 60 - (Date.now() - ackedAt) / 1000 - 20, () => 720, { pumps: pumpsOk });
    expect((await second.engine.get(id))!.state).toBe('acknowledged');
    await second.run(30, () => 720, { pumps: pumpsOk });
    expect(second.changesOf(LEVEL).map((c) => c.change)).toEqual(['renotified']);
    const renotifiedAt = Date.parse(second.changesOf(LEVEL)[0]!.alert.updatedAt!);
    expect(renotifiedAt - ackedAt).toBeGreaterThanOrEqual(30 * 60_000);
    expect(renotifiedAt - ackedAt).toBeLessThan(30 * 60_000 + 2000);
    expect(second.changesOf(LEVEL).every((c) => c.alert.id === id)).toBe(true);
  });

  it('a hold timer started before the restart goes on from its stored start', async () => {
    const dir = tempDir();
    const first = await engineOn(dir);
    await first.run(20, () => 100, { pumps: pumpsOk });
    const aboveFrom = Date.now();
    await first.run(20, () => 320, { pumps: pumpsOk }); // 20 s of the 30 s hold
    await first.stop();

    const second = await engineOn(dir);
    await second.run(20, () => 320, { pumps: pumpsOk });
    const opened = second.changesOf(LEVEL);
    expect(opened.map((c) => c.change)).toEqual(['opened']);
    expect(Date.parse(opened[0]!.alert.startedAt) - aboveFrom).toBe(30_000);
  });

  it('a resolved, unacknowledged alert is still waiting for its acknowledgement after a restart', async () => {
    const dir = tempDir();
    const first = await engineOn(dir);
    await first.run(40, () => 320, { pumps: pumpsOk });
    await first.run(130, () => 100, { pumps: pumpsOk });
    const id = first.changesOf(LEVEL)[0]!.alert.id;
    expect((await first.engine.get(id))!.state).toBe('resolved');
    await first.stop();

    const second = await engineOn(dir);
    expect((await second.engine.list({ state: 'active' })).map((a) => a.id)).toContain(id);
    // Its retained message is cleared once more, in case the clear before the restart was lost.
    await second.engine.settled();
    expect(second.publisher.messages.filter((m) => m.topic === `park/alerts/${id}`)).toEqual([{ topic: `park/alerts/${id}`, payload: '', opts: { qos: 1, retain: true } }]);
    await second.engine.acknowledge(id, { username: 'zhao' });
    expect((await second.engine.list({ state: 'active' })).map((a) => a.id)).not.toContain(id);
  });

  it('engine downtime does not count as device silence', async () => {
    const dir = tempDir();
    const first = await engineOn(dir);
    await first.run(30, () => 100, { pumps: pumpsOk });
    await first.stop();
    vi.advanceTimersByTime(10 * 60_000);
    const second = await engineOn(dir);
    await second.run(20, () => 100, { pumps: pumpsOk });
    expect(second.changesOf('device.stale')).toEqual([]);
  });
});
