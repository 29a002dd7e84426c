/**
 * The live park: one SSE connection per tab to /api/stream, merged into rune state once per
 * animation frame.
 *
 * Events update plain maps at once (O(1) each); a frame callback then publishes fresh immutable
 * arrays to `$state.raw` fields, so a burst of 600 bay events costs one copy and one render.
 * A dropped connection shows as `reconnecting`; the store retries with capped exponential backoff
 * and jitter, and every new connection starts from the server's `snapshot`, which replaces all
 * state (no stale leftovers from before the gap).
 */
import type {
  Alert,
  BayView,
  FloodResponse,
  FloodRoomView,
  GateScanView,
  LevelView,
  ParkingResponse,
  PumpView,
  RoomEvent,
  RoomStormView,
  ChecklistItemView,
  StreamSnapshot,
  VenueView,
  WarningView,
} from '@parkops/contract';
import { parseSubject, roomOf } from '@parkops/contract/subjects.ts';
import { AlertText } from '@parkops/ingest/text/alert-text.ts';
import type { NameSource, TextLang } from '@parkops/ingest/text/types.ts';
import { site } from './site.svelte.ts';

export type LiveStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'signed-out';

/** The part of EventSource the store uses, so tests can drive it. */
export interface StreamSource {
  addEventListener(type: string, listener: (ev: { data: string }) => void): void;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  close(): void;
}

export interface LiveDeps {
  openStream(url: string): StreamSource;
  requestFrame(cb: () => void): void;
  setTimer(cb: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  now(): number;
  random(): number;
  /** Asked after repeated failures: is the session still valid? false stops reconnecting. */
  checkSession?(): Promise<boolean>;
}

export interface ZoneCount {
  id: string;
  name: string;
  nameZh?: string | undefined;
  total: number;
  occupied: number;
  unknown: number;
  stale: number;
}

const MAX_SCANS = 50;
export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;

/** Backoff before attempt `n` (0-based): 1 s, 2 s, 4 s ... capped at 30 s, with ±20 % jitter. */
export function backoffMs(attempt: number, random: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random));
}

/** An alert someone still has to acknowledge (docs/api.md, the alert object). */
export function needsAck(a: Alert): boolean {
  return a.state === 'firing' || (a.state === 'resolved' && !a.ackedAt);
}
export function isActive(a: Alert): boolean {
  return a.state !== 'resolved' || !a.ackedAt;
}
export function isFloodAlert(a: Alert): boolean {
  return a.room !== undefined || roomOf(parseSubject(a.subject)) !== undefined;
}

type LevelEvent = { room: string } & LevelView;
type PumpEvent = { room: string } & PumpView;

export class LiveStore {
  status = $state<LiveStatus>('idle');
  /** client time of the last message from the server (any event) */
  lastMessageAt = $state<number | null>(null);
  /** serverTime - client time at the last snapshot, to correct ages for a skewed client clock */
  clockOffsetMs = $state(0);
  /** becomes true with the first snapshot, and stays true across reconnects */
  loaded = $state(false);

  bays = $state.raw<BayView[]>([]);
  zones = $state.raw<ZoneCount[]>([]);
  gates = $state.raw<ParkingResponse['gates']>([]);
  scans = $state.raw<GateScanView[]>([]);
  rooms = $state.raw<FloodRoomView[]>([]);
  venues = $state.raw<VenueView[]>([]);
  alerts = $state.raw<Alert[]>([]);
  /** official weather warnings in force for the site, newest first */
  warnings = $state.raw<WarningView[]>([]);
  /** bumps whenever bays are republished; the lot map redraws on it */
  bayVersion = $state(0);
  /** how many events the last frame merged, for diagnostics */
  lastBatch = $state(0);

  private readonly deps: LiveDeps;
  private readonly url: string;
  private source: StreamSource | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private framePending = false;
  private stopped = true;
  private batch = 0;

