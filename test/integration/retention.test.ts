/**
 * Retention on real SQLite files: raw readings go after PARKOPS_RETENTION_DAYS while the report rollups
 * stay (a three-year report gives the same figures after), raw rows a rollup still needs are kept
 * until it is built, and the event owners (alerts, incidents, audit log, sessions, notifications) prune
 * only what is past its time and never an open alert or incident.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reading } from '@parkops/contract';
import { Subjects } from '@parkops/contract/subjects.ts';
import { openPipeline, type Pipeline } from '../../ingest/src/reports/testing.ts';
import { SqliteStore } from '../../ingest/src/store/sqlite-store.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { migrateDatabase } from '../../ingest/src/db/migrations.ts';
import { SCHEMAS } from '../../ingest/src/db/schemas.ts';
import { SqliteAlertRepository, SqliteIncidentRepository } from '../../ingest/src/alerts/index.ts';
import type { AlertRecord } from '../../ingest/src/alerts/alert-repository.ts';
import { SqliteAuthRepository } from '../../ingest/src/auth/sqlite-repository.ts';
import { Notifier } from '../../ingest/src/notify/index.ts';
import { SqliteOutboxRepository } from '../../ingest/src/store/outbox.ts';
import { EventBus } from '../../ingest/src/bus.ts';
import { loadConfig } from '../../ingest/src/config.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { Metrics } from '../../ingest/src/metrics.ts';
import { RetentionService, retentionTasks } from '../../ingest/src/retention/retention-service.ts';

const DAY = 86_400_000;
const END = Date.parse('2026-11-01T00:00:00+08:00');
const YEARS3 = { from: END - 3 * 365 * DAY, to: END };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Three years, a few readings a day of two bays, a gate, a venue counter, a room's level sensors and a pump. */
function history(p: Pipeline): Reading[] {
  const { site } = p;
  const bays = site.bays.slice(0, 2);
  const gate = site.gates[0]!;
  const venue = site.venues[0]!;
  const room = site.rooms[0]!;
  const pump = room.pumps[0]!;
  const out: Reading[] = [];
  for (let t = YEARS3.from; t < YEARS3.to; t += DAY) {
    const d = Math.round((t - YEARS3.from) / DAY);
    for (const [i, b] of bays.entries()) {
      out.push({ kind: 'bay', subject: Subjects.bay(b.id), ts: t + 8 * 3_600_000 + i * 60_000, bayId: b.id, zoneId: b.zone, occupied: true });
      out.push({ kind: 'bay', subject: Subjects.bay(b.id), ts: t + (12 + (d % 5)) * 3_600_000, bayId: b.id, zoneId: b.zone, occupied: false });
    }
    out.push({ kind: 'gate', subject: Subjects.gate(gate.id), ts: t + 9 * 3_600_000, gateId: gate.id, event: 'entry', pass: `P${d}` });
    out.push({ kind: 'gate', subject: Subjects.gate(gate.id), ts: t + 11 * 3_600_000, gateId: gate.id, event: 'exit', pass: `P${d}` });
    out.push({ kind: 'venue', subject: Subjects.venueCounts(venue.id), ts: t + 10 * 3_600_000, venueId: venue.id, in: 5 + (d % 7), out: 0 });
    out.push({ kind: 'venue', subject: Subjects.venueCounts(venue.id), ts: t + 18 * 3_600_000, venueId: venue.id, in: 0, out: 5 + (d % 7) });
    for (const l of room.levels) {
      out.push({ kind: 'level', subject: Subjects.level(room.id, l.id), ts: t + 6 * 3_600_000, roomId: room.id, sensorId: l.id, mm: 100 + (d % 50) * 10 });
      out.push({ kind: 'level', subject: Subjects.level(room.id, l.id), ts: t + 7 * 3_600_000, roomId: room.id, sensorId: l.id, mm: 80 });
    }
    out.push({ kind: 'pump', subject: Subjects.pump(room.id, pump.id), ts: t + 6 * 3_600_000 + 120_000, roomId: room.id, pumpId: pump.id, running: d % 3 === 0 });
  }
  return out;
}

async function figures(p: Pipeline): Promise<unknown> {
  const b = p.reports.builder;
  const parking = await b.parking(YEARS3, { every: '1d' });
  const venues = await b.venues(YEARS3, { every: '1d' });
  const flood = await b.flood(YEARS3, {});
  return {
    usage: await p.store.usage('parking', YEARS3, '1d'),
    usageVenue: await p.store.usage(Subjects.venue(p.site.venues[0]!.id), YEARS3, '1d'),
    parking: { summary: parking.summary, days: parking.days, zones: parking.zones },
    venues: venues.venues,
    flood: flood.rooms,
  };
}

