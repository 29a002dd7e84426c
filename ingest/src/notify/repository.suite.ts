/**
 * The behaviour every NotificationRepository keeps (SQLite now, PostgreSQL later): call it inside a
 * `describe` with a factory that gives a fresh, empty repository, a way to reopen the same storage (a
 * restart), and a cleanup.
 */
import { afterEach, expect, it } from 'vitest';
import type { AttemptRecord, NotificationRepository } from './repository.ts';

export interface NotificationRepoFixture {
  repo: NotificationRepository;
  reopen(): Promise<NotificationRepository>;
  close(): Promise<void>;
}

const T0 = Date.parse('2026-07-14T03:00:00.000Z');

function attempt(deliveryId: number, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    deliveryId,
    alertId: 'al-1',
    change: 'opened',
    channel: 'webhook',
    target: 'https://hooks.example/***',
    attempt: 1,
    status: 'sent',
    httpStatus: 200,
    error: null,
    errorCode: null,
    at: new Date(T0 + 1000).toISOString(),
    durationMs: 12,
    nextAt: T0,
    ...over,
  };
}

export function notificationRepositorySuite(make: () => Promise<NotificationRepoFixture>): void {
  let f: NotificationRepoFixture | undefined;
  const fresh = async (): Promise<NotificationRepoFixture> => (f = await make());
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('keeps a delivery pending with its target and body until an attempt sends it or gives up', async () => {
    const { repo } = await fresh();
    const a = await repo.createDelivery({ alertId: 'al-1', change: 'opened', channel: 'webhook', target: 'https://hooks.example/secret-key', body: '{"x":1}', nextAt: T0 });
    const b = await repo.createDelivery({ alertId: 'al-2', change: 'opened', channel: 'wecom', target: 'https://qyapi.weixin.qq.com/x?key=k', body: '{}', nextAt: T0 + 5 });
    expect(b).toBeGreaterThan(a);
    expect(await repo.pending()).toEqual([{ id: a, nextAt: T0 }, { id: b, nextAt: T0 + 5 }]);
    expect(await repo.pendingDelivery(a)).toEqual({ id: a, alertId: 'al-1', change: 'opened', channel: 'webhook', target: 'https://hooks.example/secret-key', body: '{"x":1}', attempts: 0, nextAt: T0 });

    const retry = await repo.recordAttempt(attempt(a, { status: 'retrying', httpStatus: 503, error: 'HTTP 503', errorCode: 'http', nextAt: T0 + 60_000 }));
    expect(retry).toMatchObject({ deliveryId: a, alertId: 'al-1', channel: 'webhook', attempt: 1, status: 'retrying', httpStatus: 503, error: 'HTTP 503', errorCode: 'http', durationMs: 12, target: 'https://hooks.example/***' });
    expect(await repo.pendingDelivery(a)).toMatchObject({ attempts: 1, nextAt: T0 + 60_000 });
    await repo.recordAttempt(attempt(a, { attempt: 2 }));
    expect(await repo.pendingDelivery(a)).toBeUndefined();
    await repo.recordAttempt(attempt(b, { alertId: 'al-2', channel: 'wecom', status: 'failed', httpStatus: 200, error: 'receiver refused: errcode 93000', errorCode: 'receiver' }));
    expect(await repo.pending()).toEqual([]);
  });

  it('lists attempts newest first, by status, and per alert oldest first (also for many alerts at once)', async () => {
    const { repo } = await fresh();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await repo.createDelivery({ alertId: `al-${i}`, change: 'opened', channel: 'webhook', target: 't', body: '{}', nextAt: T0 }));
    await repo.recordAttempt(attempt(ids[0]!, { alertId: 'al-0', status: 'retrying', nextAt: T0 + 1 }));
    await repo.recordAttempt(attempt(ids[1]!, { alertId: 'al-1', status: 'failed', errorCode: 'timeout', error: 'no answer within 10 ms' }));
    await repo.recordAttempt(attempt(ids[0]!, { alertId: 'al-0', attempt: 2 }));
    expect((await repo.recent(10)).map((x) => [x.alertId, x.attempt, x.status])).toEqual([
      ['al-0', 2, 'sent'],
      ['al-1', 1, 'failed'],
      ['al-0', 1, 'retrying'],
    ]);
    expect(await repo.recent(1)).toHaveLength(1);
    expect((await repo.recent(10, 'failed')).map((x) => x.alertId)).toEqual(['al-1']);
    expect((await repo.forAlerts(['al-0'])).map((x) => x.attempt)).toEqual([1, 2]);
    const many = Array.from({ length: 1200 }, (_, i) => `none-${i}`).concat('al-1', 'al-0');
    expect((await repo.forAlerts(many)).map((x) => `${x.alertId}#${x.attempt}`)).toEqual(['al-0#1', 'al-1#1', 'al-0#2']);
    expect(await repo.forAlerts([])).toEqual([]);
  });

  it('records an alert change that reached nobody: in the alert\'s attempts, never pending, counted apart from failures', async () => {
    const { repo } = await fresh();
    const at = new Date(T0 + 2000).toISOString();
    const unsent = await repo.recordUnsent({ alertId: 'al-9', change: 'opened', channel: 'none', error: 'nobody outside the dashboard was told', errorCode: 'unconfigured', at });
    expect(unsent).toMatchObject({ alertId: 'al-9', change: 'opened', channel: 'none', attempt: 0, status: 'failed', errorCode: 'unconfigured', httpStatus: null, at, target: '' });
    expect(await repo.pending()).toEqual([]);
    expect(await repo.forAlerts(['al-9'])).toEqual([unsent]);
    const d = await repo.createDelivery({ alertId: 'al-9', change: 'escalated', channel: 'webhook', target: 't', body: '{}', nextAt: T0 });
    await repo.recordAttempt(attempt(d, { alertId: 'al-9', status: 'failed', errorCode: 'refused', at: new Date(T0 + 3000).toISOString() }));
    const s = await repo.stats(new Date(T0).toISOString());
    expect(s).toMatchObject({ pending: 0, failedSince: 1, unsentSince: 1, lastFailure: expect.objectContaining({ errorCode: 'refused', attempt: 1 }) });
    expect(await repo.stats(new Date(T0 + 60_000).toISOString())).toMatchObject({ failedSince: 0, unsentSince: 0 });
  });

  it('keeps deliveries and attempts across a restart', async () => {
    const fx = await fresh();
    const d = await fx.repo.createDelivery({ alertId: 'al-1', change: 'opened', channel: 'webpush', target: 'https://fcm.googleapis.com/fcm/send/x', body: '{"v":1}', nextAt: T0 });
    await fx.repo.recordAttempt(attempt(d, { channel: 'webpush', status: 'retrying', nextAt: T0 + 30_000 }));
    const again = await fx.reopen();
    expect(await again.pending()).toEqual([{ id: d, nextAt: T0 + 30_000 }]);
    expect(await again.pendingDelivery(d)).toMatchObject({ attempts: 1, body: '{"v":1}' });
    expect(await again.forAlerts(['al-1'])).toHaveLength(1);
  });
}
