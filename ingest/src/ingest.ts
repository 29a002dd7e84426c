/**
 * Telemetry ingest: device messages in, each durably committed (or rejected with a reason) before the
 * MQTT adapter acknowledges it, so an acknowledged reading is never only in memory.
 *
 * Group commit: adapters hand messages over with `enqueue` and acknowledge in the callback. Messages
 * that arrive in the same turn of the event loop are committed in one SQLite transaction: the window
 * of unacknowledged messages on the ingest's own MQTT connection (mqtt/ingest-subscriber.ts), several
 * connections of a `$share` group, or several devices on the embedded broker. A transaction's
 * BEGIN/COMMIT and WAL write were a quarter of the ingest CPU time when every message paid its own.
 *
 * The batch transaction spans several owners' tables, and each owner writes its own rows through its
 * participant (db/tx.ts): the store (readings, and for SQLite the rollup marks the reports read), the
 * device registry for uplinks (counters, telemetry), live state (`latest`, recent gate scans). The unit
 * of work is written once; SQLite runs it synchronously between BEGIN and COMMIT, another engine may
 * run it asynchronously on one client, and the acknowledgements wait for its COMMIT either way.
 *
 * After the commit, in this order and in one synchronous pass: the batch's metrics, the acks (in the
 * order received; the adapter writes their PUBACKs once the pass ends), `reading.accepted` per reading
 * and one `readings.accepted` for the batch. So an alert that a reading raises is raised when its
 * batch commits, before the next batch is read.
 */
import { writeSync } from 'node:fs';
import { decodeMessage, type Reading, type Rejection, type Topics } from '@parkops/contract/index.ts';
import type { EventBus, ReadingAccepted } from './bus.ts';
import type { LiveState, Plan } from './live-state.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Publisher } from './module.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import type { TimeSeriesStore } from './store/types.ts';
import { FencedOut, type Awaitable, type TransactionRunner, type Tx } from './db/tx.ts';

export type HandleResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';
export type Ack = (err?: Error) => void;

export class StoreUnavailable extends Error {}

/**
 * Network-server uplinks (docs/api.md, LoRaWAN) arrive on topics outside the prefix. A translator
 * turns each into a device topic and payload, which then take the same path as a device's own
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
interface ToCommit {
  reading: Reading;
  receivedAt: number;
  replayed: boolean;
  uplink?: Uplink | undefined;
}

/**
 * At most this many messages in one transaction; a larger backlog is committed in several. Twice the
 * default MQTT_INGEST_WINDOW: one connection's full window always commits together, and a `$share`
 * group's connections share transactions without making one so large that it holds back an alert
 * in it for long (a batch costs about 10-15 µs a message: 8000 in about 100 ms, in a backlog only).
 */
const MAX_BATCH = 8000;
/** How long an asynchronous engine's batch is tried again before its messages are left to redelivery. */
const RETRY_FOR_MS = 8000;

export class Ingest {
  private pending: Pending[] = [];
  private flushScheduled = false;
  private rejectLogAt = 0;
  private rejectsSinceLog = 0;
  /** The tail of the batches in flight on an asynchronous engine. */
  private serial: Promise<void> = Promise.resolve();
  publisher: Publisher | null = null;
  translator: UplinkTranslator | null = null;

  private commits = 0;

  constructor(
    private readonly deps: {
      transactions: TransactionRunner;
      store: TimeSeriesStore;
      live: LiveState;
      bus: EventBus;
      topics: Topics;
      site: Site;
      metrics: Metrics;
      log: Logger;
      /** Test only (PARKOPS_TEST_CRASH_AFTER_COMMIT): SIGKILL this process right after the n-th commit, before its acks. */
      crashAfterCommit?: number | undefined;
    },
  ) {}

  /**
   * The batch transaction, written once for every engine (db/tx.ts): per reading, the store's rows and
   * the translator's (uplink counters and telemetry); after the batch, live state's rows. Each owner
   * writes only its own tables.
   */
  private *unit(tx: Tx, items: readonly ToCommit[], undo: Array<() => void>): Generator<unknown, ReadingAccepted[], unknown> {
    const { store, live } = this.deps;
    const out = new Array<ReadingAccepted>(items.length);
    const plans: Plan[] = [];
    for (let i = 0; i < items.length; i++) {
      const { reading, receivedAt, replayed, uplink } = items[i]!;
      // Planned one by one against memory that already holds the batch's earlier readings.
      const plan = live.plan(reading, receivedAt, replayed);
      const stored = (yield store.participant.write(tx, reading)) as boolean;
      if (stored) {
        plans.push(plan);
        undo.push(live.commit(plan));
      }
      if (uplink) yield uplink.commit(tx, stored);
      out[i] = { reading, duplicate: !stored, applied: stored && plan.applies, receivedAt };
    }
    yield live.persistBatch(tx, plans);
    return out;
  }