  // Working state, mutated per event and published per frame.
  private bayList: BayView[] = [];
  private bayIndex = new Map<string, number>();
  private zoneMeta: ParkingResponse['zones'] = [];
  private scanList: GateScanView[] = [];
  private roomList: FloodRoomView[] = [];
  private venueList: VenueView[] = [];
  private alertMap = new Map<string, Alert>();
  private warningMap = new Map<string, WarningView>();
  private dirty = { bays: false, scans: false, rooms: false, venues: false, alerts: false, gates: false, warnings: false };

  constructor(deps: LiveDeps, url = '/api/stream') {
    this.deps = deps;
    this.url = url;
  }

  get parking(): { total: number; occupied: number; free: number; unknown: number } {
    let total = 0, occupied = 0, unknown = 0;
    for (const z of this.zones) { total += z.total; occupied += z.occupied; unknown += z.unknown; }
    return { total, occupied, free: total - occupied - unknown, unknown };
  }

  /** A room's display name in the given language, for alert titles. */
  roomName(id: string, lang: string): string | undefined {
    const r = this.rooms.find((x) => x.id === id);
    if (!r) return undefined;
    return lang === 'zh-CN' && r.nameZh ? r.nameZh : r.name;
  }

  /** The site's names as the live snapshot carries them, for the alert text renderer. Read lazily: reactive. */
  readonly names: NameSource = {
    room: (id) => this.rooms.find((r) => r.id === id),
    device: (roomId, id) => {
      const r = this.rooms.find((x) => x.id === roomId);
      return r?.levels.find((l) => l.id === id) ?? r?.pumps.find((p) => p.id === id);
    },
    zone: (id) => this.zones.find((z) => z.id === id),
    venue: (id) => this.venues.find((v) => v.id === id),
  };

  private readonly texts = new Map<string, AlertText>();

  /** Alert text in `lang` (the user's), in the site's time zone, from the alerts' structured details. */
  text(lang: TextLang): AlertText {
    const tz = site.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    const key = `${lang}|${tz}`;
    let t = this.texts.get(key);
    if (!t) {
      t = new AlertText(lang, tz, this.names);
      this.texts.set(key, t);
    }
    return t;
  }

  /** Alerts not yet closed, newest first. */
  get activeAlerts(): Alert[] {
    return this.alerts.filter(isActive);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.source?.close();
    this.source = null;
    if (this.retryTimer !== null) this.deps.clearTimer(this.retryTimer);
    this.retryTimer = null;
    this.status = 'idle';
  }

  /** Apply an alert the client got from an API answer (an ack) without waiting for the stream. */
  applyAlert(a: Alert): void {
    this.onAlert(a);
  }

