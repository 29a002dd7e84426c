import { describe, expect, it } from 'vitest';
import { AlertNotAckable, AlertNotFound } from './alert-engine.ts';
import { useHarness, type Harness } from './testing.ts';

const LEVEL = 'flood.level';
let h!: Harness;
useHarness((x) => (h = x));

const pumpsOk = () => ({ P1: { running: true, amps: 5 }, P2: { running: true, amps: 5 } });
/** Opens a critical level alert and returns its id. */
async function critical(): Promise<string> {
  await h.run(20, () => 100);
  await h.levels(720);
  return h.changesOf(LEVEL)[0]!.alert.id;
}

describe('acknowledgement', () => {
  it('moves a firing alert to acknowledged with who and the note, republishes it retained and audits it', async () => {
    const id = await critical();
    await h.advance(5000);
    const acked = await h.engine.acknowledge(id, { username: 'wang.li', ip: '10.0.0.7' }, 'Team on the way with the mobile pump');
    expect(acked).toMatchObject({ id, state: 'acknowledged', ackedBy: 'wang.li', ackNote: 'Team on the way with the mobile pump', ackedAt: new Date(Date.now()).toISOString() });
    expect(h.changes.at(-1)).toMatchObject({ change: 'acknowledged', alert: { id, state: 'acknowledged' } });
    await h.engine.settled();
    expect(JSON.parse(h.publisher.retained().get(`park/alerts/${id}`)!)).toMatchObject({ state: 'acknowledged', ackedBy: 'wang.li' });
    expect(h.audits).toEqual([{ actor: 'wang.li', action: 'alert.acknowledge', target: id, ip: '10.0.0.7', detail: { rule: LEVEL, subject: 'flood/b1/levels', note: 'Team on the way with the mobile pump' } }]);
    expect(await h.engine.get(id)).toEqual(acked);
  });

  it('refuses a second acknowledgement and an unknown id with clear messages', async () => {
    const id = await critical();
    await h.engine.acknowledge(id, { username: 'wang.li' });
    await expect(h.engine.acknowledge(id, { username: 'zhao' })).rejects.toThrow(AlertNotAckable);
    await expect(h.engine.acknowledge(id, { username: 'zhao' })).rejects.toThrow(/already acknowledged by wang\.li/);
    await expect(h.engine.acknowledge('al-nope', { username: 'zhao' })).rejects.toThrow(AlertNotFound);
    await expect(h.engine.acknowledge('al-nope', { username: 'zhao' })).rejects.toThrow('no alert with id "al-nope"');
  });

  it('an alert that clears before anyone acknowledged it stays active until acknowledged', async () => {
    await h.run(40, () => 320);
    const id = h.changesOf(LEVEL)[0]!.alert.id;
    await h.run(130, () => 100);
    expect((await h.engine.get(id))!.state).toBe('resolved');
    expect((await h.engine.list({ state: 'active' })).map((a) => a.id)).toContain(id);

    const acked = await h.engine.acknowledge(id, { username: 'zhao' }, 'checked, dry');
    expect(acked).toMatchObject({ state: 'resolved', ackedBy: 'zhao', ackNote: 'checked, dry' });
    expect((await h.engine.list({ state: 'active' })).map((a) => a.id)).not.toContain(id);
    expect((await h.engine.list({ state: 'all' })).find((a) => a.id === id)).toMatchObject({ state: 'resolved', ackedBy: 'zhao' });
    await expect(h.engine.acknowledge(id, { username: 'zhao' })).rejects.toThrow(/resolved and was acknowledged by zhao/);
  });

  it('lists newest first and filters by time range', async () => {
    await h.run(70, () => 320); // level warning at 30 s, P1 failed to start at 60 s
    await h.status('P2', false); // stale P2, later
    const all = await h.engine.list({ state: 'all' });
    expect(all.map((a) => a.rule)).toEqual(['device.stale', 'pump.failed-start', LEVEL]);
    const startedLevel = Date.parse(all[2]!.startedAt);
    expect((await h.engine.list({ state: 'all', to: startedLevel })).map((a) => a.rule)).toEqual([LEVEL]);
    expect((await h.engine.list({ state: 'active', from: Date.now() + 1000 })).map((a) => a.rule)).toEqual(['device.stale', 'pump.failed-start', LEVEL]);
  });
});

