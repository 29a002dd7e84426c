/**
 * Typed event bus between modules (STYLE.md; zigbee2mqtt lib/eventBus.ts). Each listener is isolated:
 * one that throws or rejects is logged and the others still run, so a faulty notification flow can never
 * stop ingest or alert evaluation.
 */
import type { Alert, Reading, Rejection, RoomStormView, WarningView } from '@parkops/contract/index.ts';
import type { Logger } from './log.ts';

export interface ReadingAccepted {
  reading: Reading;
  /** Same subject and ts was already stored (a QoS 1 redelivery). */
  duplicate: boolean;
  /** The reading moved live state forward (false for back-fill older than the current state, and duplicates). */
  applied: boolean;
  /** Server clock when the message arrived, epoch ms. */
  receivedAt: number;
}

/**
 * One committed batch: every reading of one SQLite transaction, in the order received, emitted once
 * right after the commit, after the per-reading `reading.accepted` events of the same batch and in
 * the same synchronous pass (the adapter writes the batch's PUBACKs only when that pass ends).
 *
 * A consumer that only needs the newest state per subject can skip all but the last reading of it
 * (the SSE stream does). An alert engine on this event evaluates every reading of the batch in
 * order (a level that crossed a band and fell back within one batch still crossed it), raises,
 * stores and publishes what changed before returning, and stores its own rule state once per batch
 * instead of once per reading: a critical level is then raised when its batch commits, never later.
 */
export interface ReadingsAccepted {
  readings: ReadingAccepted[];
}

export interface ReadingRejected {
  topic: string;
  rejection: Rejection;
  receivedAt: number;
}

export interface AlertChanged {
  alert: Alert;
  /** What happened: opened, acknowledged, resolved, re-notified, escalated, worsened, ... */
  change: string;
}

/** The alert engine judged a flood room anew: its level or band changed, or these devices' views did. */
export interface FloodJudged {
  room: string;
  level: boolean;
  devices: string[];
}

export interface WarningChanged {
  warning: WarningView;
  /** received: stored for the first time; in-force / expired: its window began or ended; superseded: an Update or Cancel replaced it */
  change: 'received' | 'in-force' | 'expired' | 'superseded';
}

/** A flood room went into storm mode, or its storm warning changed while it stayed in storm mode. */
export interface StormStarted {
  roomId: string;
  /** epoch ms */
  at: number;
  /** the newest storm warning in force */
  warning: WarningView;
  /** every storm warning in force */
  warnings: WarningView[];
}
export interface StormEnded {
  roomId: string;
  at: number;
  /** the warning that kept the room in storm mode last */
  warning: WarningView | null;
  /** expired: its window ended; cancelled / updated: a CAP Cancel or Update ended it; disabled: storm mode was turned off for the room */
  reason: 'expired' | 'cancelled' | 'updated' | 'disabled';
}

/** The storm module evaluated a room anew and its storm view (mode, checklist) changed. */
export interface StormReadiness {
  roomId: string;
  storm: RoomStormView;
}

export interface BusEvents {
  'reading.accepted': ReadingAccepted;
  'flood.judged': FloodJudged;
  'readings.accepted': ReadingsAccepted;
  'reading.rejected': ReadingRejected;
  'alert.changed': AlertChanged;
  'mqtt.status': { connected: boolean; detail: string };
  'warning.changed': WarningChanged;
  'storm.started': StormStarted;
  'storm.updated': StormStarted;
  'storm.ended': StormEnded;
  'storm.readiness': StormReadiness;
}

type Listener<T> = (payload: T) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Map<keyof BusEvents, Set<Listener<never>>>();
  constructor(private readonly log: Logger) {}

  on<K extends keyof BusEvents>(event: K, listener: Listener<BusEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof BusEvents>(event: K, payload: BusEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        const result = (listener as Listener<BusEvents[K]>)(payload);
        if (result instanceof Promise) {
          result.catch((err: unknown) => this.log.error({ err, event }, 'event listener failed'));
        }
      } catch (err) {
        this.log.error({ err, event }, 'event listener failed');
      }
    }
  }

  removeAll(): void {
    this.listeners.clear();
  }
}
