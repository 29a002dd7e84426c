/**
 * The simulators' flood scenarios through the alert engine, in process and in simulated time: the
 * simulation's messages are decoded as ingest decodes them and put on the bus in time order, the engine's
 * clock follows the simulation and its tick runs every simulated second. Asserts the alerts that open, in
 * order, and that no rule opens twice on the same subject over the whole scenario (normal pump cycling
 * must not make an alert per cycle). The MQTT round trip is covered by alerts-mqtt.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertEngine, SqliteAlertRepository, SqliteIncidentRepository } from '../../ingest/src/alerts/index.ts';
import { EventBus, type AlertChanged } from '../../ingest/src/bus.ts';
import { decodeMessage, Topics } from '@parkops/contract/index.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { createSimulation } from '../../simulators/src/index.ts';

const START = Date.parse('2026-07-15T02:00:00Z');

async function runScenario(scenario: string, hours: number): Promise<{ changes: (AlertChanged & { min: number })[]; engine: AlertEngine; close: () => Promise<void> }> {
  const site = loadSite();
  const sim = createSimulation({ site, scenarios: scenario, seed: 7, startAt: START, warmUp: false });
  const dir = mkdtempSync(join(tmpdir(), 'parkops-alert-scenario-'));
  const db = openDatabase(dir);
  const log = createLogger('silent');
  const bus = new EventBus(log);
  const clock = { t: START, now: () => clock.t };
  const topics = new Topics();
  const engine = new AlertEngine({ repo: new SqliteAlertRepository(db), incidents: new SqliteIncidentRepository(db), bus, site, topics, log, clock, publisher: { publish: async () => undefined } });
  await engine.start();
  const changes: (AlertChanged & { min: number })[] = [];
  bus.on('alert.changed', (e) => void changes.push({ ...e, min: (clock.t - START) / 60_000 }));
  const latest = new Map<string, number>();
  for (let t = START; t < START + hours * 3_600_000; t += 1000) {
    for (const msg of sim.advanceTo(t)) {
      if (msg.kind === 'bay' || msg.kind === 'gate') continue; // the flood rooms are what these scenarios act on
      clock.t = msg.at;
      const r = decodeMessage(msg.topic, Buffer.from(msg.payload), { topics, site, receivedAt: msg.at });
      if (!r.ok) continue;
      const applied = r.reading.ts >= (latest.get(r.reading.subject) ?? -Infinity);
      if (applied) latest.set(r.reading.subject, r.reading.ts);
      bus.emit('reading.accepted', { reading: r.reading, duplicate: false, applied, receivedAt: msg.at });
      await engine.settled();
    }
    clock.t = t;
    engine.tick();
    // Changes are announced once stored: let them out before the clock moves on (their `min`).
    await engine.settled();
  }
  return {
    changes,
    engine,
    close: async () => {
      await engine.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const opened = (changes: AlertChanged[]) => changes.filter((c) => c.change === 'opened').map((c) => `${c.alert.rule} ${c.alert.subject}`);
function expectNothingOpenedTwice(changes: AlertChanged[]): void {
  const all = opened(changes);
  expect(all, 'an alert opened twice for one rule and subject').toEqual([...new Set(all)]);
}

const ROOM = 'flood/b1-power';

describe('simulator scenarios through the alert engine', () => {
  it('storm: rise, then the level band by band to critical; one incident; everything resolves', async () => {
    const run = await runScenario('storm', 3.5);
    try {
      expectNothingOpenedTwice(run.changes);
      expect(opened(run.changes)).toEqual([`flood.rise ${ROOM}/levels`, `flood.level ${ROOM}/levels`]);
      const level = run.changes.filter((c) => c.alert.rule === 'flood.level' && ['opened', 'worsened', 'resolved'].includes(c.change));
      expect(level.map((c) => [c.change, (c.alert.details?.rule === 'flood.level' ? c.alert.details.band : c.alert.state)])).toEqual([
        ['opened', 'warning'],
        ['worsened', 'alarm'],
        ['worsened', 'critical'],
        ['resolved', 'warning'],
      ]);
      const incidents = await run.engine.incidents();
      expect(incidents).toHaveLength(1);
      expect(incidents[0]).toMatchObject({ state: 'closed', room: 'b1-power' });
      expect(incidents[0]!.peakMm).toBeGreaterThan(700);
    } finally {
      await run.close();
    }
  });

  it('pump-failure: the duty pump failed to start, before the water reaches the warning band', async () => {
    const run = await runScenario('pump-failure', 3);
    try {
      expectNothingOpenedTwice(run.changes);
      expect(opened(run.changes)).toEqual([`pump.failed-start ${ROOM}/pumps/P1`, `flood.rise ${ROOM}/levels`, `flood.level ${ROOM}/levels`]);
    } finally {
      await run.close();
    }
  });

  it('pump-jam: the jam by its current first, then no water moved', async () => {
    const run = await runScenario('pump-jam', 3);
    try {
      expectNothingOpenedTwice(run.changes);
      const all = opened(run.changes);
      expect(all[0]).toBe(`pump.current ${ROOM}/pumps/P1`);
      expect(all).toContain(`pump.no-effect ${ROOM}/pumps/P1`);
      expect(run.changes.find((c) => c.alert.rule === 'pump.current')!.alert).toMatchObject({ severity: 'critical' });
      expect(run.changes.find((c) => c.alert.rule === 'pump.current')!.alert.details).toMatchObject({ kind: 'jam' });
    } finally {
      await run.close();
    }
  });

  it('sensor-dropout: the silent level sensor is one alert that resolves when it comes back; no flood alert', async () => {
    const run = await runScenario('sensor-dropout', 1);
    try {
      expectNothingOpenedTwice(run.changes);
      const stale = run.changes.filter((c) => c.alert.rule === 'device.stale' && c.change !== 'updated');
      expect(stale.map((c) => [c.change, c.alert.subject])).toEqual([
        ['opened', `${ROOM}/levels/L2`],
        ['resolved', `${ROOM}/levels/L2`],
      ]);
      // Silent 30 s after its last reading, back after 30 minutes.
      expect(stale[1]!.min - stale[0]!.min).toBeGreaterThan(25);
      expect(opened(run.changes)).toEqual([`device.stale ${ROOM}/levels/L2`]);
    } finally {
      await run.close();
    }
  });
});