  /** Commits a batch; on failure undoes what it did to memory and rethrows (or rejects). */
  private commitBatch(items: ToCommit[]): Awaitable<ReadingAccepted[]> {
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
    const accepted: ToCommit[] = [];
    /** Per message of the batch: 1 when it is a reading to commit (ignored and rejected ones are acked as they are). */
    const toCommit = new Uint8Array(batch.length);
    let received = 0;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i]!;
      // ParkOps' own messages come back on the `park/#` subscription; they are not device input.
      if (topics.isOwn(m.topic)) {
        report?.('ignored');
        continue;
      }
      received++;
      const translated = topics.isForeign(m.topic) ? this.translator?.translate(m.topic, m.payload, m.receivedAt) : undefined;
      if (translated?.kind === 'rejected' || translated?.kind === 'handled') {
        if (translated.kind === 'rejected') this.reject(m.topic, translated.rejection, m.receivedAt);
        report?.(translated.kind === 'rejected' ? 'rejected' : 'ignored');
        continue;
      }
      const uplink = translated ?? undefined;
      const result = decodeMessage(uplink?.topic ?? m.topic, uplink?.payload ?? m.payload, { topics, site, receivedAt: m.receivedAt });
      if (!result.ok) {
        uplink?.undo();
        // The notice names the topic the message came on: for an uplink, the network server's topic.
        this.reject(m.topic, uplink ? { code: result.rejection.code, reason: `${result.rejection.reason} (decoded from the uplink as ${uplink.topic} ${new TextDecoder().decode(uplink.payload)})` } : result.rejection, m.receivedAt);
        report?.('rejected');
        continue;
      }
      toCommit[i] = 1;
      accepted.push({ reading: result.reading, receivedAt: m.receivedAt, replayed: m.replayed, uplink });
    }
    if (received > 0) metrics.received.inc(undefined, received);
    if (accepted.length === 0) {
      for (const m of batch) m.ack();
      return;
    }
    const failed = (err: unknown): void => {
      metrics.storeErrors.inc(undefined, accepted.length);
      const failure = new StoreUnavailable(`store write failed: ${(err as Error).message}`, { cause: err });
      for (let i = 0; i < batch.length; i++) batch[i]!.ack(toCommit[i] === 1 ? failure : undefined);
    };
    let committed: Awaitable<ReadingAccepted[]>;
    if (!this.deps.transactions.synchronous) {
      // An asynchronous engine (PostgreSQL): batches commit one after another, each planned against
      // memory that holds the batches before it, so a failed batch never leaves a later one planned
      // on state that was undone.
      const run = this.serial.then(() => this.commitWithRetry(accepted));
      this.serial = run.then(
        () => undefined,
        () => undefined,
      );
      void run.then((events) => this.afterCommit(batch, events, report), failed);
      return;
    }
    try {
      committed = this.commitBatch(accepted);
    } catch (err) {
      failed(err);
      return;
    }
    // SQLite answers synchronously: the acks and events go out in this same pass.
    if (committed instanceof Promise) void committed.then((events) => this.afterCommit(batch, events, report), failed);
    else this.afterCommit(batch, committed, report);
  }

  /**
   * A database server that restarts (or fails over) refuses connections for a few seconds. The batch
   * is tried again for up to RETRY_FOR_MS before its messages are left unacknowledged for the broker
   * to redeliver: later batches wait behind it (`serial`), so nothing is acknowledged out of order. A
   * refusal by the fence (another process leads now) is final at once.
   */
  private async commitWithRetry(items: ToCommit[]): Promise<ReadingAccepted[]> {
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

  private afterCommit(batch: Pending[], events: ReadingAccepted[], report?: (r: HandleResult) => void): void {
    const { bus } = this.deps;
    this.commits++;
    if (this.deps.crashAfterCommit !== undefined && this.commits >= this.deps.crashAfterCommit) {
      // Test only: the batch is on disk and none of it is acknowledged; the broker must redeliver it.
      // Written synchronously: the logger's buffered output would die with the process.
      writeSync(2, `PARKOPS_TEST_CRASH_AFTER_COMMIT: SIGKILL after the commit, before the acks (commit ${this.commits}, ${events.length} readings)\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    this.countBatch(events);
    if (report) for (const e of events) report(e.duplicate ? 'duplicate' : 'accepted');
    for (const m of batch) m.ack();
    for (const e of events) bus.emit('reading.accepted', e);
    bus.emit('readings.accepted', { readings: events });
  }

  /** Metrics once per batch: counters by kind, commit latency per run of equal receipt times. */
  private countBatch(events: ReadingAccepted[]): void {
    const { metrics } = this.deps;
    const now = Date.now();
    const byKind = new Map<Reading['kind'], number>();
    let duplicates = 0;
    let runAt = events[0]!.receivedAt;
    let run = 0;
    for (const { reading, duplicate, receivedAt } of events) {
      byKind.set(reading.kind, (byKind.get(reading.kind) ?? 0) + 1);
      if (duplicate) duplicates++;
      if (receivedAt !== runAt) {
        metrics.commitSeconds.observe((now - runAt) / 1000, run);
        runAt = receivedAt;
        run = 0;
      }
      run++;
    }
    metrics.commitSeconds.observe((now - runAt) / 1000, run);
    for (const [kind, n] of byKind) metrics.accepted.inc({ kind }, n);
    if (duplicates > 0) metrics.duplicates.inc(undefined, duplicates);
    metrics.batchSize.observe(events.length);
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
