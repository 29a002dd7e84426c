/**
 * The behaviour suites of the modules' repositories (one suite per interface): alerts, incidents, live
 * state, the device registry, warnings, the InfluxDB outbox and the redelivery keys.
 * repositories-sqlite.test.ts runs them on real SQLite files; a PostgreSQL implementation runs the same
 * suites with its own factories. They check what the modules rely on, through the interfaces only: what
 * is written reads back the same (also after a reopen), orderings and limits, idempotent writes, the
 * database's own guarantees (one open alert per rule and subject, one open incident per room), and
 * that participants' writes are part of the caller's transaction (rolled back with it).
 *
 * Times are fixed in the past, so nothing depends on the wall clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRecord, AlertRepository } from '../../ingest/src/alerts/alert-repository.ts';
import type { IncidentRecord, IncidentRepository } from '../../ingest/src/alerts/incident-repository.ts';
import type { TransactionRunner, Tx } from '../../ingest/src/db/tx.ts';
import { DevEuiTaken, type CounterRecord, type DevicesRepository, type TelemetryRecord } from '../../ingest/src/devices/repository.ts';
import type { LatestRow, LiveRepository } from '../../ingest/src/live-state.ts';
import type { OutboxRepository } from '../../ingest/src/store/outbox.ts';
import type { SeenKeysRepository } from '../../ingest/src/store/influx-store.ts';
import { parseCap } from '../../ingest/src/warnings/cap.ts';
import { judge } from '../../ingest/src/warnings/relevance.ts';
import type { StoredWarning, WarningRepository } from '../../ingest/src/warnings/repository.ts';
import { at, buildCap, JINING_POLYGON } from '../../ingest/src/warnings/testing.ts';
import { loadSite } from '@parkops/contract/site/index.ts';

export interface RepoUnderTest<R> {
  repo: R;
  /** Runs participants in one transaction of this engine. */
  transactions: TransactionRunner;
  close(): Promise<void>;
  /** Closes and opens the same storage again (data must survive). */
  reopen(): Promise<RepoUnderTest<R>>;
}
export type RepoFactory<R> = () => Promise<RepoUnderTest<R>>;

/** Monday 2026-01-05 00:00 UTC */
const T0 = Date.UTC(2026, 0, 5);
const M = 60_000;

/** Opens fresh storage per test and closes whatever the test opened. */
function opener<R>(open: RepoFactory<R>): { fresh(): Promise<RepoUnderTest<R>>; reopen(o: RepoUnderTest<R>): Promise<RepoUnderTest<R>> } {
  const opened: RepoUnderTest<R>[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  return {
    async fresh() {
      const o = await open();
      opened.push(o);
      return o;
    },
    async reopen(o) {
      const again = await o.reopen();
      opened.push(again);
      return again;
    },
  };
}

/** Runs one unit of participant calls, awaiting each on an asynchronous engine. */
async function inTx<T>(runner: TransactionRunner, body: (tx: Tx) => Array<unknown>, result?: () => T): Promise<T | undefined> {
  return runner.run(function* (tx) {
    for (const step of body(tx)) yield step;
    return result?.();
  });
}

/** A unit that fails after its participants wrote: everything it wrote must be rolled back. */
async function failingTx(runner: TransactionRunner, body: (tx: Tx) => Array<unknown>): Promise<void> {
  await expect(
    (async () =>
      runner.run(function* (tx) {
        for (const step of body(tx)) yield step;
        throw new Error('the batch failed after its writes');
      }))(),
  ).rejects.toThrow('the batch failed after its writes');
}

export function alert(id: string, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id,
    rule: 'flood.level',
    subject: `flood/b1/levels/${id}`,
    severity: 'warning',
    state: 'firing',
    message: `water high (${id})`,
    details: { rule: 'flood.level', room: 'b1', band: 'warning', thresholdMm: 300, levelMm: 320 },
    value: 320,
    room: 'b1',
    etaMin: null,
    etaTarget: null,
    grade: 1,
    startedAt: T0,
    updatedAt: T0,
    ackedAt: null,
    ackedBy: null,
    ackNote: null,
    resolvedAt: null,
    escalateFrom: T0,
    escalatedAt: null,
    ...over,
  };
}

