/**
 * Test harness for the alert engine: a real SQLite file in a temp folder, a real EventBus, a Publisher
 * that records what would go to MQTT, and helpers that feed readings the way ingest emits them. Time is
 * vitest's fake clock (`vi.useFakeTimers()`): the engine's tick and `Date.now()` both follow it.
 *
 * The engine announces a change (MQTT, `alert.changed`) once its write settled, so the feeding
 * helpers resolve after `engine.settled()`: when one resolves, every change it caused is stored,
 * published and in `changes`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';
import { EventBus, type AlertChanged } from '../bus.ts';
import type { Alert } from '@parkops/contract/api.ts';
import type { BayReading, LevelReading, PumpReading, Reading, StatusReading, VenueReading } from '@parkops/contract/readings.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { createLogger } from '../log.ts';
import type { PublishOptions, Publisher } from '../module.ts';
import { parseSite, type Site, type SiteFile } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { AlertEngine, type AuditEntry } from './alert-engine.ts';
import { SqliteAlertRepository } from './alert-repository.ts';
import { SqliteIncidentRepository } from './incident-repository.ts';
import type { NotificationAttempt, NotificationLog } from './incidents.ts';
import { Subjects } from '@parkops/contract/subjects.ts';

export interface Published {
  topic: string;
  payload: string;
  opts: PublishOptions;
}

export class RecordingPublisher implements Publisher {
  readonly messages: Published[] = [];
  async publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    this.messages.push({ topic, payload: payload.toString(), opts });
  }
  /** What a subscriber connecting now would get as retained, per topic. */
  retained(): Map<string, string> {
    const out = new Map<string, string>();
    for (const m of this.messages) {
      if (!m.opts.retain) continue;
      if (m.payload === '') out.delete(m.topic);
      else out.set(m.topic, m.payload);
    }
    return out;
  }
}

/**
 * A small site with numbers chosen for readable arithmetic: bands 300/500/700, floor 900, pit 2 m² (1 L = 0.5 mm),
 * pumps of 10 L/min (5 mm/min each), sensors every 10 s (stale after 30 s), pumps every 30 s (stale after 90 s).
 */
export function testSiteFile(room: Record<string, unknown> = {}, extra: Partial<SiteFile> = {}): SiteFile {
  return {
    id: 'test-site',
    name: 'Test site',
    timezone: 'Asia/Shanghai',
    parking: {
      zones: [
        { id: 'A', name: 'Zone A', bays: ['A1', 'A2', 'A3'] },
        { id: 'B', name: 'Zone B', bays: ['B1', 'B2', 'B3', 'B4'] },
      ],
      gates: [{ id: 'g-in', name: 'Gate', direction: 'entry' }],
      lowBatteryPct: 15,
    },
    flood: {
      rooms: [
        {
          id: 'b1',
          name: 'B1 power room',
          bands: { warnMm: 300, alarmMm: 500, criticalMm: 700, floorMm: 900, deadbandMm: 25, holdSec: 30, clearHoldSec: 120 },
          pit: { areaM2: 2, depthMm: 900 },
          levels: [
            { id: 'L1', name: 'Level 1', intervalSec: 10 },
            { id: 'L2', name: 'Level 2', intervalSec: 10 },
          ],
          pumps: [
            { id: 'P1', name: 'Duty pump', role: 'duty', startMm: 250, stopMm: 80, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30 },
            { id: 'P2', name: 'Standby pump', role: 'standby', startMm: 450, stopMm: 150, capacityLpm: 10, ampsMin: 3, ampsMax: 9, intervalSec: 30 },
          ],
          ...room,
        },
      ],
    },
    venues: [{ id: 'gym', name: 'Gym', kind: 'indoor', areaM2: 200, capacity: 50 }],
    notifications: { escalationContacts: ['duty-manager'] },
    ...extra,
  };
}

/** Notification attempts as the notifications module would report them (the NotificationLog seam). */
export class RecordedNotifications implements NotificationLog {
  readonly attempts: NotificationAttempt[] = [];
  async forAlerts(alertIds: string[]): Promise<NotificationAttempt[]> {
    const ids = new Set(alertIds);
    return this.attempts.filter((a) => ids.has(a.alertId));
  }
}

export interface PumpReport {
  running: boolean;
  amps?: number;
}

export class Harness {
  readonly bus: EventBus;
  readonly publisher = new RecordingPublisher();
  readonly changes: AlertChanged[] = [];
  readonly audits: AuditEntry[] = [];
  readonly notifications = new RecordedNotifications();
  engine!: AlertEngine;
  db!: Db;
  /** Storm mode of every room, as the warnings module would answer it (tests switch it). */
  storm = false;

  constructor(
    readonly dir: string,
    readonly site: Site,
    /** Where acknowledgements are audited besides `audits` (e.g. the real auth module). */
    private readonly auditTo?: (e: AuditEntry) => void,
  ) {
    this.bus = new EventBus(createLogger('silent'));
    this.bus.on('alert.changed', (e) => void this.changes.push(e));
  }

  async start(): Promise<this> {
    this.db = openDatabase(this.dir);
    this.engine = new AlertEngine({
      repo: new SqliteAlertRepository(this.db),
      incidents: new SqliteIncidentRepository(this.db),
      notifications: this.notifications,
      bus: this.bus,
      site: this.site,
      topics: new Topics('park'),
      publisher: this.publisher,
      log: createLogger('silent'),
      stormMode: () => this.storm,
      audit: (e) => {
        this.audits.push(e);
        this.auditTo?.(e);
      },
    });
    await this.engine.start();
    return this;
  }

