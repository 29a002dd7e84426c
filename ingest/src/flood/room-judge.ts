/**
 * The one judgement of a flood room (docs/alerts.md, "Judging a room"). Per device: when ParkOps last
 * heard from it, when its value last changed, whether its last status said offline, and whether it is
 * fresh. Per room: which level sensors count, the combined level, and the band with its hysteresis and
 * hold times. The alert engine owns one judge per room (it persists the state), and the flood API, the
 * live stream, the flood report and the dashboard all show what this judge says; nothing else works out
 * a room's level or band.
 *
 * Every time here is the server clock when ParkOps received a message, never a device's `ts`: a device
 * with a wrong clock, or one flushing readings it buffered, is judged by when its messages arrive.
 */
import type { FloodBand, FloodLevelView } from '@parkops/contract/api.ts';
import type { FloodRoom } from '@parkops/contract/site/index.ts';

/** Band index: 0 normal, 1 warning, 2 alarm, 3 critical. */
export type BandIndex = 0 | 1 | 2 | 3;
export const BAND_NAMES = ['normal', 'warning', 'alarm', 'critical'] as const satisfies readonly FloodBand[];
export type BandName = FloodBand;

/** Persistence the judge needs (the alert engine's rule-state table). */
export interface JudgeStore {
  load<T>(key: string): T | undefined;
  save(key: string, value: unknown): void;
}

/** What the judge keeps per level sensor or pump. Last heard and last changed are kept apart on purpose. */
export interface DeviceRecord {
  /** When any message from the device (reading or status) last arrived. */
  heardAt: number | null;
  /** When its last level or pump reading arrived, applied or back-fill. */
  readingAt: number | null;
  /** When its value last changed. A value sitting unchanged while still reported is alive, not stale. */
  changedAt: number | null;
  /** Silence is measured from here: heardAt, moved forward by the time the engine itself was down. */
  silentFrom: number;
  /** Its last status said `offline` and no reading or `online` arrived since. */
  offline: boolean;
  /** A status message ever arrived (the API says `online: null` until then). */
  statusKnown: boolean;
  /** Device time (`ts`) of the newest applied value. */
  valueTs: number | null;
  mm?: number | null;
  running?: boolean | null;
  amps?: number | null;
  /** When the pump last started (running false -> true), receipt time. */
  startedAt?: number | null;
  /** Pump start times in the last hour, for short cycling. */
  starts?: number[];
}

/** The device record kept before the judge existed (`online` stuck at false was the bug this judge fixes). */
interface LegacyDeviceRecord {
  seenAt?: number | null;
  online?: boolean | null;
}

/** Persisted per room under `band:{room}`. */
export interface BandState {
  band: BandIndex;
  /** Per band 1..3 (index 0..2): since when the level has reached its threshold, for the hold. */
  above: [number | null, number | null, number | null];
  /** A fall waiting out the clear hold. */
  falling: { target: BandIndex; since: number } | null;
}

/** When a band is entered (rising) or left (falling) if the level stays where it is; ISO 8601 UTC. */
export type PendingBand = NonNullable<FloodLevelView['pending']>;

export interface DeviceJudgement {
  id: string;
  stale: boolean;
  /** null until a status message arrived; a reading after `offline` makes it true again */
  online: boolean | null;
  /** ISO 8601 UTC receipt time of the last message of any kind */
  lastSeen: string | null;
}

export interface RoomJudgement {
  room: string;
  /** null when no level sensor is fresh */
  level: FloodLevelView | null;
  /** the judged band, also while no sensor is fresh (it is held, not dropped) */
  band: BandName;
  levels: DeviceJudgement[];
  pumps: DeviceJudgement[];
}

export interface FreshLevel {
  id: string;
  mm: number;
  ts: number;
}