export function alertRepositorySuite(name: string, open: RepoFactory<AlertRepository>): void {
  describe(`AlertRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);

    it('reads back what it saved, field for field, and keeps it across a reopen', async () => {
      const o = await fresh();
      const a = alert('al-1', { etaMin: 12.5, etaTarget: 'alarm', ackNote: null });
      await o.repo.save(a, { change: 'opened', at: T0 });
      expect(await o.repo.get('al-1')).toEqual(a);
      expect(await o.repo.get('al-none')).toBeUndefined();
      const again = await reopen(o);
      expect(await again.repo.get('al-1')).toEqual(a);
    });

    it('saving again updates the alert; each change given is one event, in order, with actor and note', async () => {
      const o = await fresh();
      const a = alert('al-1');
      await o.repo.save(a, { change: 'opened', at: T0 });
      await o.repo.save({ ...a, value: 330, updatedAt: T0 + M }); // a value update: no event
      const acked = { ...a, state: 'acknowledged' as const, value: 330, ackedAt: T0 + 2 * M, ackedBy: 'wang.li', ackNote: 'on it', updatedAt: T0 + 2 * M };
      await o.repo.save(acked, { change: 'acknowledged', at: T0 + 2 * M, actor: 'wang.li', note: 'on it' });
      expect(await o.repo.get('al-1')).toEqual(acked);
      const events = await o.repo.events('al-1');
      expect(events.map((e) => [e.change, e.at, e.state, e.actor, e.note, e.value])).toEqual([
        ['opened', T0, 'firing', null, null, 320],
        ['acknowledged', T0 + 2 * M, 'acknowledged', 'wang.li', 'on it', 330],
      ]);
      expect(events[0]!.seq).toBeLessThan(events[1]!.seq);
      expect(await o.repo.events('al-none')).toEqual([]);
    });

    it('refuses a second open alert for the same rule and subject, and allows one after the first resolved', async () => {
      const o = await fresh();
      await o.repo.save(alert('al-1', { subject: 'flood/b1/levels' }), { change: 'opened', at: T0 });
      await expect(o.repo.save(alert('al-2', { subject: 'flood/b1/levels' }), { change: 'opened', at: T0 + M })).rejects.toThrow();
      expect(await o.repo.get('al-2')).toBeUndefined();
      expect(await o.repo.events('al-2')).toEqual([]);
      await o.repo.save(alert('al-1', { subject: 'flood/b1/levels', state: 'resolved', resolvedAt: T0 + 2 * M }), { change: 'resolved', at: T0 + 2 * M });
      await o.repo.save(alert('al-2', { subject: 'flood/b1/levels', startedAt: T0 + 3 * M }), { change: 'opened', at: T0 + 3 * M });
      expect((await o.repo.get('al-2'))?.state).toBe('firing');
    });

    it('lists: by ids oldest first, active ones, a range newest first with a limit, resolved since', async () => {
      const o = await fresh();
      const a = alert('al-a', { startedAt: T0 });
      const b = alert('al-b', { startedAt: T0 + 10 * M, state: 'resolved', resolvedAt: T0 + 20 * M });
      const c = alert('al-c', { startedAt: T0 + 30 * M, state: 'resolved', resolvedAt: T0 + 40 * M, ackedAt: T0 + 35 * M, ackedBy: 'li' });
      const d = alert('al-d', { startedAt: T0 + 50 * M, state: 'acknowledged', ackedAt: T0 + 55 * M, ackedBy: 'li' });
      for (const x of [c, a, d, b]) await o.repo.save(x);
      expect((await o.repo.byIds(['al-d', 'al-a', 'al-none', 'al-c'])).map((x) => x.id)).toEqual(['al-a', 'al-c', 'al-d']);
      expect(await o.repo.byIds([])).toEqual([]);
      // Not resolved, or resolved but never acknowledged.
      expect((await o.repo.active()).map((x) => x.id).sort()).toEqual(['al-a', 'al-b', 'al-d']);
      expect((await o.repo.range(T0 + 15 * M, T0 + 45 * M, 10)).map((x) => x.id)).toEqual(['al-c', 'al-b', 'al-a']);
      expect((await o.repo.range(T0, T0 + 60 * M, 2)).map((x) => x.id)).toEqual(['al-d', 'al-c']);
      expect((await o.repo.range(T0 + 21 * M, T0 + 29 * M, 10)).map((x) => x.id)).toEqual(['al-a']);
      expect((await o.repo.resolvedSince(T0 + 30 * M)).sort()).toEqual(['al-c']);
    });

    it('keeps rule state as JSON values by key, overwriting, across a reopen', async () => {
      const o = await fresh();
      expect(await o.repo.allState()).toEqual(new Map());
      await o.repo.saveState([['band:b1', { band: 'warning', since: T0 }], ['meta:aliveAt', T0], ['nothing', null]], T0);
      await o.repo.saveState([['meta:aliveAt', T0 + M]], T0 + M);
      const again = await reopen(o);
      expect(await again.repo.allState()).toEqual(new Map<string, unknown>([['band:b1', { band: 'warning', since: T0 }], ['meta:aliveAt', T0 + M], ['nothing', null]]));
    });
  });
}

export function incidentRepositorySuite(name: string, open: RepoFactory<{ incidents: IncidentRepository; alerts: AlertRepository }>): void {
  describe(`IncidentRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);
    const incident = (id: string, over: Partial<IncidentRecord> = {}): IncidentRecord => ({ id, room: 'b1', startedAt: T0, endedAt: null, peakMm: null, peakAt: null, ...over });

    it('opens, keeps the peak, ends; one open incident per room', async () => {
      const o = await fresh();
      const { incidents } = o.repo;
      await incidents.open(incident('inc-1'));
      await expect(incidents.open(incident('inc-2', { startedAt: T0 + M }))).rejects.toThrow();
      await incidents.open(incident('inc-3', { room: 'b2' }));
      expect((await incidents.openIncidents()).map((i) => i.id).sort()).toEqual(['inc-1', 'inc-3']);
      await incidents.setPeak('inc-1', 512.5, T0 + 5 * M);
      await incidents.end('inc-1', T0 + 30 * M);
      expect(await incidents.get('inc-1')).toEqual(incident('inc-1', { peakMm: 512.5, peakAt: T0 + 5 * M, endedAt: T0 + 30 * M }));
      expect((await incidents.openIncidents()).map((i) => i.id)).toEqual(['inc-3']);
      await incidents.open(incident('inc-4', { startedAt: T0 + 40 * M }));
      const again = await reopen(o);
      expect((await again.repo.incidents.openIncidents()).map((i) => i.id).sort()).toEqual(['inc-3', 'inc-4']);
      expect(await again.repo.incidents.get('inc-none')).toBeUndefined();
    });

    it('attaches alerts once each, and counts them per incident', async () => {
      const o = await fresh();
      const { incidents, alerts } = o.repo;
      await incidents.open(incident('inc-1'));
      await incidents.open(incident('inc-2', { room: 'b2' }));
      for (const id of ['al-1', 'al-2']) await alerts.save(alert(id));
      await incidents.attach('inc-1', 'al-2');
      await incidents.attach('inc-1', 'al-1');
      await incidents.attach('inc-1', 'al-2');
      expect((await incidents.alertIds('inc-1')).sort()).toEqual(['al-1', 'al-2']);
      expect(await incidents.alertIds('inc-2')).toEqual([]);
      expect(await incidents.alertCounts(['inc-1', 'inc-2', 'inc-none'])).toEqual(new Map([['inc-1', 2], ['inc-2', 0], ['inc-none', 0]]));
      expect(await incidents.alertCounts([])).toEqual(new Map());
    });

    it('keeps timeline events by time, then in the order recorded', async () => {
      const o = await fresh();
      const { incidents } = o.repo;
      await incidents.open(incident('inc-1'));
      await incidents.addEvent('inc-1', { at: T0 + 2 * M, kind: 'pump-stop', subject: 'flood/b1/pumps/P1', value: 60, detail: 'ran 60 s' });
      await incidents.addEvent('inc-1', { at: T0 + M, kind: 'pump-start', subject: 'flood/b1/pumps/P1', value: null, detail: null });
      await incidents.addEvent('inc-1', { at: T0 + 2 * M, kind: 'level-peak', subject: 'flood/b1/level', value: 410, detail: null });
      const events = await incidents.events('inc-1');
      expect(events.map((e) => [e.at, e.kind, e.subject, e.value, e.detail])).toEqual([
        [T0 + M, 'pump-start', 'flood/b1/pumps/P1', null, null],
        [T0 + 2 * M, 'pump-stop', 'flood/b1/pumps/P1', 60, 'ran 60 s'],
        [T0 + 2 * M, 'level-peak', 'flood/b1/level', 410, null],
      ]);
      expect(await incidents.events('inc-none')).toEqual([]);
    });

    it('lists incidents overlapping a range, of one room when asked, newest first, at most the limit', async () => {
      const o = await fresh();
      const { incidents } = o.repo;
      await incidents.open(incident('inc-a', { startedAt: T0, endedAt: T0 + 10 * M }));
      await incidents.open(incident('inc-b', { startedAt: T0 + 20 * M, endedAt: T0 + 30 * M }));
      await incidents.open(incident('inc-c', { room: 'b2', startedAt: T0 + 25 * M }));
      await incidents.open(incident('inc-d', { startedAt: T0 + 40 * M }));
      expect((await incidents.list({ from: T0 + 5 * M, to: T0 + 35 * M, limit: 10 })).map((i) => i.id)).toEqual(['inc-c', 'inc-b', 'inc-a']);
      expect((await incidents.list({ from: T0 + 5 * M, to: T0 + 35 * M, room: 'b1', limit: 10 })).map((i) => i.id)).toEqual(['inc-b', 'inc-a']);
      expect((await incidents.list({ from: T0 + 11 * M, to: T0 + 19 * M, limit: 10 })).map((i) => i.id)).toEqual([]);
      expect((await incidents.list({ from: 0, to: T0 + 60 * M, limit: 2 })).map((i) => i.id)).toEqual(['inc-d', 'inc-c']);
    });
  });
}

