/**
 * The `storm` scenario in simulated time through the real pipeline (ingest, SQLite store, alert engine,
 * warnings module, storm module; one SQLite file; vitest's fake clock drives Date.now, the engine's
 * tick, the storm-mode timer and the checklist): the simulated weather service's CAP rainstorm warning
 * puts the B1 power room into storm mode before the rain; the readiness checklist, evaluated from the
 * pumps' stored run log, flags the standby pump idle for 8 days before the rain; the storm rules raise
 * the first alerts; the warning's Cancel ends storm mode after the water is down.
 *
 * Each placement of the storm runs twice, with storm mode and without it (the room's `storm.enabled`
 * off, the same warning received), and prints how far ahead of the first rise and the first level
 * alert storm mode began, and how much earlier the storm rules raised them (the figures in docs/warnings.md).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertChanged, StormEnded, StormStarted } from '../../ingest/src/bus.ts';
import { loadSite, parseSite, type Site } from '@parkops/contract/site/index.ts';
import jining from '@parkops/contract/site/jining-innovation-valley.json' with { type: 'json' };
import { ROOM, StormWorld } from '../../ingest/src/storm/testing.ts';
import { StormText } from '../../ingest/src/storm/text.ts';
import { createSimulation } from '../../simulators/src/index.ts';

const START = Date.parse('2026-07-15T02:00:00Z');
const MIN = 60_000;

/** The bundled site with storm mode off for the room: the normal rules throughout. */
function withoutStormMode(): Site {
  const raw = structuredClone(jining) as { flood: { rooms: { storm?: { enabled?: boolean } }[] } };
  for (const r of raw.flood.rooms) r.storm = { ...r.storm, enabled: false };
  return parseSite(raw);
}

interface Outcome {
  stormAt: number | null;
  firstRise: number;
  firstLevel: number;
  started: StormStarted[];
  ended: StormEnded[];
  /** the timeline lines written when storm mode began */
  checklistAtStart: string[];
  /** the pumps-tested item as evaluated before the rain */
  pumpsBeforeRain: string | null;
}

const worlds: StormWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.stop();
    w.remove();
  }
  vi.useRealTimers();
});

async function runScenario(stormAfterMin: number, site: Site, opts: { untilFirstAlerts?: boolean } = {}): Promise<Outcome> {
  vi.useFakeTimers({ now: START - 1000 });
  const eventsAt = START + stormAfterMin * MIN;
  const sim = createSimulation({ site, scenarios: 'storm', seed: 7, startAt: START, warmUp: false, eventsAt });
  const w = new StormWorld(undefined, site);
  worlds.push(w);
  await w.start();
  const alerts: Array<AlertChanged & { at: number }> = [];
  const started: StormStarted[] = [];
  const ended: StormEnded[] = [];
  w.bus.on('alert.changed', (e) => void alerts.push({ ...e, at: Date.now() }));
  w.bus.on('storm.started', (e) => void started.push(e));
  w.bus.on('storm.ended', (e) => void ended.push(e));
  let checklistAtStart: string[] = [];
  let pumpsBeforeRain: string | null = null;
  const end = eventsAt + 300 * MIN;
  for (let t = START; t < end; t += 1000) {
    for (const msg of sim.advanceTo(t)) {
      if (msg.kind === 'bay' || msg.kind === 'gate') continue;
      if (msg.at > Date.now()) vi.advanceTimersByTime(msg.at - Date.now());
      if (msg.kind === 'warning') await w.warning(msg.payload);
      else w.send(msg.topic, msg.payload);
      // Alert changes are announced once stored: let them out before the clock moves on.
      await w.engine.settled();
    }
    vi.advanceTimersByTime(t + 1000 - Date.now());
    await w.engine.settled();
    if (t === eventsAt - 1000) {
      await w.settled();
      const p = w.storm.view(ROOM)?.checklist.find((i) => i.id === 'pumps-tested');
      pumpsBeforeRain = p ? new StormText(site).item(ROOM, p, Date.now(), 'en') : null;
    }
    // The run without storm mode is only measured: it stops once both first alerts are in.
    if (opts.untilFirstAlerts && ['flood.rise', 'flood.level'].every((r) => alerts.some((a) => a.change === 'opened' && a.alert.rule === r))) break;
    if (started.length > 0 && checklistAtStart.length === 0) {
      await w.settled();
      checklistAtStart = (await w.timeline()).filter((e) => e.kind === 'checklist-start').map((e) => e.detail ?? '');
    }
  }
  const first = (rule: string): number => alerts.find((a) => a.change === 'opened' && a.alert.rule === rule)?.at ?? Infinity;
  return { stormAt: started[0]?.at ?? null, firstRise: first('flood.rise'), firstLevel: first('flood.level'), started, ended, checklistAtStart, pumpsBeforeRain };
}

