/**
 * The warnings module on a real SQLite file, with vitest's fake clock (Date.now and the storm-mode
 * timer follow it): storing once, in force from onset to expiry without any new message, Cancel and
 * Update, Test messages, out-of-order delivery, and restarts that neither repeat nor forget a change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventBus, type BusEvents } from '../bus.ts';
import { createLogger } from '../log.ts';
import { loadSite, parseSite, type Site } from '@parkops/contract/site/index.ts';
import jining from '@parkops/contract/site/jining-innovation-valley.json' with { type: 'json' };
import { openDatabase, type Db } from '../store/db.ts';
import { SqliteWarningRepository } from './repository.ts';
import { at, buildCap, CALIFORNIA_POLYGON, JINING_POLYGON, sample, type InfoOptions } from './testing.ts';
import { WarningService } from './warning-service.ts';

const T0 = Date.parse('2026-07-08T05:30:00+08:00');
const MIN = 60_000;
const log = createLogger('silent');

type Event = { name: keyof BusEvents; payload: BusEvents[keyof BusEvents] };

class World {
  db!: Db;
  bus = new EventBus(log);
  service!: WarningService;
  events: Event[] = [];
  constructor(
    readonly dir: string,
    readonly site: Site = loadSite(),
  ) {}
  async start(): Promise<this> {
    this.db = openDatabase(this.dir);
    this.bus = new EventBus(log);
    for (const name of ['warning.changed', 'storm.started', 'storm.updated', 'storm.ended'] as const) {
      this.bus.on(name, (payload) => void this.events.push({ name, payload }));
    }
    this.service = new WarningService({ repo: new SqliteWarningRepository(this.db), site: this.site, bus: this.bus, log });
    await this.service.start();
    return this;
  }
  async stop(): Promise<void> {
    await this.service.stop();
    this.db.close();
  }
  async post(xml: string) {
    const r = await this.service.receive(xml, { via: 'http', origin: 'token:test' });
    if (!r.ok) throw new Error(r.reason);
    return r;
  }
  storm(name: 'storm.started' | 'storm.updated' | 'storm.ended') {
    return this.events.filter((e) => e.name === name);
  }
  rows(): number {
    return (this.db.prepare('SELECT count(*) n FROM warnings').get() as { n: number }).n;
  }
}

/** A rainstorm warning for the site from T0+onsetMin to T0+expiresMin. */
function rainstorm(id: string, onsetMin: number, expiresMin: number, more: { info?: InfoOptions; status?: string; msgType?: string; references?: string } = {}): string {
  return buildCap({
    identifier: id,
    sent: at(T0, 0),
    ...(more.status ? { status: more.status } : {}),
    ...(more.msgType ? { msgType: more.msgType } : {}),
    ...(more.references ? { references: more.references } : {}),
    infos: [{ polygon: JINING_POLYGON, onset: at(T0, onsetMin), expires: at(T0, expiresMin), ...more.info }],
  });
}
const ref = (id: string): string => `sd-jining@cma.gov.cn,${id},${at(T0, 0)}`;