export function liveRepositorySuite(name: string, open: RepoFactory<LiveRepository>): void {
  describe(`LiveRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);
    const row = (subject: string, ts: number, data: unknown): LatestRow => ({ subject, kind: 'bay', ts, changedAt: ts - 1000, seenAt: ts + 5, data });

    it('keeps one row per subject (the last written) and the newest gate scans, across a reopen', async () => {
      const o = await fresh();
      const p = o.repo.participant;
      await inTx(o.transactions, (tx) => [p.putLatest(tx, [row('parking/bays/A-1', T0, { occupied: true, battery: 80 }), row('parking/bays/A-2', T0, { occupied: false, battery: null })])]);
      await inTx(o.transactions, (tx) => [p.putLatest(tx, [row('parking/bays/A-1', T0 + M, { occupied: false, battery: 79.5 })])]);
      const scans = Array.from({ length: 7 }, (_, i) => ({ gateId: 'north-in', event: 'entry' as const, pass: `QR-${i}`, ts: T0 + i * 1000 }));
      await inTx(o.transactions, (tx) => [p.addScans(tx, scans.slice(0, 4), 3)]);
      await inTx(o.transactions, (tx) => [p.addScans(tx, scans.slice(4), 3)]);
      const again = await reopen(o);
      const loaded = await again.repo.load(3);
      expect(loaded.latest.sort((a, b) => (a.subject < b.subject ? -1 : 1))).toEqual([row('parking/bays/A-1', T0 + M, { occupied: false, battery: 79.5 }), row('parking/bays/A-2', T0, { occupied: false, battery: null })]);
      expect(loaded.scans.map((s) => s.pass)).toEqual(['QR-6', 'QR-5', 'QR-4']);
      expect(loaded.scans[0]).toEqual({ gateId: 'north-in', event: 'entry', pass: 'QR-6', ts: T0 + 6000 });
    });

    it('writes only as part of the caller\'s transaction: a failed batch leaves nothing', async () => {
      const o = await fresh();
      const p = o.repo.participant;
      await failingTx(o.transactions, (tx) => [p.putLatest(tx, [row('parking/bays/A-1', T0, { occupied: true })]), p.addScans(tx, [{ gateId: 'g', event: 'exit', pass: 'QR-9', ts: T0 }], 50)]);
      expect(await o.repo.load(50)).toEqual({ latest: [], scans: [] });
    });
  });
}

export function devicesRepositorySuite(name: string, open: RepoFactory<DevicesRepository>): void {
  describe(`DevicesRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);
    const binding = (deviceId: string, devEui: string, at = T0) => ({ deviceId, devEui, codec: 'dragino-ldds75', params: { offsetMm: 12, mount: { heightMm: 900 } }, updatedAt: at, updatedBy: 'admin' });
    const counter = (devEui: string, key: string, total: number): CounterRecord => ({ devEui, key, in: total, out: total - 1, ts: T0 });
    const telemetry = (deviceId: string, devEui: string, over: Partial<TelemetryRecord> = {}): TelemetryRecord => ({ deviceId, devEui, lastUplinkAt: T0, battery: 91, rssi: -97, snr: 7.5, fCnt: 12, ...over });

    it('bindings: written in one call, listed by device, replaced, deleted; a bound DevEUI leaves the unbound list', async () => {
      const o = await fresh();
      await o.repo.seenUnbound({ devEui: 'A84041000181C001', network: 'chirpstack', name: 'tank sensor' }, T0);
      await o.repo.applyBindings([{ record: binding('lvl-2', 'A84041000181C002') }, { record: binding('lvl-1', 'A84041000181C001') }]);
      expect(await o.repo.bindings()).toEqual([binding('lvl-1', 'A84041000181C001'), binding('lvl-2', 'A84041000181C002')]);
      expect(await o.repo.unbound()).toEqual([]);
      await o.repo.applyBindings([{ record: binding('lvl-1', 'A84041000181C003', T0 + M), previousDevEui: 'A84041000181C001' }]);
      expect(await o.repo.deleteBinding('lvl-2', 'A84041000181C002')).toBe(true);
      expect(await o.repo.deleteBinding('lvl-2', 'A84041000181C002')).toBe(false);
      const again = await reopen(o);
      expect(await again.repo.bindings()).toEqual([binding('lvl-1', 'A84041000181C003', T0 + M)]);
      // One DevEUI belongs to one device.
      await expect(again.repo.applyBindings([{ record: binding('lvl-9', 'A84041000181C003') }])).rejects.toBeInstanceOf(DevEuiTaken);
      expect((await again.repo.bindings()).map((b) => b.deviceId)).toEqual(['lvl-1']);
    });

    it('counters: written in the ingest transaction or on their own; a (re)binding starts them again', async () => {
      const o = await fresh();
      const p = o.repo.participant;
      await inTx(o.transactions, (tx) => [p.putCounters(tx, [counter('EUI1', 'line1', 10), counter('EUI2', 'line1', 5)])]);
      await o.repo.saveUplinkState([counter('EUI1', 'line1', 12), counter('EUI1', 'line2', 3)], null);
      expect((await o.repo.counters()).map((c) => [c.devEui, c.key, c.in, c.out]).sort()).toEqual([
        ['EUI1', 'line1', 12, 11],
        ['EUI1', 'line2', 3, 2],
        ['EUI2', 'line1', 5, 4],
      ]);
      await o.repo.applyBindings([{ record: binding('venue-1', 'EUI2'), previousDevEui: 'EUI1' }]);
      expect(await o.repo.counters()).toEqual([]);
      await failingTx(o.transactions, (tx) => [p.putCounters(tx, [counter('EUI3', 'line1', 1)])]);
      expect(await o.repo.counters()).toEqual([]);
    });

    it('telemetry: one record per device, the newest, from either path', async () => {
      const o = await fresh();
      const p = o.repo.participant;
      await inTx(o.transactions, (tx) => [p.putTelemetry(tx, telemetry('lvl-1', 'EUI1'))]);
      await o.repo.saveUplinkState([], telemetry('lvl-1', 'EUI1', { lastUplinkAt: T0 + M, battery: undefined, batteryMv: 3600, problem: 'no echo' }));
      await inTx(o.transactions, (tx) => [p.putTelemetry(tx, telemetry('lvl-2', 'EUI2'))]);
      const got = (await o.repo.telemetry()).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
      expect(got).toEqual([
        { deviceId: 'lvl-1', devEui: 'EUI1', lastUplinkAt: T0 + M, batteryMv: 3600, rssi: -97, snr: 7.5, fCnt: 12, problem: 'no echo' },
        telemetry('lvl-2', 'EUI2'),
      ]);
    });

    it('unbound DevEUIs: counted per uplink, first and last seen, names kept, newest first', async () => {
      const o = await fresh();
      await o.repo.seenUnbound({ devEui: 'EUI1', network: 'chirpstack', name: 'first name', applicationId: 'app-1' }, T0);
      await o.repo.seenUnbound({ devEui: 'EUI2', network: 'tts' }, T0 + M);
      await o.repo.seenUnbound({ devEui: 'EUI1', network: 'chirpstack' }, T0 + 2 * M);
      expect(await o.repo.unbound()).toEqual([
        { devEui: 'EUI1', network: 'chirpstack', name: 'first name', applicationId: 'app-1', firstSeen: T0, lastSeen: T0 + 2 * M, uplinks: 2 },
        { devEui: 'EUI2', network: 'tts', firstSeen: T0 + M, lastSeen: T0 + M, uplinks: 1 },
      ]);
    });
  });
}