const fmt = (ms: number): string => (ms / MIN).toFixed(1);

describe('storm scenario: storm mode ahead of the water', () => {
  it.each([
    ['the storm two hours into the run (warning issued live)', 120],
    ['the storm five minutes into the run (warning already out at the start)', 5],
  ])(
    '%s',
    async (_label, stormAfterMin) => {
      const eventsAt = START + stormAfterMin * MIN;
      const normal = await runScenario(stormAfterMin, withoutStormMode(), { untilFirstAlerts: true });
      for (const w of worlds.splice(0)) {
        await w.stop();
        w.remove();
      }
      const storm = await runScenario(stormAfterMin, loadSite());

      // Without storm mode: the same warning, no storm mode, no storm-mode alert.
      expect(normal.started).toEqual([]);
      expect(normal.firstRise).toBeLessThan(Infinity);
      expect(normal.firstLevel).toBeLessThan(Infinity);

      expect(storm.started).toHaveLength(1);
      const stormAt = storm.stormAt!;
      // In force from the warning's onset, 30 minutes before the rain, or from its arrival if later.
      expect(stormAt).toBe(Math.max(eventsAt - 30 * MIN, START));
      // Storm mode is in force before the rain: the checklist flags the idle standby pump, from the run log.
      expect(storm.pumpsBeforeRain).toMatch(/^Every pump has run in the last 7 days: FLAGGED \(duty pump P1 last ran .*; standby pump P2 idle 8\.\d days, last ran .*\)$/);
      expect(storm.checklistAtStart).toHaveLength(5);
      expect(storm.checklistAtStart[0]).toMatch(/standby pump P2 idle 8\.\d days/);
      // The storm rules raise each first alert no later, and both well after storm mode began.
      expect(storm.firstRise).toBeLessThanOrEqual(normal.firstRise);
      expect(storm.firstLevel).toBeLessThanOrEqual(normal.firstLevel);
      expect(Math.min(storm.firstRise, storm.firstLevel) - stormAt).toBeGreaterThan(30 * MIN);
      // Lifted by the weather service's Cancel, 250 minutes after the rain began.
      expect(storm.ended.map((e) => [e.reason, (e.at - eventsAt) / MIN])).toEqual([['cancelled', 250]]);

      console.info(
        `storm ${stormAfterMin} min into the run: storm mode from ${fmt(eventsAt - stormAt)} min before the rain.` +
          ` First rise alert ${fmt(storm.firstRise - eventsAt)} min into the rain with storm mode (${fmt(storm.firstRise - stormAt)} min after storm mode began), ${fmt(normal.firstRise - eventsAt)} min without;` +
          ` first level alert ${fmt(storm.firstLevel - eventsAt)} min with (${fmt(storm.firstLevel - stormAt)} min after storm mode began), ${fmt(normal.firstLevel - eventsAt)} min without.` +
          ` Storm rules earlier by ${(normal.firstRise - storm.firstRise) / 1000} s (rise) and ${(normal.firstLevel - storm.firstLevel) / 1000} s (level).`,
      );
    },
    240_000,
  );
});