let dir: string;
let w: World;
beforeEach(async () => {
  vi.useFakeTimers({ now: T0 });
  dir = mkdtempSync(join(tmpdir(), 'parkops-warnings-'));
  w = await new World(dir).start();
});
afterEach(async () => {
  await w.stop();
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('storing', () => {
  it('stores a warning once: the same sender and identifier again answers the same id as a duplicate', async () => {
    const first = await w.post(sample('cma-rainstorm-jining.xml'));
    expect(first.response).toMatchObject({ relevant: true, storm: true, inForce: false, duplicate: false });
    const again = await w.post(sample('cma-rainstorm-jining.xml'));
    expect(again.response).toEqual({ ...first.response, duplicate: true });
    expect(w.rows()).toBe(1);
    expect(w.events.filter((e) => e.name === 'warning.changed')).toHaveLength(1);
  });

  it('refuses bad CAP with the reason and stores nothing', async () => {
    const r = await w.service.receive('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>', { via: 'http', origin: 't' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^not valid CAP 1\.2: alert\/sender: is required/);
    expect(w.rows()).toBe(0);
    expect(w.events).toEqual([]);
  });

  it('lists newest first, with both languages and the site-relevant block on top', async () => {
    await w.post(sample('cap12-a2-severe-thunderstorm.xml'));
    await w.post(sample('cma-rainstorm-jining.xml'));
    const all = await w.service.list({ state: 'all' });
    expect(all.map((x) => x.sender)).toEqual(['sd-jining@cma.gov.cn', 'KSTO@NWS.NOAA.GOV']);
    expect(all[0]).toMatchObject({ event: '暴雨', severity: 'Moderate', urgency: 'Expected', relevant: true, storm: true, language: 'zh-CN', onset: '2026-07-08T00:00:00.000Z', expires: '2026-07-08T12:00:00.000Z' });
    expect(all[0]!.infos.map((i) => [i.language, i.event, i.coversSite])).toEqual([
      ['zh-CN', '暴雨', true],
      ['en-US', 'Rainstorm', true],
    ]);
    expect(all[1]).toMatchObject({ relevant: false, inForce: false, storm: false, inForceFrom: null });
  });
});

describe('storm mode follows the warning in force, by a timer', () => {
  it('starts at onset and ends at expiry with no new message', async () => {
    await w.post(rainstorm('R1', 90, 300));
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.started')).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(90 * MIN - 1);
    expect(w.service.stormMode('b1-power')).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.service.stormMode('b1-power')).toBe(true);
    const started = w.storm('storm.started');
    expect(started).toHaveLength(1);
    expect(started[0]!.payload).toMatchObject({ roomId: 'b1-power', at: T0 + 90 * MIN, warning: { identifier: 'R1', inForce: true } });
    expect((await w.service.list({ state: 'active' })).map((x) => x.identifier)).toEqual(['R1']);
    expect(w.service.withStormMode({ rooms: [{ id: 'b1-power' } as never] }).rooms[0]!.stormMode).toBe(true);

    await vi.advanceTimersByTimeAsync(210 * MIN);
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.ended').map((e) => e.payload)).toEqual([expect.objectContaining({ roomId: 'b1-power', at: T0 + 300 * MIN, reason: 'expired' })]);
    expect(await w.service.list({ state: 'active' })).toEqual([]);
    const changes = w.events.filter((e) => e.name === 'warning.changed').map((e) => (e.payload as BusEvents['warning.changed']).change);
    expect(changes).toEqual(['received', 'in-force', 'expired']);
  });

  it('starts at once for a warning already in force when it arrives', async () => {
    vi.setSystemTime(T0 + 100 * MIN);
    await w.post(rainstorm('R1', 90, 300));
    expect(w.service.stormMode('b1-power')).toBe(true);
    expect(w.storm('storm.started')[0]!.payload).toMatchObject({ at: T0 + 100 * MIN });
  });

  it('a Cancel that references it ends storm mode at once', async () => {
    await w.post(rainstorm('R1', 0, 600));
    expect(w.service.stormMode('b1-power')).toBe(true);
    await vi.advanceTimersByTimeAsync(30 * MIN);
    const cancel = await w.post(buildCap({ identifier: 'R1-cancel', sent: at(T0, 30), msgType: 'Cancel', references: ref('R1'), infos: [{ polygon: JINING_POLYGON, headline: 'Rainstorm warning lifted' }] }));
    expect(cancel.response).toMatchObject({ relevant: true, inForce: false });
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.ended').map((e) => (e.payload as BusEvents['storm.ended']).reason)).toEqual(['cancelled']);
    const r1 = (await w.service.list({ state: 'all' })).find((x) => x.identifier === 'R1')!;
    expect(r1).toMatchObject({ inForce: false, supersededBy: cancel.response.id });
    // Its expiry later changes nothing more.
    await vi.advanceTimersByTimeAsync(600 * MIN);
    expect(w.storm('storm.ended')).toHaveLength(1);
    expect(w.storm('storm.started')).toHaveLength(1);
  });

  it('an Update to a stronger warning keeps storm mode (storm.updated); one to a non-storm warning ends it', async () => {
    await w.post(rainstorm('R1', 0, 600));
    await w.post(rainstorm('R2', 0, 720, { msgType: 'Update', references: ref('R1'), info: { severity: 'Severe', headline: 'Orange rainstorm warning' } }));
    expect(w.service.stormMode('b1-power')).toBe(true);
    expect(w.storm('storm.updated').map((e) => (e.payload as BusEvents['storm.updated']).warning.identifier)).toEqual(['R2']);
    expect(w.storm('storm.ended')).toHaveLength(0);
    await w.post(rainstorm('R3', 0, 720, { msgType: 'Update', references: ref('R2'), info: { event: 'Thunderstorm', headline: 'Rain eases; thunder possible' } }));
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.ended').map((e) => (e.payload as BusEvents['storm.ended']).reason)).toEqual(['updated']);
    // The thunderstorm update is itself relevant and in force, just not a storm warning.
    expect((await w.service.list({ state: 'active' })).map((x) => [x.identifier, x.storm])).toEqual([['R3', false]]);
  });

  it('keeps storm mode while any storm warning is in force (overlapping warnings)', async () => {
    await w.post(rainstorm('R1', 0, 60));
    await w.post(rainstorm('F1', 30, 120, { info: { event: 'Flood Warning', category: 'Geo' } }));
    await vi.advanceTimersByTimeAsync(90 * MIN);
    expect(w.service.stormMode('b1-power')).toBe(true);
    expect(w.storm('storm.ended')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.started')).toHaveLength(1);
    expect(w.storm('storm.ended')).toHaveLength(1);
  });

  it.each(['Test', 'Exercise', 'Draft'])('a %s warning is stored and listed but never puts a room in storm mode', async (status) => {
    const r = await w.post(rainstorm('T1', 0, 60, { status }));
    expect(r.response).toMatchObject({ relevant: true, inForce: false });
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect((await w.service.list({ state: 'all' })).map((x) => x.status)).toEqual([status]);
  });

  it('a Test cancel cannot end a real warning', async () => {
    await w.post(rainstorm('R1', 0, 600));
    await w.post(buildCap({ identifier: 'X', status: 'Test', msgType: 'Cancel', references: ref('R1'), infos: [{ polygon: JINING_POLYGON }] }));
    expect(w.service.stormMode('b1-power')).toBe(true);
  });

  it('a Cancel that arrives before its warning leaves the warning out of force when it comes', async () => {
    await w.post(buildCap({ identifier: 'R1-cancel', msgType: 'Cancel', references: ref('R1'), infos: [{ polygon: JINING_POLYGON }] }));
    const late = await w.post(rainstorm('R1', 0, 600));
    expect(late.response).toMatchObject({ relevant: true, inForce: false });
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.started')).toHaveLength(0);
  });

  it('a relevant warning that is not a rainstorm or flood warning is in force without storm mode', async () => {
    expect((await w.post(rainstorm('H1', 0, 60, { info: { event: '高温' } }))).response).toMatchObject({ relevant: true, inForce: true, storm: false });
    expect(w.service.stormMode('b1-power')).toBe(false);
  });

  it('a rainstorm warning for somewhere else changes nothing', async () => {
    expect((await w.post(buildCap({ infos: [{ polygon: CALIFORNIA_POLYGON }] }))).response).toMatchObject({ relevant: false, inForce: false });
    expect(w.service.stormMode('b1-power')).toBe(false);
  });
});

describe('restarts', () => {
  it('do not announce a storm mode again, and end one that ended while ParkOps was down', async () => {
    await w.post(rainstorm('R1', 0, 120));
    expect(w.storm('storm.started')).toHaveLength(1);
    await w.stop();
    w = await new World(dir).start();
    expect(w.service.stormMode('b1-power')).toBe(true);
    expect(w.storm('storm.started')).toHaveLength(0);
    await w.stop();
    vi.setSystemTime(T0 + 200 * MIN);
    w = await new World(dir).start();
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.ended').map((e) => e.payload)).toEqual([expect.objectContaining({ roomId: 'b1-power', reason: 'expired', at: T0 + 200 * MIN })]);
  });

  it('still start storm mode on time after a restart before onset', async () => {
    await w.post(rainstorm('R1', 60, 120));
    await w.stop();
    w = await new World(dir).start();
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(w.storm('storm.started')).toHaveLength(1);
  });

  it('re-judge stored warnings against an edited site file (a geocode added)', async () => {
    await w.post(buildCap({ identifier: 'G1', infos: [{ geocode: { valueName: 'GB/T 2260', value: '370883' }, onset: at(T0, 0), expires: at(T0, 600) }] }));
    expect(w.service.stormMode('b1-power')).toBe(false);
    await w.stop();
    const edited = JSON.parse(JSON.stringify(jining)) as { cap: { geocodes: object[] } };
    edited.cap.geocodes.push({ valueName: 'GB/T 2260', value: '370883' });
    w = await new World(dir, parseSite(edited)).start();
    expect(w.service.stormMode('b1-power')).toBe(true);
    expect(w.storm('storm.started')).toHaveLength(1);
  });
});

describe('a room with storm mode turned off', () => {
  it('is never in storm mode', async () => {
    await w.stop();
    const off = JSON.parse(JSON.stringify(jining)) as { flood: { rooms: Array<{ storm: { enabled: boolean } }> } };
    off.flood.rooms[0]!.storm.enabled = false;
    w = await new World(dir, parseSite(off)).start();
    await w.post(rainstorm('R1', 0, 60));
    expect(w.service.stormMode('b1-power')).toBe(false);
    expect(w.storm('storm.started')).toHaveLength(0);
  });
});

describe('safety: storm mode is on exactly while a relevant storm warning is in force (fast-check)', () => {
  it('for any set of warnings and cancels, at every moment checked', async () => {
    const warning = fc.record({ onset: fc.integer({ min: -60, max: 600 }), length: fc.integer({ min: 1, max: 600 }), storm: fc.boolean(), here: fc.boolean(), cancelAt: fc.option(fc.integer({ min: 0, max: 900 }), { nil: null }) });
    await fc.assert(
      fc.asyncProperty(fc.array(warning, { minLength: 1, maxLength: 5 }), fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 12 }), async (ws, checks) => {
        await w.stop();
        rmSync(dir, { recursive: true, force: true });
        dir = mkdtempSync(join(tmpdir(), 'parkops-warnings-'));
        vi.setSystemTime(T0);
        w = await new World(dir).start();
        for (const [i, x] of ws.entries())
          await w.post(buildCap({ identifier: `P${i}`, sent: at(T0, 0), infos: [{ polygon: x.here ? JINING_POLYGON : CALIFORNIA_POLYGON, event: x.storm ? '暴雨' : '大风', onset: at(T0, x.onset), expires: at(T0, x.onset + x.length) }] }));
        const cancels = ws.map((x, i) => ({ i, at: x.cancelAt })).filter((c): c is { i: number; at: number } => c.at !== null).sort((a, b) => a.at - b.at);
        let clock = 0;
        const cancelled = new Map<number, number>();
        // Checked at random moments and right at every window's edges, where a late timer would show.
        const edges = ws.flatMap((x) => [x.onset, x.onset + x.length]).filter((t) => t >= 0 && t <= 1000);
        for (const t of [...new Set([...checks, ...edges])].sort((a, b) => a - b)) {
          for (const c of cancels.filter((c) => c.at > clock - 1 && c.at <= t && !cancelled.has(c.i))) {
            await vi.advanceTimersByTimeAsync((c.at - clock) * MIN);
            clock = c.at;
            await w.post(buildCap({ identifier: `P${c.i}-cancel`, sent: at(T0, c.at), msgType: 'Cancel', references: ref(`P${c.i}`), infos: [{ polygon: JINING_POLYGON }] }));
            cancelled.set(c.i, c.at);
          }
          await vi.advanceTimersByTimeAsync((t - clock) * MIN);
          clock = t;
          const expected = ws.some((x, i) => x.storm && x.here && x.onset <= t && t < x.onset + x.length && !(cancelled.has(i) && cancelled.get(i)! <= t));
          expect(w.service.stormMode('b1-power'), `at +${t} min`).toBe(expected);
          // ... and the announcements (what the team is told) agree, on time: the last one says the same.
          const last = w.events.filter((e) => e.name === 'storm.started' || e.name === 'storm.ended').at(-1);
          expect(last?.name === 'storm.started', `announced at +${t} min`).toBe(expected);
        }
        // Starts and ends alternate, starting with a start.
        const seq = w.events.filter((e) => e.name === 'storm.started' || e.name === 'storm.ended').map((e) => e.name);
        seq.forEach((name, i) => expect(name).toBe(i % 2 === 0 ? 'storm.started' : 'storm.ended'));
      }),
      { numRuns: 40 },
    );
  });
});