const site = loadSite();
/** A stored warning as the warnings service makes one: parsed from CAP XML and judged for the site. */
function warning(identifier: string, sentMin: number, opts: { msgType?: 'Alert' | 'Update' | 'Cancel'; references?: string; expiresMin?: number; receivedAt?: number } = {}): StoredWarning {
  const xml = buildCap({
    identifier,
    sent: at(T0, sentMin),
    msgType: opts.msgType ?? 'Alert',
    ...(opts.references !== undefined ? { references: opts.references } : {}),
    infos: [{ polygon: JINING_POLYGON, onset: at(T0, sentMin), expires: at(T0, opts.expiresMin ?? sentMin + 360) }],
  });
  const parsed = parseCap(xml);
  if (!parsed.ok) throw new Error(`test CAP did not parse: ${JSON.stringify(parsed.problems)}`);
  return { id: `w-${identifier}`, alert: parsed.alert, xml, receivedAt: opts.receivedAt ?? T0 + sentMin * M, via: 'http', origin: 'token:feed', judgement: judge(parsed.alert, site), supersededBy: null, supersededAt: null };
}

export function warningRepositorySuite(name: string, open: RepoFactory<WarningRepository>): void {
  describe(`WarningRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);

    it('stores a warning once per sender and identifier, reads it back whole, across a reopen', async () => {
      const o = await fresh();
      const w = warning('JN-1', 0);
      expect(w.judgement.relevant).toBe(true);
      expect(await o.repo.insert(w, [])).toBe(true);
      expect(await o.repo.insert({ ...w, id: 'w-other' }, [])).toBe(false);
      const again = await reopen(o);
      expect(await again.repo.get('w-JN-1')).toEqual(w);
      expect(await again.repo.byKey(w.alert.sender, 'JN-1')).toEqual(w);
      expect(await again.repo.get('w-other')).toBeUndefined();
    });

    it('an update supersedes what it names, in the same step; references and current ones follow', async () => {
      const o = await fresh();
      const first = warning('JN-1', 0);
      await o.repo.insert(first, []);
      const update = warning('JN-1-U', 30, { msgType: 'Update', references: `${first.alert.sender},JN-1,${at(T0, 0)}` });
      expect(await o.repo.insert(update, ['w-JN-1'])).toBe(true);
      expect(await o.repo.get('w-JN-1')).toMatchObject({ supersededBy: 'w-JN-1-U', supersededAt: update.receivedAt });
      expect((await o.repo.referencing(first.alert.sender, 'JN-1')).map((w) => w.id)).toEqual(['w-JN-1-U']);
      expect((await o.repo.current(T0 + 60 * M)).map((w) => w.id)).toEqual(['w-JN-1-U']);
      expect(await o.repo.current(T0 + 400 * M)).toEqual([]);
      expect((await o.repo.list({ limit: 10 })).map((w) => w.id)).toEqual(['w-JN-1-U', 'w-JN-1']);
      expect((await o.repo.list({ limit: 1 })).map((w) => w.id)).toEqual(['w-JN-1-U']);
      expect((await o.repo.list({ limit: 10, inForceAt: T0 + 60 * M })).map((w) => w.id)).toEqual(['w-JN-1-U']);
      expect((await o.repo.receivedSince(T0 + 10 * M)).map((w) => w.id)).toEqual(['w-JN-1-U']);
    });

    it('a new judgement replaces the old; storm state per room is kept', async () => {
      const o = await fresh();
      const w = warning('JN-1', 0);
      await o.repo.insert(w, []);
      const never = { ...w.judgement, relevant: false, storm: false, covers: [false], from: null, until: null };
      await o.repo.updateJudgement('w-JN-1', never);
      expect((await o.repo.get('w-JN-1'))?.judgement).toEqual(never);
      expect(await o.repo.current(T0)).toEqual([]);
      await o.repo.saveStormState('b1-power', { active: true, since: T0, warningId: 'w-JN-1' });
      await o.repo.saveStormState('b1-power', { active: false, since: T0 + M, warningId: null });
      await o.repo.saveStormState('b2', { active: true, since: T0, warningId: 'w-JN-1' });
      const again = await reopen(o);
      expect(await again.repo.stormStates()).toEqual(
        new Map([
          ['b1-power', { active: false, since: T0 + M, warningId: null }],
          ['b2', { active: true, since: T0, warningId: 'w-JN-1' }],
        ]),
      );
    });
  });
}

export function outboxRepositorySuite(name: string, open: RepoFactory<OutboxRepository>): void {
  describe(`OutboxRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);

    it('a queue in order: batches oldest first, delivered ranges gone, depth and oldest time, across a reopen', async () => {
      const o = await fresh();
      expect(await o.repo.depth()).toEqual({ depth: 0, oldestQueuedAt: null });
      await inTx(o.transactions, (tx) => [o.repo.participant.enqueue(tx, ['l1', 'l2'], T0)]);
      await o.repo.enqueue(['l3'], T0 + M);
      await inTx(o.transactions, (tx) => [o.repo.participant.enqueue(tx, ['l4', 'l5'], T0 + 2 * M)]);
      const first = await o.repo.batch(3);
      expect(first.map((r) => [r.line, r.queuedAt])).toEqual([
        ['l1', T0],
        ['l2', T0],
        ['l3', T0 + M],
      ]);
      expect(first[0]!.id).toBeLessThan(first[1]!.id);
      await o.repo.delivered(first[0]!.id, first[2]!.id);
      const again = await reopen(o);
      expect(await again.repo.depth()).toEqual({ depth: 2, oldestQueuedAt: T0 + 2 * M });
      expect((await again.repo.batch(10)).map((r) => r.line)).toEqual(['l4', 'l5']);
    });

    it('lines set aside with their reason, newest first, and put back at the end of the queue', async () => {
      const o = await fresh();
      await o.repo.enqueue(['bad1', 'good', 'bad2'], T0);
      const [bad1, good, bad2] = await o.repo.batch(3);
      await o.repo.setAside(bad1!, 'HTTP 400: unable to parse', T0 + M);
      await o.repo.setAside(bad2!, 'HTTP 400: field type conflict', T0 + 2 * M);
      await o.repo.delivered(good!.id, good!.id);
      expect(await o.repo.rejectedHeld()).toBe(2);
      expect(await o.repo.rejected(10)).toEqual([
        { line: 'bad2', reason: 'HTTP 400: field type conflict', rejectedAt: T0 + 2 * M },
        { line: 'bad1', reason: 'HTTP 400: unable to parse', rejectedAt: T0 + M },
      ]);
      expect(await o.repo.rejected(1)).toHaveLength(1);
      await o.repo.enqueue(['later'], T0 + 3 * M);
      expect(await o.repo.retryRejected()).toBe(2);
      expect(await o.repo.rejectedHeld()).toBe(0);
      const queue = await o.repo.batch(10);
      expect(queue.map((r) => r.line)).toEqual(['later', 'bad1', 'bad2']);
      expect(queue[1]!.id).toBeGreaterThan(queue[0]!.id);
    });

    it('lines queued in a failed transaction are not queued', async () => {
      const o = await fresh();
      await failingTx(o.transactions, (tx) => [o.repo.participant.enqueue(tx, ['lost'], T0)]);
      expect(await o.repo.depth()).toEqual({ depth: 0, oldestQueuedAt: null });
    });
  });
}

