/**
 * Telemetry ingest: device messages in, each durably committed (or rejected with a reason) before the
 * MQTT adapter acknowledges it, so an acknowledged reading is never only in memory.
 *
 * Group commit: adapters hand messages over with `enqueue` and acknowledge in the callback. Messages
 * that arrive in the same turn of the event loop (from several connections of a `$share` group, or
 * several devices on the embedded broker) are committed in one SQLite transaction. MQTT.js handles one
 * packet at a time per connection (ENVIRONMENT.md), so batching needs several connections; the
 * transaction's BEGIN/COMMIT was a fifth of the ingest CPU time per message in a profile.
 */
import { decodeMessage, type Reading, type Rejection, type Topics } from './contract/index.ts';
import type { EventBus } from './bus.ts';
import type { LiveState, Plan } from './live-state.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Publisher } from './module.ts';
import type { Site } from './site/index.ts';
import type { TimeSeriesStore } from './store/types.ts';
import { FencedOut, type Awaitable, type TransactionRunner, type Tx } from './db/tx.ts';

export type HandleResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';
export type Ack = (err?: Error) => void;

export class StoreUnavailable extends Error {}

/**
 * Network-server uplinks (CONTRACT.md section 6) arrive on topics outside the prefix. A translator
 * turns each into a section-1 topic and payload, which then take the same path as a device's own
 * message: the same decoder and rejections, the same transaction and acknowledgement.
 */
export type Translation =
  /**
   * `commit` is the translator's part of the ingest transaction, called once the reading is written
   * (`stored` false for a redelivery); `undo` runs if the reading is not committed after all.
   */
  | { kind: 'reading'; topic: string; payload: Uint8Array; commit(tx: Tx, stored: boolean): Awaitable<void>; undo(): void }
  | { kind: 'rejected'; rejection: Rejection }
  /** A valid uplink without a reading (unbound DevEUI, device information): acknowledged, nothing stored. */
  | { kind: 'handled' };
export interface UplinkTranslator {
  /** null: not an uplink topic. Never throws. */
  translate(topic: string, payload: Uint8Array, receivedAt: number): Translation | null;
}
type Uplink = Extract<Translation, { kind: 'reading' }>;

interface Pending {
  topic: string;
  payload: Uint8Array;
  receivedAt: number;
  ack: Ack;
  /** a retained message the broker replayed on subscribe (LiveState.plan) */
  replayed: boolean;
}
interface Committed {
  plan: Plan;
  stored: boolean;
  receivedAt: number;
}

/** At most this many messages in one transaction; a larger backlog is committed in several. */
const MAX_BATCH = 500;
/** How long an asynchronous engine's batch is tried again before its messages are left to redelivery. */
const RETRY_FOR_MS = 8000;

type Item = { reading: Reading; receivedAt: number; replayed: boolean; uplink?: Uplink | undefined };

export class Ingest {
  private pending: Pending[] = [];
  private flushScheduled = false;
  private rejectLogAt = 0;
  private rejectsSinceLog = 0;
  /** The tail of the batches in flight on an asynchronous engine. */
  private serial: Promise<void> = Promise.resolve();
  publisher: Publisher | null = null;
  translator: UplinkTranslator | null = null;

  constructor(
    private readonly deps: { transactions: TransactionRunner; store: TimeSeriesStore; live: LiveState; bus: EventBus; topics: Topics; site: Site; metrics: Metrics; log: Logger },
  ) {}

  /**
   * The batch transaction, written once for every engine (db/tx.ts): per reading, the store's rows
   * (readings, and for SQLite the rollup mark), the translator's (uplink counters and telemetry), and
   * after the batch live state's rows. Each owner writes only its own tables.
   */
  private *unit(tx: Tx, items: readonly Item[], undo: Array<() => void>): Generator<unknown, Committed[], unknown> {
    const { store, live } = this.deps;
    const out: Committed[] = [];
    const plans: Plan[] = [];
    for (const { reading, receivedAt, replayed, uplink } of items) {
      // Planned one by one against memory that already holds the batch's earlier readings.
      const plan = live.plan(reading, receivedAt, replayed);
      const stored = (yield store.participant.write(tx, reading)) as boolean;
      if (stored) {
        plans.push(plan);
        undo.push(live.commit(plan));
      }
      if (uplink) yield uplink.commit(tx, stored);
      out.push({ plan, stored, receivedAt });
    }
    yield live.persistBatch(tx, plans);
    return out;
  }

  /** Commits a batch; on failure undoes what it did to memory and rethrows. */
  private commitBatch(items: Item[]): Awaitable<Committed[]> {
    const { transactions, live } = this.deps;
    const undo: Array<() => void> = [];
    const fail = (err: unknown): never => {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      for (let i = items.length - 1; i >= 0; i--) items[i]!.uplink?.undo();
      live.forgetPersisted();
      throw err;
    };
    try {
      const result = transactions.run((tx) => this.unit(tx, items, undo));
      return result instanceof Promise ? result.catch(fail) : result;
    } catch (err) {
      return fail(err);
    }
  }

