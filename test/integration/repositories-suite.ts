/**
 * Behaviour suites of the alert, incident and live-state repositories (DESIGN: one suite per
 * interface), run on SQLite (repositories-sqlite.test.ts) and on PostgreSQL (repositories-pg.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertRecord, AlertRepository } from '../../ingest/src/alerts/alert-repository.ts';
import type { IncidentRepository } from '../../ingest/src/alerts/incident-repository.ts';
import type { LiveRepository } from '../../ingest/src/live-state.ts';
import type { TransactionRunner } from '../../ingest/src/db/tx.ts';

export interface ReposUnderTest {
  alerts: AlertRepository;
  incidents: IncidentRepository;
  live: LiveRepository;
  transactions: TransactionRunner;
  close(): Promise<void>;
  /** A new set of repositories on the same data (a restart). */
  reopen(): Promise<ReposUnderTest>;
}

const T0 = Date.UTC(2026, 0, 5, 8);
const M = 60_000;

export function alertRecord(over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id: 'a-1',
    rule: 'flood-level',
    subject: 'flood/b1-power/levels/L1',
    severity: 'warning',
    state: 'firing',
    message: 'Water 120 mm',
    details: { rule: 'flood-level', room: 'b1-power', mm: 120 } as unknown as AlertRecord['details'],
    value: 120,
    room: 'b1-power',
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

export function repositoriesSuite(name: string, open: () => Promise<ReposUnderTest>): void {
  describe(`alert, incident and live repositories: ${name}`, () => {
    let current: ReposUnderTest | undefined;
    const start = async () => (current = await open());
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    it('saves alerts with their changes, and reads them back by id, active, range and resolution', async () => {
      const r = await start();
      const a = alertRecord();
      await r.alerts.save(a, { change: 'raised', at: T0 });
      await r.alerts.save({ ...a, state: 'acknowledged', ackedAt: T0 + M, ackedBy: 'ops', ackNote: 'on it', updatedAt: T0 + M }, { change: 'acknowledged', at: T0 + M, actor: 'ops', note: 'on it' });
      const b = alertRecord({ id: 'a-2', rule: 'pump-failed', subject: 'flood/b1-power/pumps/P1', startedAt: T0 + 2 * M, updatedAt: T0 + 2 * M, details: null, value: null });
      await r.alerts.save(b, { change: 'raised', at: T0 + 2 * M });
      await r.alerts.save({ ...b, state: 'resolved', resolvedAt: T0 + 3 * M, updatedAt: T0 + 3 * M }, { change: 'resolved', at: T0 + 3 * M });
      const got = await r.alerts.get('a-1');
      expect(got).toEqual({ ...a, state: 'acknowledged', ackedAt: T0 + M, ackedBy: 'ops', ackNote: 'on it', updatedAt: T0 + M });
      expect(await r.alerts.get('nope')).toBeUndefined();
      expect((await r.alerts.byIds(['a-2', 'zz', 'a-1'])).map((x) => x.id)).toEqual(['a-1', 'a-2']);
      // resolved but never acknowledged is still active
      expect((await r.alerts.active()).map((x) => x.id)).toEqual(['a-2', 'a-1']);
      expect((await r.alerts.range(T0 + 2.5 * M, T0 + 10 * M, 10)).map((x) => x.id)).toEqual(['a-2', 'a-1']);
      expect((await r.alerts.range(T0 + 4 * M, T0 + 10 * M, 10)).map((x) => x.id)).toEqual(['a-1']);
      expect(await r.alerts.resolvedSince(T0)).toEqual(['a-2']);
      const ev = await r.alerts.events('a-1');
      expect(ev.map((e) => [e.change, e.state, e.actor, e.note])).toEqual([
        ['raised', 'firing', null, null],
        ['acknowledged', 'acknowledged', 'ops', 'on it'],
      ]);
    });

    it('refuses a second open alert for the same rule and subject, and allows one after resolution', async () => {
      const r = await start();
      await r.alerts.save(alertRecord());
      await expect(r.alerts.save(alertRecord({ id: 'a-dup' }))).rejects.toThrow();
      expect((await r.alerts.active()).map((x) => x.id)).toEqual(['a-1']);
      await r.alerts.save(alertRecord({ state: 'resolved', resolvedAt: T0 + M }));
      await r.alerts.save(alertRecord({ id: 'a-next', startedAt: T0 + 2 * M }));
      expect((await r.alerts.active()).map((x) => x.id).sort()).toEqual(['a-1', 'a-next']);
    });

    it('keeps rule state (timers with their times) across a restart', async () => {
      let r = await start();
      await r.alerts.saveState(
        [
          ['hold:b1-power', { until: T0 + 5 * M, band: 'alarm' }],
          ['meta:aliveAt', T0],
        ],
        T0,
      );
      await r.alerts.saveState([['meta:aliveAt', T0 + M]], T0 + M);
      r = current = await r.reopen();
      expect(await r.alerts.allState()).toEqual(
        new Map<string, unknown>([
          ['hold:b1-power', { until: T0 + 5 * M, band: 'alarm' }],
          ['meta:aliveAt', T0 + M],
        ]),
      );
    });

    it('keeps incidents, their alerts and their timeline', async () => {
      const r = await start();
      await r.alerts.save(alertRecord());
      await r.alerts.save(alertRecord({ id: 'a-2', rule: 'x', startedAt: T0 + M }));
      await r.incidents.open({ id: 'i-1', room: 'b1-power', startedAt: T0, endedAt: null, peakMm: null, peakAt: null });
      await expect(r.incidents.open({ id: 'i-2', room: 'b1-power', startedAt: T0, endedAt: null, peakMm: null, peakAt: null })).rejects.toThrow();
      await r.incidents.attach('i-1', 'a-2');
      await r.incidents.attach('i-1', 'a-1');
      await r.incidents.attach('i-1', 'a-1');
      await r.incidents.addEvent('i-1', { at: T0 + 2 * M, kind: 'pump-start', subject: 'P1', value: null, detail: null });
      await r.incidents.addEvent('i-1', { at: T0 + M, kind: 'level-peak', subject: null, value: 300, detail: 'x' });
      await r.incidents.setPeak('i-1', 300, T0 + M);
      expect(await r.incidents.alertIds('i-1')).toEqual(['a-1', 'a-2']);
      expect(await r.incidents.alertCounts(['i-1', 'i-9'])).toEqual(new Map([['i-1', 2], ['i-9', 0]]));
      expect((await r.incidents.events('i-1')).map((e) => [e.kind, e.at, e.value])).toEqual([
        ['level-peak', T0 + M, 300],
        ['pump-start', T0 + 2 * M, null],
      ]);
      expect((await r.incidents.openIncidents()).map((i) => i.id)).toEqual(['i-1']);
      await r.incidents.end('i-1', T0 + 9 * M);
      expect(await r.incidents.openIncidents()).toEqual([]);
      expect(await r.incidents.get('i-1')).toEqual({ id: 'i-1', room: 'b1-power', startedAt: T0, endedAt: T0 + 9 * M, peakMm: 300, peakAt: T0 + M });
      expect((await r.incidents.list({ from: T0 + 10 * M, to: T0 + 20 * M, limit: 10 })).length).toBe(0);
      expect((await r.incidents.list({ from: T0, to: T0 + 20 * M, room: 'b1-power', limit: 10 })).map((i) => i.id)).toEqual(['i-1']);
      expect((await r.incidents.list({ from: T0, to: T0 + 20 * M, room: 'other', limit: 10 })).length).toBe(0);
    });

    it('writes live state inside a transaction, and a failed transaction leaves nothing', async () => {
      let r = await start();
      const live = r.live;
      const row = (subject: string, ts: number, data: unknown) => ({ subject, kind: 'level' as const, ts, changedAt: ts, seenAt: ts + 5, data });
      await r.transactions.run(function* (tx) {
        yield live.participant.putLatest(tx, [row('flood/r/levels/L1', T0, { mm: 10 }), row('flood/r/levels/L2', T0, { mm: 20 })]);
        yield live.participant.addScans(tx, [{ gateId: 'G1', event: 'entry', pass: 'QR-1', ts: T0 }], 50);
      });
      await r.transactions.run(function* (tx) {
        yield live.participant.putLatest(tx, [row('flood/r/levels/L1', T0 + M, { mm: 11 })]);
      });
      await expect(
        Promise.resolve().then(() =>
          r.transactions.run(function* (tx) {
            yield live.participant.putLatest(tx, [row('flood/r/levels/L1', T0 + 2 * M, { mm: 999 })]);
            throw new Error('boom');
          }),
        ),
      ).rejects.toThrow('boom');
      r = current = await r.reopen();
      const loaded = await r.live.load(10);
      expect(loaded.latest.sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([row('flood/r/levels/L1', T0 + M, { mm: 11 }), row('flood/r/levels/L2', T0, { mm: 20 })]);
      expect(loaded.scans).toEqual([{ gateId: 'G1', event: 'entry', pass: 'QR-1', ts: T0 }]);
    });
  });
}
