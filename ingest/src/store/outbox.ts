/**
 * Durable outbox for InfluxDB writes.
 *
 * Lines of line protocol are queued through the outbox's repository (`OutboxRepository`, owner of
 * `influx_outbox` and `influx_outbox_rejected`) inside the ingest transaction, so a reading is durable
 * before ingest acknowledges its MQTT message. The forwarder (`InfluxOutbox`) ships the queue to
 * InfluxDB's v1 `/write` in batches, and deletes lines only after InfluxDB answered 204.
 *
 * Why not the client's WriteApi: it buffers in memory only (a crash loses what it held), retries only
 * network errors and status >= 429, and drops the rest. Here:
 * - network errors, timeouts, 5xx, 429, 401/403 (credentials fixed later) and 404 (database created
 *   later) are retried with capped exponential backoff, forever: the lines stay on disk meanwhile;
 * - 400 and 422 (bad line protocol, field type conflict) are answered by splitting the batch in halves
 *   until the bad lines are isolated; a single rejected line is moved to `influx_outbox_rejected` with
 *   InfluxDB's reason. InfluxDB 1.x writes the valid points of a partially failed batch, so the
 *   halves re-send some valid lines: harmless, a point with the same series and time overwrites itself.
 *
 * Ordering invariant: batches are taken from the front in id order and settled (sent, or rejected)
 * front to back, one request at a time. New rows get ids above every existing row, so the table is
 * always one contiguous id range, and its depth is `max(id) - min(id) + 1` (two index lookups, cheap
 * enough for /api/health and /metrics on the ingest thread).
 */