  private connect(): void {
    this.status = this.loaded ? 'reconnecting' : 'connecting';
    const src = this.deps.openStream(this.url);
    this.source = src;
    const on = <T>(type: string, fn: (data: T) => void): void => {
      src.addEventListener(type, (ev) => {
        if (this.source !== src) return;
        let data: T;
        try {
          data = JSON.parse(ev.data) as T;
        } catch {
          return; // a malformed event is dropped; the next snapshot heals any gap
        }
        this.lastMessageAt = this.deps.now();
        fn(data);
        this.batch++;
        this.schedule();
      });
    };
    on<StreamSnapshot>('snapshot', (s) => this.onSnapshot(s));
    on<BayView>('bay', (b) => this.onBay(b));
    on<GateScanView>('gate', (g) => this.onGate(g));
    on<LevelEvent>('level', (l) => this.onLevel(l));
    on<PumpEvent>('pump', (p) => this.onPump(p));
    on<RoomEvent>('room', (r) => this.onRoom(r));
    on<VenueView>('venue', (v) => this.onVenue(v));
    on<Alert>('alert', (a) => this.onAlert(a));
    on<WarningView>('warning', (w) => this.onWarning(w));
    on<{ room: string; stormMode: boolean }>('storm', (e) => this.onStorm(e));
    on<{ room: string; storm: RoomStormView }>('readiness', (e) => this.onReadiness(e));
    src.onopen = () => {
      if (this.source !== src) return;
      // "live" only once the snapshot arrived: before that the screen still shows old data.
    };
    src.onerror = () => {
      if (this.source !== src) return;
      src.close();
      this.source = null;
      this.status = this.loaded ? 'reconnecting' : 'connecting';
      this.scheduleRetry();
    };
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffMs(this.attempt, this.deps.random());
    this.attempt++;
    this.retryTimer = this.deps.setTimer(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      // After a few failures, find out whether the session ended rather than the server.
      if (this.attempt >= 3 && this.deps.checkSession) {
        this.deps.checkSession().then((ok) => {
          if (this.stopped) return;
          if (ok) this.connect();
          else { this.status = 'signed-out'; this.stopped = true; }
        }, () => this.connect());
      } else {
        this.connect();
      }
    }, delay);
  }

  private schedule(): void {
    if (this.framePending) return;
    this.framePending = true;
    this.deps.requestFrame(() => this.flush());
  }

  /** Publish the working state to the rune fields. Called once per animation frame. */
  flush(): void {
    this.framePending = false;
    const t0 = performance.now();
    const d = this.dirty;
    if (d.bays) {
      this.bays = this.bayList.slice();
      this.zones = this.countZones();
      this.bayVersion++;
    }
    if (d.gates) this.gates = this.gates.slice();
    if (d.scans) this.scans = this.scanList.slice();
    if (d.rooms) this.rooms = this.roomList.slice();
    if (d.venues) this.venues = this.venueList.slice();
    if (d.alerts) {
      this.alerts = [...this.alertMap.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    }
    if (d.warnings) this.warnings = [...this.warningMap.values()].sort((a, b) => b.sent.localeCompare(a.sent));
    this.dirty = { bays: false, scans: false, rooms: false, venues: false, alerts: false, gates: false, warnings: false };
    this.lastBatch = this.batch;
    // User Timing entries let the e2e run measure how long a burst takes to merge and draw.
    performance.measure?.('parkops:flush', { start: t0, end: performance.now(), detail: { events: this.batch } });
    this.batch = 0;
  }

  private countZones(): ZoneCount[] {
    const byZone = new Map<string, ZoneCount>();
    for (const z of this.zoneMeta) {
      byZone.set(z.id, { id: z.id, name: z.name, nameZh: z.nameZh, total: 0, occupied: 0, unknown: 0, stale: 0 });
    }
    for (const b of this.bayList) {
      let z = byZone.get(b.zone);
      if (!z) { z = { id: b.zone, name: b.zone, total: 0, occupied: 0, unknown: 0, stale: 0 }; byZone.set(b.zone, z); }
      z.total++;
      if (b.occupied === true) z.occupied++;
      else if (b.occupied === null) z.unknown++;
      if (b.stale) z.stale++;
    }
    return [...byZone.values()];
  }

  private onSnapshot(s: StreamSnapshot): void {
    this.attempt = 0;
    if (s.site) {
      site.timezone = s.site.timezone;
      site.language = s.site.language;
    }
    this.clockOffsetMs = Date.parse(s.serverTime) - this.deps.now();
    this.zoneMeta = s.parking.zones;
    this.bayList = s.parking.bays.slice();
    this.bayIndex = new Map(this.bayList.map((b, i) => [b.id, i]));
    this.gates = s.parking.gates;
    this.scanList = (s.parking.recentScans ?? []).slice(0, MAX_SCANS);
    this.roomList = s.flood.rooms;
    this.venueList = s.venues;
    this.alertMap = new Map(s.alerts.map((a) => [a.id, a]));
    this.warningMap = new Map((s.warnings ?? []).map((w) => [w.id, w]));
    this.dirty = { bays: true, scans: true, rooms: true, venues: true, alerts: true, gates: false, warnings: true };
    this.loaded = true;
    this.status = 'live';
  }

  private onBay(b: BayView): void {
    const i = this.bayIndex.get(b.id);
    if (i === undefined) {
      this.bayIndex.set(b.id, this.bayList.length);
      this.bayList.push(b);
    } else {
      this.bayList[i] = b;
    }
    this.dirty.bays = true;
  }

  private onGate(g: GateScanView): void {
    this.scanList = [g, ...this.scanList].slice(0, MAX_SCANS);
    this.dirty.scans = true;
  }

  private onLevel(l: LevelEvent): void {
    const { room, ...level } = l;
    this.roomList = this.roomList.map((r) => r.id !== room ? r : {
      ...r,
      levels: upsert(r.levels, level),
    });
    this.dirty.rooms = true;
  }

  private onPump(p: PumpEvent): void {
    const { room, ...pump } = p;
    this.roomList = this.roomList.map((r) => r.id !== room ? r : {
      ...r,
      pumps: upsert(r.pumps, pump),
    });
    this.dirty.rooms = true;
  }

  /** The room's level and band as the alert engine judged them: shown as they come, never worked out here. */
  private onRoom(e: RoomEvent): void {
    this.roomList = this.roomList.map((r) => r.id !== e.room ? r : { ...r, level: e.level, band: e.band });
    this.dirty.rooms = true;
  }

  private onVenue(v: VenueView): void {
    this.venueList = upsert(this.venueList, v);
    this.dirty.venues = true;
  }

  /** A warning arrived or changed: kept while it is relevant and in force, dropped when it ends or is cancelled. */
  private onWarning(w: WarningView): void {
    if (w.relevant && w.inForce) this.warningMap.set(w.id, w);
    else this.warningMap.delete(w.id);
    this.dirty.warnings = true;
  }

  private onStorm(e: { room: string; stormMode: boolean }): void {
    this.roomList = this.roomList.map((r) => (r.id === e.room ? { ...r, stormMode: e.stormMode } : r));
    this.dirty.rooms = true;
  }

  /** The room's storm view as the server evaluated it (storm mode, rules, the readiness checklist). */
  private onReadiness(e: { room: string; storm: RoomStormView }): void {
    this.roomList = this.roomList.map((r) => (r.id === e.room ? { ...r, storm: e.storm, stormMode: e.storm.mode } : r));
    this.dirty.rooms = true;
  }

  /** A checklist item the client got from an API answer (a tick) without waiting for the stream. */
  applyChecklistItem(roomId: string, item: ChecklistItemView): void {
    this.roomList = this.roomList.map((r) => (r.id !== roomId || !r.storm ? r : { ...r, storm: { ...r.storm, checklist: r.storm.checklist.map((i) => (i.id === item.id ? item : i)) } }));
    this.dirty.rooms = true;
    this.schedule();
  }

  private onAlert(a: Alert): void {
    const old = this.alertMap.get(a.id);
    // Out-of-order delivery (an ack answer racing the stream) must not roll an alert back.
    if (old && old.updatedAt && a.updatedAt && a.updatedAt < old.updatedAt) return;
    if (!isActive(a)) this.alertMap.delete(a.id);
    else this.alertMap.set(a.id, a);
    this.dirty.alerts = true;
    this.schedule();
  }
}

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i < 0) return [...list, item];
  const next = list.slice();
  next[i] = item;
  return next;
}

/** The store for this tab, wired to the browser. Created on first use in the browser only. */
let instance: LiveStore | null = null;
export function liveStore(): LiveStore {
  if (instance) return instance;
  instance = new LiveStore({
    openStream: (url) => new EventSource(url) as unknown as StreamSource,
    requestFrame: (cb) => {
      // Hidden tabs get no frames; fall back to a timer so state stays current for the alarm.
      if (document.visibilityState === 'hidden') setTimeout(cb, 250);
      else requestAnimationFrame(cb);
    },
    setTimer: (cb, ms) => setTimeout(cb, ms),
    clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    random: Math.random,
    checkSession: async () => {
      const res = await fetch('/api/auth/me', { credentials: 'same-origin' });
      return res.status !== 401;
    },
  });
  return instance;
}

export type { FloodResponse };
