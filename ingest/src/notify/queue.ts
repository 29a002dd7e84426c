/**
 * The delivery queue: tries each stored delivery when it is due, at most `concurrency` at once, with a
 * hard timeout per try, and retries with exponential backoff and jitter. Every try is recorded
 * (repository.ts) before anyone is told about it (`onAttempt` listeners: the live stream).
 *
 * Writes go through one serial chain (`SerialWrites`), so they reach the database in the order they
 * were asked for, and readers that go through it see every write asked for before them.
 */
import type { NotificationAttempt } from '@parkops/contract/notifications.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../module.ts';
import type { Channel } from './channels/types.ts';
import { redactTarget } from './format.ts';
import { postJson, type PostResult } from './http-post.ts';
import type { NotificationRepository } from './repository.ts';

export interface QueueOptions {
  /** Per attempt, headers and body included. */
  timeoutMs: number;
  maxAttempts: number;
  /** Backoff before try n+1 is baseDelayMs * 2^(n-1), capped at maxDelayMs, with ±jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1: share of the delay randomised, so many deliveries do not retry in lock-step. */
  jitter: number;
  /** How many POSTs may be in flight at once. */
  concurrency: number;
}

/** A promise chain: each task starts when the one before it settled; a failed task does not stop the chain. */
export class SerialWrites {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every task asked for so far settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

export class DeliveryQueue {
  private running = false;
  private stopController = new AbortController();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly ready: number[] = [];
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly listeners = new Set<(a: NotificationAttempt) => void>();

  constructor(
    private readonly deps: {
      repo: NotificationRepository;
      writes: SerialWrites;
      channels: ReadonlyMap<string, Channel>;
      options: QueueOptions;
      clock: Clock;
      log: Logger;
    },
  ) {}

  /** Resumes what a previous run left pending; their times come from the database. */
  async start(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    this.stopController = new AbortController();
    const pending = await this.deps.writes.run(() => this.deps.repo.pending());
    for (const p of pending) this.schedule(p.id, p.nextAt);
    return pending.length;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    // In-flight POSTs are cut short; their deliveries stay pending and resume on the next start.
    this.stopController.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    await this.deps.writes.idle();
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Called after every recorded attempt (for the live stream: a failed delivery shows on the dashboard at once). */
  onAttempt(listener: (a: NotificationAttempt) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the listeners about a record made outside a try (an alert change that reached nobody). */
  announce(a: NotificationAttempt): void {
    for (const l of this.listeners) {
      try {
        l(a);
      } catch (err) {
        this.deps.log.error({ err }, 'notification attempt listener failed');
      }
    }
  }

  schedule(id: number, at: number): void {
    if (!this.running) return;
    const existing = this.timers.get(id);
    if (existing) clearTimeout(existing);
    const delay = Math.max(0, at - this.deps.clock.now());
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.ready.push(id);
      this.pump();
    }, delay);
    this.timers.set(id, timer);
  }

  private pump(): void {
    const { options, log } = this.deps;
    while (this.running && this.inFlight.size < options.concurrency && this.ready.length > 0) {
      const id = this.ready.shift() as number;
      if (this.inFlight.has(id)) continue;
      const p = this.attempt(id)
        .catch((err: unknown) => log.error({ err, deliveryId: id }, 'notification attempt failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(id);
          this.pump();
        });
      this.inFlight.set(id, p);
    }
  }

  private backoffMs(attempt: number, retryAfterMs: number | null): number {
    const o = this.deps.options;
    const exp = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
    const jittered = exp * (1 - o.jitter + Math.random() * 2 * o.jitter);
    return Math.round(Math.min(o.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0)));
  }

  private async attempt(id: number): Promise<void> {
    const { repo, writes, channels, options, clock, log } = this.deps;
    const d = await repo.pendingDelivery(id);
    if (!d) return;
    const channel = channels.get(d.channel);
    const sendOpts = { timeoutMs: options.timeoutMs, signal: this.stopController.signal, now: () => clock.now() };
    const result: PostResult = channel ? await channel.send({ target: d.target, body: d.body }, sendOpts) : await postJson(d.target, d.body, sendOpts);
    const interrupted = !result.ok && this.stopController.signal.aborted;
    const attempt = d.attempts + 1;
    const now = clock.now();
    let status: NotificationAttempt['status'];
    let nextAt = d.nextAt;
    if (result.ok) status = 'sent';
    else if (interrupted || (result.retryable && attempt < options.maxAttempts)) {
      status = 'retrying';
      nextAt = interrupted ? now : now + this.backoffMs(attempt, result.retryAfterMs);
    } else status = 'failed';
    const target = redactTarget(d.target);
    let recorded: NotificationAttempt;
    try {
      recorded = await writes.run(() =>
        repo.recordAttempt({
          deliveryId: d.id,
          alertId: d.alertId,
          change: d.change,
          channel: d.channel,
          target,
          attempt,
          status,
          httpStatus: result.httpStatus,
          error: result.error,
          errorCode: result.ok ? null : result.errorCode,
          at: new Date(now).toISOString(),
          durationMs: result.durationMs,
          nextAt,
        }),
      );
    } catch (err) {
      // The database closed under a shutdown; the delivery stays pending and resumes on the next start.
      log.warn({ err, deliveryId: d.id }, 'could not record a notification attempt');
      return;
    }
    const logFields = { deliveryId: d.id, alertId: d.alertId, change: d.change, channel: d.channel, target, attempt, httpStatus: result.httpStatus, error: result.error };
    if (status === 'sent') log.info(logFields, 'notification sent');
    else if (status === 'retrying') log.warn({ ...logFields, retryInMs: nextAt - now }, 'notification attempt failed, will retry');
    else log.error(logFields, 'notification failed, giving up');
    this.announce(recorded);
    if (status === 'retrying' && this.running) this.schedule(d.id, nextAt);
  }
}