async function writeAll(store: SqliteStore | Pipeline['store'], list: Reading[]): Promise<void> {
  for (const r of list) await store.write(r);
}

async function pruneAll(p: Pipeline, cutoff: number, slice = 2000): Promise<number> {
  const r = p.store.retention()!;
  let total = 0;
  for (;;) {
    const n = await r.pruneBefore(cutoff, slice);
    expect(n).toBeLessThanOrEqual(slice);
    if (n === 0) return total;
    total += n;
  }
}

const rawBefore = (p: Pipeline, table: string, t: number): number => p.db.prepare(`SELECT count(*) FROM ${table} WHERE ts < ?`).pluck().get(t) as number;

describe('retention of raw readings', () => {
  it('a three-year report gives the same figures after the raw readings past retention are gone', async () => {
    const p = await openPipeline();
    try {
      const list = history(p);
      await writeAll(p.store, list);
      await p.reports.rollups!.refresh();
      expect(await p.reports.rollups!.pending()).toBe(0);
      const before = await figures(p);
      const countsBefore = await p.store.counts();
      const cutoff = END - 400 * DAY;

      const pruned = await pruneAll(p, cutoff, 500);
      expect(pruned).toBeGreaterThan(0);
      for (const t of ['bay_readings', 'level_readings', 'pump_readings', 'venue_counts']) expect(rawBefore(p, t, cutoff - DAY)).toBe(0);
      const countsAfter = await p.store.counts();
      // Gate scans (and the sessions paired from them) are the parking report's only source of entries: kept.
      expect(countsAfter.gate).toBe(countsBefore.gate);
      expect(countsAfter.bay).toBeLessThan(countsBefore.bay / 2);
      expect(pruned).toBe(Object.values(countsBefore).reduce((a, b) => a + b, 0) - Object.values(countsAfter).reduce((a, b) => a + b, 0));
      expect(await p.store.retention()!.oldest()).toBeGreaterThanOrEqual(cutoff - DAY);

      expect(await figures(p)).toEqual(before);
      // Rolling up again (a restart, a refresh) changes nothing either.
      await p.reports.rollups!.refresh();
      expect(await figures(p)).toEqual(before);
    } finally {
      await p.close();
    }
  });

  it('keeps the raw readings of a quarter whose rollup is not built yet, and prunes them once it is', async () => {
    const p = await openPipeline();
    try {
      await writeAll(p.store, history(p));
      await p.reports.rollups!.refresh();
      const cutoff = END - 400 * DAY;
      // A back-filled reading from two years ago: its quarter is dirty until the rollups run.
      const bay = p.site.bays[0]!;
      const late = END - 2 * 365 * DAY + 13 * 3_600_000 + 7 * 60_000;
      await p.store.write({ kind: 'bay', subject: Subjects.bay(bay.id), ts: late, bayId: bay.id, zoneId: bay.zone, occupied: true });
      expect(await p.reports.rollups!.pending()).toBeGreaterThan(0);
      const keptFrom = late - 2 * DAY;
      const rawAroundLate = p.db.prepare('SELECT count(*) FROM bay_readings WHERE ts >= ?').pluck().get(late - DAY / 2) as number;

      await pruneAll(p, cutoff);
      // Everything before the dirty quarter's look-back went; nothing from there on.
      expect(rawBefore(p, 'bay_readings', keptFrom)).toBe(0);
      expect(p.db.prepare('SELECT count(*) FROM bay_readings WHERE ts >= ?').pluck().get(late - DAY / 2)).toBe(rawAroundLate);

      await p.reports.rollups!.refresh();
      expect(await pruneAll(p, cutoff)).toBeGreaterThan(0);
      expect(rawBefore(p, 'bay_readings', cutoff - DAY)).toBe(0);
    } finally {
      await p.close();
    }
  });

  it('a reading from before the retention horizon arriving later leaves that quarter rolled up as it was', async () => {
    const p = await openPipeline();
    try {
      await writeAll(p.store, history(p));
      await p.reports.rollups!.refresh();
      await pruneAll(p, END - 400 * DAY);
      const before = await figures(p);
      const bay = p.site.bays[1]!;
      await p.store.write({ kind: 'bay', subject: Subjects.bay(bay.id), ts: END - 700 * DAY + 15 * 3_600_000, bayId: bay.id, zoneId: bay.zone, occupied: true });
      await p.reports.rollups!.refresh();
      expect(await p.reports.rollups!.pending()).toBe(0);
      expect(await figures(p)).toEqual(before);
    } finally {
      await p.close();
    }
  });

  it('keeps its horizon across a restart', async () => {
    const p = await openPipeline();
    dirs.push(p.dir);
    await writeAll(p.store, history(p));
    await p.reports.rollups!.refresh();
    await pruneAll(p, END - 400 * DAY);
    const before = await figures(p);
    await p.close({ keep: true });
    const q = await openPipeline({ dir: p.dir });
    try {
      const bay = q.site.bays[0]!;
      await q.store.write({ kind: 'bay', subject: Subjects.bay(bay.id), ts: END - 600 * DAY + 15 * 3_600_000, bayId: bay.id, zoneId: bay.zone, occupied: false });
      await q.reports.rollups!.refresh();
      expect(await figures(q)).toEqual(before);
    } finally {
      await q.close({ keep: true });
    }
  });
});

