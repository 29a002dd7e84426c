/**
 * Telemetry ingest: one device message in, durably committed (or rejected with a reason) before
 * `handle` returns. The MQTT adapters call it and acknowledge the message only afterwards, so an
 * acknowledged reading is never only in memory.
 */
import { decodeMessage, type Reading, type Rejection, type Topics } from './contract/index.ts';
import type { EventBus } from './bus.ts';
import type { LiveState, Plan } from './live-state.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Publisher } from './module.ts';
import type { Site } from './site/index.ts';
import type { Db } from './store/db.ts';
import type { TimeSeriesStore } from './store/types.ts';

/** Runs inside the ingest transaction after the reading is written (e.g. report rollups). */
export type TransactionHook = (reading: Reading, applied: boolean) => void;

export type HandleResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';

export class StoreUnavailable extends Error {}

export class Ingest {
  private readonly hooks: TransactionHook[] = [];
  private readonly commit: (plan: Plan) => boolean;
  private rejectLogAt = 0;
  private rejectsSinceLog = 0;
  publisher: Publisher | null = null;

  constructor(
    private readonly deps: { db: Db; store: TimeSeriesStore; live: LiveState; bus: EventBus; topics: Topics; site: Site; metrics: Metrics; log: Logger },
  ) {
    const { db, store, live } = deps;
    this.commit = db.transaction((plan: Plan): boolean => {
      const stored = store.write(plan.reading);
      if (stored) {
        live.persist(plan);
        for (const hook of this.hooks) hook(plan.reading, plan.applies);
      }
      return stored;
    });
  }

  addTransactionHook(hook: TransactionHook): void {
    this.hooks.push(hook);
  }

  /**
   * Handles one message. Returns once the reading is durably committed. Throws StoreUnavailable when the
   * store cannot commit: the caller must then NOT acknowledge the message, so the broker redelivers it.
   */
  handle(topic: string, payload: Uint8Array, receivedAt: number = Date.now()): HandleResult {
    const { topics, metrics } = this.deps;
    const parsed = topics.parse(topic);
    // ParkOps' own messages come back on the `park/#` subscription; they are not device input.
    if (parsed.kind === 'alert' || parsed.kind === 'rejected' || parsed.kind === 'ops') return 'ignored';
    metrics.received.inc();
    const result = decodeMessage(topic, payload, { topics, site: this.deps.site, receivedAt });
    if (!result.ok) {
      this.reject(topic, result.rejection, receivedAt);
      return 'rejected';
    }
    const reading = result.reading;
    const plan = this.deps.live.plan(reading, receivedAt);
    let stored: boolean;
    try {
      stored = this.commit(plan);
    } catch (err) {
      metrics.storeErrors.inc();
      throw new StoreUnavailable(`store write failed: ${(err as Error).message}`, { cause: err });
    }
    metrics.commitSeconds.observe((Date.now() - receivedAt) / 1000);
    metrics.accepted.inc({ kind: reading.kind });
    if (!stored) {
      metrics.duplicates.inc();
      this.deps.bus.emit('reading.accepted', { reading, duplicate: true, applied: false, receivedAt });
      return 'duplicate';
    }
    this.deps.live.commit(plan);
    this.deps.bus.emit('reading.accepted', { reading, duplicate: false, applied: plan.applies, receivedAt });
    return 'accepted';
  }

  private reject(topic: string, rejection: Rejection, receivedAt: number): void {
    const { metrics, bus, log, topics } = this.deps;
    metrics.rejected.inc({ reason: rejection.code });
    bus.emit('reading.rejected', { topic, rejection, receivedAt });
    // A misbehaving device can send thousands a second: log the first, then a count every 10 s.
    this.rejectsSinceLog++;
    if (receivedAt - this.rejectLogAt > 10_000) {
      log.warn({ topic: topic.slice(0, 200), reason: rejection.reason, rejectedSinceLastLog: this.rejectsSinceLog }, 'message rejected');
      this.rejectLogAt = receivedAt;
      this.rejectsSinceLog = 0;
    }
    const notice = JSON.stringify({ topic, reason: rejection.reason, code: rejection.code, at: new Date(receivedAt).toISOString() });
    this.publisher?.publish(topics.rejected, notice, { qos: 0, retain: false }).catch(() => {
      // Best effort: the rejection is already counted and on the bus; a notice lost with the broker is not data.
    });
  }
}
