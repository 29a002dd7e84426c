/**
 * Typed event bus between modules (STYLE.md; zigbee2mqtt lib/eventBus.ts). Each listener is isolated:
 * one that throws or rejects is logged and the others still run, so a faulty notification flow can never
 * stop ingest or alert evaluation.
 */
import type { Alert, Reading, Rejection } from './contract/index.ts';
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

export interface BusEvents {
  'reading.accepted': ReadingAccepted;
  'readings.accepted': ReadingsAccepted;
  'reading.rejected': ReadingRejected;
  'alert.changed': AlertChanged;
  'mqtt.status': { connected: boolean; detail: string };
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
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
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