describe('expiry, re-escalation and escalation', () => {
  it('an acknowledged critical alert fires again after ackExpiresMin while its condition holds', async () => {
    const id = await critical();
    await h.engine.acknowledge(id, { username: 'wang.li' }, 'on it');
    await h.run(29 * 60, () => 720, { pumps: pumpsOk });
    expect((await h.engine.get(id))!.state).toBe('acknowledged');
    await h.run(70, () => 720, { pumps: pumpsOk });
    const a = (await h.engine.get(id))!;
    expect(a.state).toBe('firing');
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened', 'acknowledged', 'renotified']);
  });

  it('a warning acknowledgement does not expire', async () => {
    await h.run(40, () => 320, { pumps: pumpsOk });
    const id = h.changesOf(LEVEL)[0]!.alert.id;
    await h.engine.acknowledge(id, { username: 'zhao' });
    await h.run(45 * 60, () => 320, { pumps: pumpsOk });
    expect((await h.engine.get(id))!.state).toBe('acknowledged');
  });

  it('an acknowledged alert re-escalates at once when the next band is reached', async () => {
    await h.run(40, () => 320, { pumps: pumpsOk });
    const id = h.changesOf(LEVEL)[0]!.alert.id;
    await h.engine.acknowledge(id, { username: 'zhao' });
    await h.levels(720); // critical: no hold
    expect(h.changesOf(LEVEL).map((c) => [c.change, c.alert.state, c.alert.severity])).toEqual([
      ['opened', 'firing', 'warning'],
      ['acknowledged', 'acknowledged', 'warning'],
      ['worsened', 'firing', 'critical'],
    ]);
  });

  it('a critical alert unacknowledged for escalateAfterMin is escalated once; an acknowledged one is not', async () => {
    const id = await critical();
    await h.run(9 * 60, () => 720, { pumps: pumpsOk });
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened']);
    await h.run(70, () => 720, { pumps: pumpsOk });
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened', 'escalated']);
    await h.run(20 * 60, () => 720, { pumps: pumpsOk });
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened', 'escalated']);
    const events = h.db.prepare('SELECT change, note FROM alert_events WHERE alert_id = ? ORDER BY seq').all(id) as { change: string; note: string | null }[];
    expect(events[1]).toEqual({ change: 'escalated', note: 'unacknowledged for 10 min; escalation contacts: duty-manager' });

    await h.engine.acknowledge(id, { username: 'zhao' });
    await h.run(25 * 60, () => 720, { pumps: pumpsOk });
    // Expired after 30 min -> renotified; then 10 more minutes unacknowledged -> escalated again.
    await h.run(20 * 60, () => 720, { pumps: pumpsOk });
    expect(h.changesOf(LEVEL).map((c) => c.change)).toEqual(['opened', 'escalated', 'acknowledged', 'renotified', 'escalated']);
  });

  it('records every state change in alert_events', async () => {
    const id = await critical();
    await h.engine.acknowledge(id, { username: 'zhao' }, 'pumping');
    await h.run(200, () => 100, { pumps: pumpsOk });
    const events = h.db.prepare('SELECT change, state, actor, note FROM alert_events WHERE alert_id = ? ORDER BY seq').all(id);
    expect(events).toEqual([
      { change: 'opened', state: 'firing', actor: null, note: null },
      { change: 'acknowledged', state: 'acknowledged', actor: 'zhao', note: 'pumping' },
      { change: 'resolved', state: 'resolved', actor: null, note: null },
    ]);
  });
});