  /**
   * Hands a message over; `ack` is called once it is durably committed or rejected. `ack(err)` means
   * the store could not commit it: the adapter must NOT acknowledge it, so the broker redelivers it.
   */
  enqueue(topic: string, payload: Uint8Array, receivedAt: number, ack: Ack, replayed = false): void {
    this.pending.push({ topic, payload, receivedAt, ack, replayed });
    if (this.pending.length >= MAX_BATCH) return this.flush();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Handles one message synchronously: committed when it returns. Throws StoreUnavailable. */
  handle(topic: string, payload: Uint8Array, receivedAt: number = Date.now(), replayed = false): HandleResult {
    let result: HandleResult = 'ignored';
    let failure: Error | undefined;
    this.process([{ topic, payload, receivedAt, ack: (err) => (failure = err), replayed }], (r) => (result = r));
    if (failure) throw failure;
    return result;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) this.process(batch);
  }

  private process(batch: Pending[], report?: (r: HandleResult) => void): void {
    const { topics, metrics, site } = this.deps;
    const accepted: Array<{ reading: Reading; receivedAt: number; ack: Ack; replayed: boolean; uplink?: Uplink | undefined }> = [];
    for (const m of batch) {
      const parsed = topics.parse(m.topic);
      const translated = parsed.kind === 'foreign' ? this.translator?.translate(m.topic, m.payload, m.receivedAt) : undefined;
      // ParkOps' own messages come back on the `park/#` subscription; they are not device input.
      if (parsed.kind === 'alert' || parsed.kind === 'rejected' || parsed.kind === 'ops') {
        report?.('ignored');
        m.ack();
        continue;
      }
      metrics.received.inc();
      if (translated?.kind === 'rejected' || translated?.kind === 'handled') {
        if (translated.kind === 'rejected') this.reject(m.topic, translated.rejection, m.receivedAt);
        report?.(translated.kind === 'rejected' ? 'rejected' : 'ignored');
        m.ack();
        continue;
      }
      const uplink = translated ?? undefined;
      const result = decodeMessage(uplink?.topic ?? m.topic, uplink?.payload ?? m.payload, { topics, site, receivedAt: m.receivedAt });
      if (!result.ok) {
        uplink?.undo();
        // The notice names the topic the message came on: for an uplink, the network server's topic.
        this.reject(m.topic, uplink ? { code: result.rejection.code, reason: `${result.rejection.reason} (decoded from the uplink as ${uplink.topic} ${new TextDecoder().decode(uplink.payload)})` } : result.rejection, m.receivedAt);
        report?.('rejected');
        m.ack();
        continue;
      }
      accepted.push({ reading: result.reading, receivedAt: m.receivedAt, ack: m.ack, replayed: m.replayed, uplink });
    }
    if (accepted.length === 0) return;
    const failed = (err: unknown): void => {
      metrics.storeErrors.inc(undefined, accepted.length);
      const failure = new StoreUnavailable(`store write failed: ${(err as Error).message}`, { cause: err });
      for (const a of accepted) a.ack(failure);
    };
    let committed: Awaitable<Committed[]>;
    if (!this.deps.transactions.synchronous) {
      // An asynchronous engine (PostgreSQL): batches commit one after another, each planned against
      // memory that holds the batches before it, so a failed batch never leaves a later one planned
      // on state that was undone.
      const run = this.serial.then(() => this.commitWithRetry(accepted));
      this.serial = run.then(
        () => undefined,
        () => undefined,
      );
      run.then((c) => this.afterCommit(accepted, c, report), failed);
      return;
    }
    try {
      committed = this.commitBatch(accepted);
    } catch (err) {
      failed(err);
      return;
    }
    // SQLite answers synchronously: the acks and events go out in this same pass.
    if (committed instanceof Promise) committed.then((c) => this.afterCommit(accepted, c, report), failed);
    else this.afterCommit(accepted, committed, report);
  }

  /**
   * A database server that restarts (or fails over) refuses connections for a few seconds. The batch
   * is tried again for up to RETRY_FOR_MS before its messages are left unacknowledged for the broker
   * to redeliver: meanwhile MQTT.js holds the next packet, so nothing is acknowledged out of order. A
   * refusal by the fence (another process leads now) is final at once.
   */
  private async commitWithRetry(items: Item[]): Promise<Committed[]> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const t0 = Date.now();
      const slow = setTimeout(() => this.deps.log.warn({ attempt, items: items.length }, 'ingest: a batch has been committing for 2 s'), 2000);
      try {
        return await this.commitBatch(items);
      } catch (err) {
        this.deps.log.debug({ ms: Date.now() - t0 }, 'ingest: batch failed');
        if (err instanceof FencedOut || Date.now() - started > RETRY_FOR_MS) throw err;
        this.deps.log.warn({ err: (err as Error).message, attempt }, 'ingest: the batch did not commit; trying again');
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
      } finally {
        clearTimeout(slow);
      }
    }
  }

  private afterCommit(accepted: Array<{ ack: Ack }>, committed: Committed[], report?: (r: HandleResult) => void): void {
    const { metrics, bus } = this.deps;
    const now = Date.now();
    for (let i = 0; i < committed.length; i++) {
      const { plan, stored, receivedAt } = committed[i]!;
      const reading = plan.reading;
      metrics.commitSeconds.observe((now - receivedAt) / 1000);
      metrics.accepted.inc({ kind: reading.kind });
      if (!stored) metrics.duplicates.inc();
      report?.(stored ? 'accepted' : 'duplicate');
      accepted[i]!.ack();
      bus.emit('reading.accepted', { reading, duplicate: !stored, applied: stored && plan.applies, receivedAt });
    }
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