  private stopped = false;
  /** Stops the engine and closes the database, keeping the file (for restart tests). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.engine.stop();
    this.db.close();
  }

  /** Resolves once every change so far is stored, published and in `changes`. */
  settle(): Promise<void> {
    return this.engine.settled();
  }

  private feed(reading: Reading, opts: { applied?: boolean; duplicate?: boolean } = {}): void {
    this.bus.emit('reading.accepted', { reading, applied: opts.applied ?? true, duplicate: opts.duplicate ?? false, receivedAt: Date.now() });
  }

  async emit(reading: Reading, opts: { applied?: boolean; duplicate?: boolean } = {}): Promise<void> {
    this.feed(reading, opts);
    await this.settle();
  }

  private levelReading(sensorId: string, mm: number, room: string): LevelReading {
    return { kind: 'level', subject: Subjects.level(room, sensorId), ts: Date.now(), roomId: room, sensorId, mm };
  }
  private pumpReading(pumpId: string, p: PumpReport, room: string): PumpReading {
    return { kind: 'pump', subject: Subjects.pump(room, pumpId), ts: Date.now(), roomId: room, pumpId, running: p.running, amps: p.amps };
  }

  async level(sensorId: string, mm: number, room = 'b1'): Promise<void> {
    await this.emit(this.levelReading(sensorId, mm, room));
  }
  /** Both level sensors report `mm` (or each its own value). */
  async levels(mm: number | [number, number], room = 'b1'): Promise<void> {
    const [a, b] = typeof mm === 'number' ? [mm, mm] : mm;
    this.feed(this.levelReading('L1', a, room));
    this.feed(this.levelReading('L2', b, room));
    await this.settle();
  }
  async pump(pumpId: string, p: PumpReport, room = 'b1'): Promise<void> {
    await this.emit(this.pumpReading(pumpId, p, room));
  }
  async status(deviceId: string, online: boolean): Promise<void> {
    const r: StatusReading = { kind: 'status', subject: `devices/${deviceId}/status`, ts: Date.now(), deviceId, online };
    await this.emit(r);
  }
  async bay(bayId: string, zoneId: string, occupied: boolean, battery?: number): Promise<void> {
    const r: BayReading = { kind: 'bay', subject: `parking/bays/${bayId}`, ts: Date.now(), bayId, zoneId, occupied, battery };
    await this.emit(r);
  }
  async venue(venueId: string, occupancy: number): Promise<void> {
    const r: VenueReading = { kind: 'venue', subject: Subjects.venueCounts(venueId), ts: Date.now(), venueId, in: 0, out: 0, occupancy };
    await this.emit(r);
  }

  /** Moves fake time on (the engine's tick runs) and resolves once what it caused is announced. */
  async advance(ms: number): Promise<void> {
    vi.advanceTimersByTime(ms);
    await this.settle();
  }

  /**
   * Runs the world for `seconds` in steps of `stepSec`: at each step both level sensors report
   * `level(tSec)` and the pumps report (idle by default), then fake time moves on by one step.
   * Resolves once everything it caused is stored and announced.
   */
  async run(seconds: number, level: (tSec: number) => number | [number, number] | null, opts: { stepSec?: number; pumps?: (tSec: number) => Record<string, PumpReport | null> } = {}): Promise<void> {
    const step = opts.stepSec ?? 10;
    for (let t = 0; t < seconds; t += step) {
      const pumps = opts.pumps?.(t) ?? { P1: { running: false, amps: 0 }, P2: { running: false, amps: 0 } };
      for (const [id, p] of Object.entries(pumps)) if (p) this.feed(this.pumpReading(id, p, 'b1'));
      const mm = level(t);
      if (mm !== null) {
        const [a, b] = typeof mm === 'number' ? [mm, mm] : mm;
        this.feed(this.levelReading('L1', a, 'b1'));
        this.feed(this.levelReading('L2', b, 'b1'));
      }
      vi.advanceTimersByTime(step * 1000);
    }
    await this.settle();
  }

  /** Lifecycle changes of one rule (optionally one subject); `updated` (a value or ETA moved) only when asked. */
  changesOf(rule: string, subject?: string, withUpdates = false): AlertChanged[] {
    return this.changes.filter((c) => c.alert.rule === rule && (subject === undefined || c.alert.subject === subject) && (withUpdates || c.change !== 'updated'));
  }
  openOf(rule: string, subject?: string): Alert[] {
    return this.engine.active().filter((a) => a.rule === rule && a.state !== 'resolved' && (subject === undefined || a.subject === subject));
  }
}

const dirs: string[] = [];

/** A started harness on a fresh temp folder; `cleanup()` in afterEach removes the folders. */
export async function startHarness(room: Record<string, unknown> = {}, extra: Partial<SiteFile> = {}, dir?: string): Promise<Harness> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'parkops-alerts-'));
  if (!dir) dirs.push(d);
  return new Harness(d, parseSite(testSiteFile(room, extra))).start();
}

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'parkops-alerts-'));
  dirs.push(d);
  return d;
}

export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const BASE_TIME = Date.parse('2026-07-15T06:00:00Z');

/**
 * The common set-up of the rule tests: fake time from BASE_TIME and a fresh harness per test, stopped
 * and cleaned up after it. `use` receives each new harness (`let h!: Harness; useHarness((x) => (h = x));`).
 */
export function useHarness(use: (h: Harness) => void): void {
  let current: Harness | undefined;
  beforeEach(async () => {
    vi.useFakeTimers({ now: BASE_TIME });
    current = await startHarness();
    use(current);
  });
  afterEach(async () => {
    await current?.stop();
    vi.useRealTimers();
    cleanupDirs();
  });
}