function alert(id: string, o: Partial<AlertRecord>): AlertRecord {
  return {
    id,
    rule: 'level',
    subject: `flood/b1/levels/${id}`,
    severity: 'warning',
    state: 'resolved',
    message: 'm',
    details: null,
    value: null,
    room: null,
    etaMin: null,
    etaTarget: null,
    grade: 1,
    startedAt: 0,
    updatedAt: 0,
    ackedAt: null,
    ackedBy: null,
    ackNote: null,
    resolvedAt: null,
    escalateFrom: 0,
    escalatedAt: null,
    ...o,
  };
}

describe('retention of events', () => {
  it('prunes old resolved and acknowledged alerts, ended incidents, the audit log, expired sessions and notifications, in slices, and nothing open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-retention-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    migrateDatabase(db, SCHEMAS, { complete: true });
    const now = END;
    const old = now - 2000 * DAY;
    const recent = now - 10 * DAY;
    const alerts = new SqliteAlertRepository(db);
    const incidents = new SqliteIncidentRepository(db);
    const auth = new SqliteAuthRepository(db);
    const log = createLogger('silent');
    const config = loadConfig({ PARKOPS_DATA_DIR: dir }, { dotenv: false });
    const notifier = new Notifier({ db, bus: new EventBus(log), config, log });
    const outbox = new SqliteOutboxRepository(db);
    try {
      // 20 old resolved + acknowledged: all go (old-3 with its ended incident); one attached to an incident that ended recently stays.
      for (let i = 0; i < 20; i++) await alerts.save(alert(`old-${i}`, { startedAt: old + i, updatedAt: old + i, resolvedAt: old + 1000, ackedAt: old + 2000 }), { change: 'resolved', at: old + 1000 });
      await alerts.save(alert('old-open', { state: 'firing', startedAt: old, updatedAt: old }));
      await alerts.save(alert('old-unacked', { startedAt: old, updatedAt: old, resolvedAt: old + 5 }));
      await alerts.save(alert('recent', { startedAt: recent, updatedAt: recent, resolvedAt: recent + 5, ackedAt: recent + 6 }));
      await alerts.save(alert('old-in-kept-incident', { startedAt: old, updatedAt: old, resolvedAt: old + 5, ackedAt: old + 6 }));
      await incidents.open({ id: 'inc-old', room: 'b1', startedAt: old, endedAt: null, peakMm: null, peakAt: null });
      await incidents.attach('inc-old', 'old-3');
      await incidents.addEvent('inc-old', { at: old + 1, kind: 'level-peak', subject: null, value: 1, detail: null });
      await incidents.end('inc-old', old + 3000);
      await incidents.open({ id: 'inc-open', room: 'b2', startedAt: old, endedAt: null, peakMm: null, peakAt: null });
      await incidents.open({ id: 'inc-kept', room: 'b3', startedAt: old, endedAt: null, peakMm: null, peakAt: null });
      await incidents.attach('inc-kept', 'old-in-kept-incident');
      await incidents.end('inc-kept', recent);
      for (let i = 0; i < 7; i++) await auth.appendAudit({ at: new Date(old + i).toISOString(), actor: 'admin', action: 'user.create' });
      await auth.appendAudit({ at: new Date(recent).toISOString(), actor: 'admin', action: 'user.update' });
      expect(await auth.insertUser({ username: 'u', role: 'viewer', passwordHash: 'x', mustChangePassword: false, at: new Date(old).toISOString() })).toBe(true);
      await auth.insertSession({ idHash: 'expired', owner: { username: 'u' }, createdAt: old, expiresAt: now - 1, ip: '127.0.0.1' });
      await auth.insertSession({ idHash: 'valid', owner: { username: 'u' }, createdAt: now - 1000, expiresAt: now + 3_600_000, ip: '127.0.0.1' });
      const delivery = db.prepare(
        "INSERT INTO notification_deliveries (alert_id, change, channel, target, body, state, attempts, next_at, created_at, updated_at) VALUES (?, 'firing', 'webhook', 'http://127.0.0.1/x', 'BODY', ?, 1, 0, ?, ?)",
      );
      const attempt = db.prepare("INSERT INTO notifications (delivery_id, alert_id, change, channel, target, attempt, status, at, duration_ms) VALUES (?, ?, 'firing', 'webhook', 'http://127.0.0.1/…', 1, 'sent', ?, 5)");
      const dOld = Number(delivery.run('old-1', 'sent', new Date(old).toISOString(), new Date(old).toISOString()).lastInsertRowid);
      attempt.run(dOld, 'old-1', new Date(old).toISOString());
      const d60 = Number(delivery.run('recent', 'sent', new Date(now - 60 * DAY).toISOString(), new Date(now - 60 * DAY).toISOString()).lastInsertRowid);
      attempt.run(d60, 'recent', new Date(now - 60 * DAY).toISOString());
      const dPending = Number(delivery.run('recent', 'pending', new Date(now - 60 * DAY).toISOString(), new Date(now - 60 * DAY).toISOString()).lastInsertRowid);
      await outbox.setAside({ id: 0, line: 'bad line', queuedAt: old }, 'invalid', old);
      await outbox.setAside({ id: 0, line: 'bad line 2', queuedAt: recent }, 'invalid', recent);

      const metrics = new Metrics();
      const service = new RetentionService({
        tasks: retentionTasks({ days: { readings: 400, events: 1825, notifyBodies: 30 }, readings: null, incidents, alerts, auth, notifications: notifier, outbox }),
        log,
        metrics,
        sliceRows: 3,
        pauseMs: 0,
        now: () => now,
      });
      const removed = await service.runOnce();
      expect(removed).toEqual({ incidents: 1, alerts: 20, audit: 7, notifications: 1, notification_bodies: 1, sessions: 1, outbox_rejected: 1 });
      expect((await alerts.active()).map((a) => a.id).sort()).toEqual(['old-open', 'old-unacked']);
      expect(await alerts.get('old-3')).toBeUndefined();
      expect(await alerts.get('old-4')).toBeUndefined();
      expect(await alerts.get('recent')).toBeDefined();
      expect(await alerts.get('old-in-kept-incident')).toBeDefined();
      expect(await alerts.events('old-5')).toEqual([]);
      expect(await incidents.get('inc-old')).toBeUndefined();
      expect(await incidents.get('inc-open')).toBeDefined();
      expect(await incidents.get('inc-kept')).toBeDefined();
      expect((await auth.listAudit({ limit: 100 })).map((e) => e.action)).toEqual(['user.update']);
      expect(db.prepare('SELECT id_hash FROM auth_sessions').pluck().all()).toEqual(['valid']);
      expect(await notifier.forAlert('old-1')).toEqual([]);
      expect(await notifier.forAlert('recent')).toHaveLength(1);
      const bodies = db.prepare('SELECT id, body FROM notification_deliveries ORDER BY id').all();
      expect(bodies).toEqual([
        { id: d60, body: '' },
        { id: dPending, body: 'BODY' },
      ]);
      expect((await outbox.rejected(10)).map((r) => r.line)).toEqual(['bad line 2']);
      const text = await metrics.render();
      expect(text).toContain('parkops_retention_pruned_total{what="alerts"} 20');
      // A second run finds nothing more.
      expect(Object.values(await service.runOnce()).every((n) => n === 0)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('keeps everything when the settings say 0 (for good), except expired sessions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-retention-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    migrateDatabase(db, SCHEMAS, { complete: true });
    const log = createLogger('silent');
    const alerts = new SqliteAlertRepository(db);
    const incidents = new SqliteIncidentRepository(db);
    const auth = new SqliteAuthRepository(db);
    const notifier = new Notifier({ db, bus: new EventBus(log), config: loadConfig({ PARKOPS_DATA_DIR: dir }, { dotenv: false }), log });
    try {
      await alerts.save(alert('a', { startedAt: 1, updatedAt: 1, resolvedAt: 2, ackedAt: 3 }));
      await auth.appendAudit({ at: new Date(1).toISOString(), actor: 'admin', action: 'x' });
      const service = new RetentionService({
        tasks: retentionTasks({ days: { readings: 0, events: 0, notifyBodies: 0 }, readings: null, incidents, alerts, auth, notifications: notifier, outbox: new SqliteOutboxRepository(db) }),
        log,
        pauseMs: 0,
        now: () => END,
      });
      expect(await service.runOnce()).toEqual({ sessions: 0 });
      expect(await alerts.get('a')).toBeDefined();
      expect(await auth.listAudit({ limit: 10 })).toHaveLength(1);
    } finally {
      db.close();
    }
  });
});