export function seenKeysRepositorySuite(name: string, open: RepoFactory<SeenKeysRepository>): void {
  describe(`SeenKeysRepository: ${name}`, () => {
    const { fresh, reopen } = opener(open);

    it('knows a key the second time, keeps the newest time, prunes old keys a slice at a time', async () => {
      const o = await fresh();
      const p = o.repo.participant;
      expect(await o.repo.newest()).toBeNull();
      const firsts: boolean[] = [];
      await inTx(o.transactions, (tx) => [p.firstTime(tx, T0, 'a'), p.firstTime(tx, T0, 'b'), p.firstTime(tx, T0 + M, 'a')], () => undefined);
      await o.transactions.run(function* (tx) {
        for (const [ts, s] of [
          [T0, 'a'],
          [T0 + 2 * M, 'a'],
          [T0, 'b'],
        ] as const)
          firsts.push((yield p.firstTime(tx, ts, s)) as boolean);
      });
      expect(firsts).toEqual([false, true, false]);
      const again = await reopen(o);
      expect(await again.repo.newest()).toBe(T0 + 2 * M);
      expect(await again.repo.prune(T0 + M, 1)).toBe(1);
      expect(await again.repo.prune(T0 + M, 10)).toBe(1);
      expect(await again.repo.prune(T0 + M, 10)).toBe(0);
      // The pruned keys are new again; the kept ones are not.
      const after: boolean[] = [];
      await again.transactions.run(function* (tx) {
        after.push((yield again.repo.participant.firstTime(tx, T0, 'a')) as boolean);
        after.push((yield again.repo.participant.firstTime(tx, T0 + M, 'a')) as boolean);
      });
      expect(after).toEqual([true, false]);
    });

    it('a key recorded in a failed transaction is not kept', async () => {
      const o = await fresh();
      await failingTx(o.transactions, (tx) => [o.repo.participant.firstTime(tx, T0, 'a')]);
      expect(await o.repo.newest()).toBeNull();
    });
  });
}