import { HttpError, type Transport } from '@influxdata/influxdb-client';
import type { Db } from './db.ts';
import type { OutboxMetrics } from './types.ts';
import { migrateDatabase, type ModuleSchema } from '../db/migrations.ts';
import { SqliteTransactions, sqliteOf, type Awaitable, type Tx } from '../db/tx.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS influx_outbox (id INTEGER PRIMARY KEY, line TEXT NOT NULL, queued_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS influx_outbox_rejected (id INTEGER PRIMARY KEY, line TEXT NOT NULL, reason TEXT NOT NULL, queued_at INTEGER NOT NULL, rejected_at INTEGER NOT NULL);
`;

/** The outbox's migrations (db/migrations.ts). */
export const OUTBOX_SCHEMA: ModuleSchema = { module: 'influx_outbox', migrations: [{ version: 1, description: 'InfluxDB outbox and the lines InfluxDB refused', up: SCHEMA }] };

export interface OutboxRow {
  id: number;
  line: string;
  queuedAt: number;
}

/**
 * Storage of the outbox. Rows get ids above every existing row, so the queue is always one contiguous
 * id range (see the ordering invariant above) on every engine that implements this.
 */
export interface OutboxRepository {
  /** The outbox's part of the ingest transaction. */
  readonly participant: { enqueue(tx: Tx, lines: readonly string[], at: number): Awaitable<void> };
  /** Queues lines in a transaction of their own. */
  enqueue(lines: readonly string[], at: number): Promise<void>;
  /** The oldest `limit` lines, in id order. */
  batch(limit: number): Promise<OutboxRow[]>;
  /** Deletes the delivered lines `fromId..toId`. */
  delivered(fromId: number, toId: number): Promise<void>;
  /** Moves one line aside with InfluxDB's reason. */
  setAside(row: OutboxRow, reason: string, at: number): Promise<void>;
  /** Lines waiting and the queue time of the oldest. */
  depth(): Promise<{ depth: number; oldestQueuedAt: number | null }>;
  /** Lines set aside now. */
  rejectedHeld(): Promise<number>;
  /** The most recent lines set aside, newest first. */
  rejected(limit: number): Promise<Array<{ line: string; reason: string; rejectedAt: number }>>;
  /** Moves every line set aside back into the queue; resolves to how many. */
  retryRejected(): Promise<number>;
}

export class SqliteOutboxRepository implements OutboxRepository {
  private readonly stmts;
  private readonly transactions: SqliteTransactions;

  constructor(private readonly db: Db) {
    migrateDatabase(db, [OUTBOX_SCHEMA]);
    this.transactions = new SqliteTransactions(db);
    this.stmts = {
      insert: db.prepare('INSERT INTO influx_outbox (line, queued_at) VALUES (?, ?)'),
      batch: db.prepare('SELECT id, line, queued_at AS queuedAt FROM influx_outbox ORDER BY id LIMIT ?'),
      deleteRange: db.prepare('DELETE FROM influx_outbox WHERE id BETWEEN ? AND ?'),
      deleteOne: db.prepare('DELETE FROM influx_outbox WHERE id = ?'),
      reject: db.prepare('INSERT INTO influx_outbox_rejected (line, reason, queued_at, rejected_at) VALUES (?, ?, ?, ?)'),
      countRejected: db.prepare('SELECT count(*) AS n FROM influx_outbox_rejected'),
      bounds: db.prepare('SELECT (SELECT min(id) FROM influx_outbox) AS lo, (SELECT max(id) FROM influx_outbox) AS hi'),
      oldest: db.prepare('SELECT queued_at FROM influx_outbox ORDER BY id LIMIT 1'),
      rejected: db.prepare('SELECT line, reason, rejected_at FROM influx_outbox_rejected ORDER BY id DESC LIMIT ?'),
    };
  }

  readonly participant = {
    enqueue: (tx: Tx, lines: readonly string[], at: number): void => {
      sqliteOf(tx);
      for (const l of lines) this.stmts.insert.run(l, at);
    },
  };

  async enqueue(lines: readonly string[], at: number): Promise<void> {
    const p = this.participant;
    this.transactions.run(function* (tx) {
      yield p.enqueue(tx, lines, at);
    });
  }

  async batch(limit: number): Promise<OutboxRow[]> {
    return this.stmts.batch.all(limit) as OutboxRow[];
  }

  async delivered(fromId: number, toId: number): Promise<void> {
    this.stmts.deleteRange.run(fromId, toId);
  }

  async setAside(row: OutboxRow, reason: string, at: number): Promise<void> {
    this.db.transaction(() => {
      this.stmts.reject.run(row.line, reason, row.queuedAt, at);
      this.stmts.deleteOne.run(row.id);
    })();
  }

  async depth(): Promise<{ depth: number; oldestQueuedAt: number | null }> {
    const { lo, hi } = this.stmts.bounds.get() as { lo: number | null; hi: number | null };
    const depth = lo === null || hi === null ? 0 : hi - lo + 1;
    const oldest = depth > 0 ? (this.stmts.oldest.get() as { queued_at: number } | undefined) : undefined;
    return { depth, oldestQueuedAt: oldest?.queued_at ?? null };
  }

  async rejectedHeld(): Promise<number> {
    return (this.stmts.countRejected.get() as { n: number }).n;
  }

  async rejected(limit: number): Promise<Array<{ line: string; reason: string; rejectedAt: number }>> {
    return (this.stmts.rejected.all(limit) as Array<{ line: string; reason: string; rejected_at: number }>).map((r) => ({ line: r.line, reason: r.reason, rejectedAt: r.rejected_at }));
  }

  async retryRejected(): Promise<number> {
    return this.db.transaction(() => {
      const n = this.db.prepare('INSERT INTO influx_outbox (line, queued_at) SELECT line, queued_at FROM influx_outbox_rejected ORDER BY id').run().changes;
      this.db.prepare('DELETE FROM influx_outbox_rejected').run();
      return n;
    })();
  }
}

export interface OutboxOptions {
  repo: OutboxRepository;
  /** The client's HTTP transport (`new InfluxDB({url}).transport`). */
  transport: Transport;
  /** `/write?db=...&precision=ms` */
  writePath: string;
  /** e.g. `{ authorization: 'Token ...' }` */
  headers?: Record<string, string>;
  /** Lines per request. InfluxDB's guidance is 5,000 (and ENVIRONMENT.md measured ~0.75 M lines/s on loopback with it). */
  batchSize?: number;
  /** gzip request bodies. Default: on, except for a loopback URL where it only costs CPU (ENVIRONMENT.md). */
  gzip?: boolean;
  /** After the first line arrives in an empty outbox, wait this long so it goes out with its neighbours. */
  lingerMs?: number;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Per request. */
  timeoutMs?: number;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void; info(obj: object, msg: string): void };
  now?: () => number;
}

/** Errors worth a retry: everything but bad input. */
function classify(err: unknown): 'invalid' | 'too-large' | 'retry' {
  if (err instanceof HttpError) {
    if (err.statusCode === 400 || err.statusCode === 422) return 'invalid';
    if (err.statusCode === 413) return 'too-large';
  }
  return 'retry';
}

export function describeInfluxError(err: unknown): string {
  if (err instanceof HttpError) {
    const body = (err.json as { error?: string; message?: string } | undefined)?.error ?? (err.json as { message?: string } | undefined)?.message ?? err.body ?? '';
    return `HTTP ${err.statusCode}${body ? `: ${String(body).slice(0, 500)}` : ''}`;
  }
  const e = err as { code?: string; message?: string };
  if (e?.code) return `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : ''}`;
  return e?.message ?? String(err);
}

class Stopped extends Error {}

/** The forwarder: ships the queue to InfluxDB, front to back, one request at a time. */
export class InfluxOutbox {
  readonly repo: OutboxRepository;
  private readonly opts: Required<Omit<OutboxOptions, 'repo' | 'transport' | 'log' | 'headers' | 'gzip' | 'now'>> & { gzip: boolean };
  private readonly transport: Transport;
  private readonly headers: Record<string, string>;
  private readonly log: OutboxOptions['log'];
  private readonly now: () => number;

  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private abort: AbortController | undefined;
  private drainWaiters: Array<(stopped?: boolean) => void> = [];
  private readonly sleepers = new Set<() => void>();

  private sentTotal = 0;
  private rejectedTotal = 0;
  private lastError: string | null = null;
  private failures = 0;

  constructor(o: OutboxOptions) {
    this.repo = o.repo;
    this.transport = o.transport;
    this.headers = { 'content-type': 'text/plain; charset=utf-8', ...o.headers };
    this.log = o.log;
    this.now = o.now ?? Date.now;
    this.opts = {
      writePath: o.writePath,
      batchSize: o.batchSize ?? 5_000,
      gzip: o.gzip ?? false,
      lingerMs: o.lingerMs ?? 50,
      minRetryDelayMs: o.minRetryDelayMs ?? 250,
      maxRetryDelayMs: o.maxRetryDelayMs ?? 5_000,
      timeoutMs: o.timeoutMs ?? 30_000,
    };
  }

  /** The outbox's part of the ingest transaction: queues lines, and wakes the forwarder after they are written. */
  readonly participant = {
    enqueue: (tx: Tx, lines: readonly string[]): Awaitable<void> => {
      const done = this.repo.participant.enqueue(tx, lines, this.now());
      // Waking early is harmless: the forwarder reads only what is committed.
      this.wake?.();
      return done;
    },
  };

  /** Durably queues line protocol in a transaction of its own. */
  async write(lines: string | readonly string[]): Promise<void> {
    await this.repo.enqueue(typeof lines === 'string' ? [lines] : lines, this.now());
    this.wake?.();
  }

  async metrics(): Promise<OutboxMetrics> {
    const { depth, oldestQueuedAt } = await this.repo.depth();
    return {
      depth,
      oldestAgeSec: oldestQueuedAt !== null ? Math.max(0, Math.round((this.now() - oldestQueuedAt) / 100) / 10) : null,
      sentTotal: this.sentTotal,
      rejectedTotal: this.rejectedTotal,
      rejectedHeld: await this.repo.rejectedHeld(),
      lastError: this.lastError,
    };
  }

  /** The most recent lines kept aside, newest first (for an admin view and tests). */
  rejected(limit = 100): Promise<Array<{ line: string; reason: string; rejectedAt: number }>> {
    return this.repo.rejected(limit);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.forward().catch((err: unknown) => {
      if (!(err instanceof Stopped)) this.log?.error({ err: describeInfluxError(err) }, 'influx outbox forwarder stopped unexpectedly');
    });
  }

  /** Stops forwarding; an in-flight request is aborted (its lines stay queued and are re-sent later). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort?.abort();
    this.wake?.();
    for (const s of [...this.sleepers]) s();
    await this.loop;
    for (const w of this.drainWaiters.splice(0)) w(true);
  }

  /**
   * Moves the lines set aside back into the outbox, e.g. after fixing a field type conflict in
   * InfluxDB. Returns how many. A line InfluxDB still refuses is set aside again.
   */
  async retryRejected(): Promise<number> {
    const moved = await this.repo.retryRejected();
    this.wake?.();
    return moved;
  }

  /** Resolves when the outbox is empty (everything sent or set aside). Rejects after `timeoutMs`. */
  async drained(timeoutMs = 60_000): Promise<void> {
    if ((await this.repo.depth()).depth === 0) return;
    this.wake?.();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== done);
        void this.repo.depth().then(
          ({ depth }) => reject(new Error(`influx outbox not drained after ${timeoutMs} ms: ${depth} lines waiting${this.lastError ? `, last error ${this.lastError}` : ''}`)),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      }, timeoutMs);
      const done = (stopped?: boolean) => {
        clearTimeout(timer);
        if (stopped) reject(new Error('influx outbox stopped before it drained'));
        else resolve();
      };
      this.drainWaiters.push(done);
    });
  }

  private async forward(): Promise<void> {
    while (this.running) {
      const rows = await this.repo.batch(this.opts.batchSize);
      if (rows.length === 0) {
        for (const w of this.drainWaiters.splice(0)) w();
        await this.idle();
        if (this.running && this.opts.lingerMs > 0) await this.sleep(this.opts.lingerMs);
        continue;
      }
      try {
        await this.deliver(rows);
        this.failures = 0;
        this.lastError = null;
        // Not a full batch: wait a moment so the next request carries more than a handful of lines
        // (under a steady trickle the loop would otherwise send one tiny request per round trip).
        if (rows.length < this.opts.batchSize && this.opts.lingerMs > 0) await this.sleep(this.opts.lingerMs);
      } catch (err) {
        if (err instanceof Stopped || !this.running) return;
        this.failures++;
        const reason = describeInfluxError(err);
        if (this.lastError !== reason || this.failures === 1) this.log?.warn({ err: reason, depth: (await this.repo.depth()).depth }, 'influx outbox: write failed, will retry');
        this.lastError = reason;
        await this.sleep(this.retryDelay(err));
      }
    }
  }

  private retryDelay(err: unknown): number {
    const retryAfterSec = err instanceof HttpError ? err.retryAfter() : 0;
    if (retryAfterSec > 0) return Math.min(retryAfterSec * 1000, 60_000);
    const exp = Math.min(this.opts.maxRetryDelayMs, this.opts.minRetryDelayMs * 2 ** Math.min(this.failures - 1, 16));
    // Jitter so several ParkOps instances do not hammer a recovering server in step.
    return Math.round(exp * (0.75 + Math.random() * 0.5));
  }

  /** Sends `rows`; on 400/422/413 splits them until the bad lines are isolated. Throws on retryable errors. */
  private async deliver(rows: OutboxRow[]): Promise<void> {
    try {
      await this.post(rows);
    } catch (err) {
      const kind = classify(err);
      if (kind === 'retry' || !this.running) throw err;
      if (rows.length === 1) {
        const row = rows[0]!;
        const reason = describeInfluxError(err);
        await this.repo.setAside(row, reason, this.now());
        this.rejectedTotal++;
        this.log?.warn({ line: row.line.slice(0, 300), reason }, 'influx outbox: line rejected by InfluxDB, kept aside');
        return;
      }
      const mid = Math.ceil(rows.length / 2);
      await this.deliver(rows.slice(0, mid));
      await this.deliver(rows.slice(mid));
      return;
    }
    await this.repo.delivered(rows[0]!.id, rows[rows.length - 1]!.id);
    this.sentTotal += rows.length;
  }

  private async post(rows: OutboxRow[]): Promise<void> {
    const body = rows.map((r) => r.line).join('\n');
    this.abort = new AbortController();
    const timer = setTimeout(() => this.abort?.abort(), this.opts.timeoutMs);
    try {
      await this.transport.request(this.opts.writePath, body, {
        method: 'POST',
        headers: this.headers,
        signal: this.abort.signal,
        // The transport gzips bodies longer than the threshold.
        ...(this.opts.gzip ? { gzipThreshold: 0 } : {}),
      });
    } finally {
      clearTimeout(timer);
      this.abort = undefined;
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      // A line written between the empty read and now would otherwise wait for the next write.
      if (!this.running) this.wake();
      else {
        void this.repo.depth().then(
          ({ depth }) => {
            if (depth > 0) this.wake?.();
          },
          () => this.wake?.(),
        );
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // stop() cuts a backoff short; write() does not (that is the point of backing off).
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}
