/**
 * The `storm` scenario in simulated time through the real alert engine and the real warnings module
 * (SQLite files; vitest's fake clock drives Date.now, the engine's tick and the storm-mode timer):
 * the simulated weather service's CAP rainstorm warning puts the B1 power room into storm mode before
 * the rain, and so before the first flood alert; the warning's Cancel ends it after the water is down.
 * Prints how far ahead of the first flood alert storm mode began (issue 21's closing note).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertEngine, SqliteAlertRepository, SqliteIncidentRepository } from '../../ingest/src/alerts/index.ts';
import { EventBus, type AlertChanged, type StormEnded, type StormStarted } from '../../ingest/src/bus.ts';
import { decodeMessage, Topics } from '../../ingest/src/contract/index.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { loadSite } from '../../ingest/src/site/index.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { SqliteWarningRepository, WarningService } from '../../ingest/src/warnings/index.ts';
import { createSimulation } from '../../simulators/src/index.ts';

const START = Date.parse('2026-07-15T02:00:00Z');
const MIN = 60_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('storm scenario: storm mode ahead of the water', () => {
  it.each([
    ['the storm two hours into the run (warning issued live)', 120],
    ['the storm five minutes into the run (warning already out at the start)', 5],
  ])('%s', async (_label, stormAfterMin) => {
    vi.useFakeTimers({ now: START - 1000 });
    const site = loadSite();
    const eventsAt = START + stormAfterMin * MIN;
    const sim = createSimulation({ site, scenarios: 'storm', seed: 7, startAt: START, warmUp: false, eventsAt });
    const dir = mkdtempSync(join(tmpdir(), 'parkops-storm-scenario-'));
    const db = openDatabase(dir);
    const log = createLogger('silent');
    const bus = new EventBus(log);
    const topics = new Topics();
    const engine = new AlertEngine({ repo: new SqliteAlertRepository(db), incidents: new SqliteIncidentRepository(db), bus, site, topics, log, publisher: { publish: async () => undefined } });
    const warnings = new WarningService({ repo: new SqliteWarningRepository(db), site, bus, log });
    await warnings.start();
    await engine.start();
    const alerts: Array<AlertChanged & { at: number }> = [];
    const started: StormStarted[] = [];
    const ended: StormEnded[] = [];
    bus.on('alert.changed', (e) => void alerts.push({ ...e, at: Date.now() }));
    bus.on('storm.started', (e) => void started.push(e));
    bus.on('storm.ended', (e) => void ended.push(e));
    try {
      const latest = new Map<string, number>();
      const end = eventsAt + 300 * MIN;
      for (let t = START; t < end; t += 1000) {
        for (const msg of sim.advanceTo(t)) {
          if (msg.kind === 'bay' || msg.kind === 'gate') continue;
          if (msg.at > Date.now()) await vi.advanceTimersByTimeAsync(msg.at - Date.now());
          if (msg.kind === 'warning') {
            const r = await warnings.receive(msg.payload, { via: 'mqtt', origin: msg.topic });
            expect(r.ok).toBe(true);
            continue;
          }
          const r = decodeMessage(msg.topic, Buffer.from(msg.payload), { topics, site, receivedAt: msg.at });
          if (!r.ok) continue;
          const applied = r.reading.ts >= (latest.get(r.reading.subject) ?? -Infinity);
          if (applied) latest.set(r.reading.subject, r.reading.ts);
          bus.emit('reading.accepted', { reading: r.reading, duplicate: false, applied, receivedAt: msg.at });
          // Alert changes are announced once stored: let them out before the clock moves on.
          await engine.settled();
        }
        await vi.advanceTimersByTimeAsync(t + 1000 - Date.now());
        await engine.settled();
      }

      const firstFlood = alerts.find((a) => a.change === 'opened' && a.alert.subject.startsWith('flood/'));
      expect(firstFlood).toBeDefined();
      expect(started).toHaveLength(1);
      const stormAt = started[0]!.at;
      // In force from the warning's onset, 30 minutes before the rain, or from its arrival if later.
      expect(stormAt).toBe(Math.max(eventsAt - 30 * MIN, START));
      expect(stormAt).toBeLessThan(firstFlood!.at);
      const leadMin = (firstFlood!.at - stormAt) / MIN;
      console.info(`storm ${stormAfterMin} min into the run: storm mode ${(eventsAt - stormAt) / MIN} min before the rain, first flood alert (${firstFlood!.alert.rule} ${firstFlood!.alert.subject}) ${((firstFlood!.at - eventsAt) / MIN).toFixed(1)} min after it began: storm mode ${leadMin.toFixed(1)} min ahead`);
      expect(leadMin).toBeGreaterThan(30);
      // Lifted by the weather service's Cancel, 250 minutes after the rain began.
      expect(ended.map((e) => [e.reason, (e.at - eventsAt) / MIN])).toEqual([['cancelled', 250]]);
      expect(warnings.stormMode('b1-power')).toBe(false);
    } finally {
      await engine.stop();
      await warnings.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