/**
 * The room's level from its fresh sensors: the HIGHEST one ("1-out-of-2"). A level sensor fails low far
 * more dangerously than high: a radar fouled by foam, a pressure cell silted up or drifting, a float
 * stuck at the bottom all read low while the water rises, and in a power room a hidden flood is the
 * failure that costs the switchgear. Taking the lower of two sensors (the rule before this one) let one
 * such sensor hide the water for the whole disagreement time; taking the higher one means a single
 * sensor that sees water is believed. Its cost, a false alarm from a sensor stuck high, is bounded by the
 * band hold times (a spike on one sensor must last `holdSec`) and surfaced by the sensors-disagree alert.
 */
export function combineLevels(fresh: readonly number[]): number | null {
  if (fresh.length === 0) return null;
  let top = fresh[0]!;
  for (const mm of fresh) if (mm > top) top = mm;
  return top;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class RoomJudge {
  readonly room: FloodRoom;
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly stale = new Map<string, number>();
  private bandState: BandState;
  private readonly bandKey: string;

  constructor(
    room: FloodRoom,
    private readonly store: JudgeStore,
    now: number,
  ) {
    this.room = room;
    this.bandKey = `band:${room.id}`;
    for (const l of room.levels) this.stale.set(l.id, l.staleAfterSec * 1000);
    for (const p of room.pumps) this.stale.set(p.id, p.staleAfterSec * 1000);
    this.bandState = store.load<BandState>(this.bandKey) ?? this.legacyBand();
    for (const id of this.stale.keys()) {
      const stored = store.load<DeviceRecord & LegacyDeviceRecord>(`dev:${id}`);
      const dev = stored ? upgrade(stored) : { heardAt: null, readingAt: null, changedAt: null, silentFrom: now, offline: false, statusKnown: false, valueTs: null };
      // Never heard of: its silence counts from the engine's first start, kept across restarts.
      this.devices.set(id, dev);
      store.save(`dev:${id}`, dev);
    }
  }

  /** Band and pending hold as the engine stored them before the judge had its own key. */
  private legacyBand(): BandState {
    const old = this.store.load<{ band?: BandIndex; pending?: { target: BandIndex; since: number } | null }>(`room:${this.room.id}`);
    const band = old?.band ?? 0;
    const s: BandState = { band, above: [null, null, null], falling: null };
    const p = old?.pending;
    if (p && p.target > band) s.above[p.target - 1] = p.since;
    else if (p) s.falling = { target: p.target, since: p.since };
    return s;
  }

  /** Called once at start with how long the engine was down: silence is not counted while nobody listened. */
  creditDowntime(ms: number, now: number): void {
    if (ms <= 0) return;
    for (const [id, d] of this.devices) {
      d.silentFrom = Math.min(now, d.silentFrom + ms);
      this.store.save(`dev:${id}`, d);
    }
  }

  device(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }

  get bandIndex(): BandIndex {
    return this.bandState.band;
  }

  /** Since when the level has been back below the band's threshold − deadband (a fall waiting out its hold). */
  get fallingSince(): number | null {
    return this.bandState.falling?.since ?? null;
  }

  /**
   * Any reading RECEIVED now proves the device is alive now, applied or back-fill: a device flushing
   * readings it buffered while its link was down, oldest last, is talking to us this second. So a reading
   * clears `offline` and silence at once. Only an applied reading changes the value.
   */
  private heard(d: DeviceRecord, now: number): void {
    d.heardAt = now;
    d.readingAt = now;
    d.silentFrom = now;
    d.offline = false;
  }

  /** A level reading; returns true when it moved the sensor's value (a new sample of the room's level). */
  onLevel(sensorId: string, mm: number, ts: number, applied: boolean, now: number): boolean {
    const d = this.devices.get(sensorId);
    if (!d || this.room.levels.every((l) => l.id !== sensorId)) return false;
    this.heard(d, now);
    if (applied) {
      if (d.mm !== mm) d.changedAt = now;
      d.mm = mm;
      d.valueTs = ts;
    }
    this.store.save(`dev:${sensorId}`, d);
    return applied;
  }

  /** A pump reading; returns the start or stop it shows, if any (with the run time of a stop). */
  onPump(pumpId: string, running: boolean, amps: number | null, ts: number, applied: boolean, now: number): { started: true } | { started: false; runMs: number | null } | null {
    const d = this.devices.get(pumpId);
    if (!d || this.room.pumps.every((p) => p.id !== pumpId)) return null;
    this.heard(d, now);
    let edge: { started: true } | { started: false; runMs: number | null } | null = null;
    if (applied) {
      const was = d.running ?? null;
      if (was !== running || d.amps !== amps) d.changedAt = now;
      if (running && was !== true) {
        d.startedAt = now;
        // A pump first heard already running did not start now: it does not count towards short cycling.
        if (was === false) d.starts = [...(d.starts ?? []), now];
        edge = { started: true };
      } else if (!running && was === true) {
        edge = { started: false, runMs: d.startedAt != null ? now - d.startedAt : null };
        d.startedAt = null;
      }
      d.running = running;
      d.amps = amps;
      d.valueTs = ts;
    }
    this.store.save(`dev:${pumpId}`, d);
    return edge;
  }

  /**
   * `park/devices/{id}/status`. `offline` (often the device's Last Will) marks it offline only until its
   * next reading or `online`: the status says the broker lost the connection once, a reading says the
   * device is talking now.
   */
  onStatus(deviceId: string, online: boolean, now: number): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    d.heardAt = now;
    d.silentFrom = now;
    d.offline = !online;
    d.statusKnown = true;
    this.store.save(`dev:${deviceId}`, d);
  }

  /** Drops pump starts older than an hour; returns the ones left. */
  pumpStartsSince(pumpId: string, from: number): number[] {
    const d = this.devices.get(pumpId);
    if (!d) return [];
    const starts = (d.starts ?? []).filter((t) => t > from);
    if (starts.length !== (d.starts ?? []).length) {
      d.starts = starts;
      this.store.save(`dev:${pumpId}`, d);
    }
    return starts;
  }

  isOffline(id: string): boolean {
    return this.devices.get(id)?.offline ?? false;
  }

  /** Stale: its last status said offline (and nothing came since), or silent past staleAfterSec. */
  isStale(id: string, now: number): boolean {
    const d = this.devices.get(id);
    const limit = this.stale.get(id);
    if (!d || limit === undefined) return true;
    return d.offline || now - d.silentFrom > limit;
  }

  /** Sensors that count: fresh, with a value. */
  freshLevels(now: number): FreshLevel[] {
    const out: FreshLevel[] = [];
    for (const l of this.room.levels) {
      const d = this.devices.get(l.id)!;
      if (d.mm != null && d.heardAt !== null && !this.isStale(l.id, now)) out.push({ id: l.id, mm: d.mm, ts: d.valueTs ?? d.readingAt ?? now });
    }
    return out;
  }

  combinedLevel(now: number): number | null {
    return combineLevels(this.freshLevels(now).map((f) => f.mm));
  }

  threshold(band: BandIndex): number {
    const b = this.room.bands;
    return band === 1 ? b.warnMm : band === 2 ? b.alarmMm : band === 3 ? b.criticalMm : -Infinity;
  }

  /**
   * Steps the band. Entering a band: the combined level reached its threshold and has not fallen to
   * threshold − deadband since, for holdSec (each band's hold runs from when the level reached that band,
   * so a one-sensor spike into critical does not ride on an older warning hold). CRITICAL is entered at
   * once when EVERY fresh sensor reads at or above it: two sensors agreeing is confirmation, while a
   * single sensor's spike (a radar reflection, a splash) must hold like any other band before it calls the
   * response team out at night. Leaving: the level at or below threshold − deadband for `clearHoldSec`,
   * band by band. With no fresh sensor the band is held: a rise still completes its hold (the water was
   * above the threshold when last seen), a fall does not (a blind room has not shown the water going).
   */
  step(now: number, clearHoldSec: number, holdSec: number = this.room.bands.holdSec): void {
    const s = this.bandState;
    const { deadbandMm } = this.room.bands;
    const fresh = this.freshLevels(now);
    const level = combineLevels(fresh.map((f) => f.mm));
    if (level !== null) {
      for (const b of [1, 2, 3] as const) {
        if (level >= this.threshold(b)) s.above[b - 1] ??= now;
        else if (level <= this.threshold(b) - deadbandMm) s.above[b - 1] = null;
      }
      const critical = this.threshold(3);
      if (s.band < 3 && fresh.every((f) => f.mm >= critical)) {
        s.band = 3;
        s.falling = null;
      }
      if (level <= this.threshold(s.band) - deadbandMm) {
        let down: BandIndex = 0;
        for (const b of [1, 2, 3] as const) if (b < s.band && level > this.threshold(b) - deadbandMm) down = b;
        s.falling = s.falling && s.falling.target < s.band ? { target: down, since: s.falling.since } : { target: down, since: now };
      } else {
        s.falling = null;
      }
    }
    let up: BandIndex = s.band;
    for (const b of [1, 2, 3] as const) {
      const since = s.above[b - 1];
      if (b > s.band && since != null && now - since >= holdSec * 1000) up = b;
    }
    if (up > s.band) {
      s.band = up;
      s.falling = null;
    } else if (s.falling && level !== null && now - s.falling.since >= clearHoldSec * 1000) {
      s.band = s.falling.target;
      s.falling = null;
    }
    this.store.save(this.bandKey, s);
  }

  /** The band change waiting, if the level stays where it is. */
  private pending(clearHoldSec: number, holdSec: number): PendingBand | undefined {
    const s = this.bandState;
    const holdMs = holdSec * 1000;
    let next: { band: BandIndex; at: number } | undefined;
    for (const b of [1, 2, 3] as const) {
      const since = s.above[b - 1];
      if (b > s.band && since != null && (!next || b > next.band)) next = { band: b, at: since + holdMs };
    }
    if (next) return { band: BAND_NAMES[next.band], at: iso(next.at) };
    if (s.falling) return { band: BAND_NAMES[s.falling.target], at: iso(s.falling.since + clearHoldSec * 1000) };
    return undefined;
  }

  private deviceJudgement(id: string, now: number): DeviceJudgement {
    const d = this.devices.get(id)!;
    return { id, stale: this.isStale(id, now), online: d.statusKnown ? !d.offline : null, lastSeen: d.heardAt === null ? null : iso(d.heardAt) };
  }

  /** `holdSec`: the band hold in use (the storm hold in storm mode, alerts/flood/storm.ts). */
  judgement(now: number, clearHoldSec: number, holdSec: number = this.room.bands.holdSec): RoomJudgement {
    const fresh = this.freshLevels(now);
    const band = BAND_NAMES[this.bandState.band];
    let level: FloodLevelView | null = null;
    const mm = combineLevels(fresh.map((f) => f.mm));
    if (mm !== null) {
      const top = fresh.find((f) => f.mm === mm)!;
      level = { mm, band, ts: iso(top.ts), sensors: fresh.map((f) => f.id), from: top.id };
      const pending = this.pending(clearHoldSec, holdSec);
      if (pending) level.pending = pending;
    }
    return {
      room: this.room.id,
      level,
      band,
      levels: this.room.levels.map((l) => this.deviceJudgement(l.id, now)),
      pumps: this.room.pumps.map((p) => this.deviceJudgement(p.id, now)),
    };
  }
}

function upgrade(d: DeviceRecord & LegacyDeviceRecord): DeviceRecord {
  if (d.heardAt !== undefined) return d;
  // A record written before the judge: `seenAt` was last heard, `online: false` the stuck offline flag.
  const { seenAt, online, ...rest } = d;
  return {
    ...rest,
    heardAt: seenAt ?? null,
    readingAt: seenAt ?? null,
    offline: online === false,
    statusKnown: online !== null && online !== undefined,
    valueTs: null,
  };
}
