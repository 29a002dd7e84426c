/**
 * Web Push API (docs/notifications.md, "API"), mounted at /api:
 *
 * | route | role | answer |
 * |---|---|---|
 * | `GET /push/key` | viewer | `{publicKey, canSubscribe}`; 503 when push is off (the reason named) |
 * | `GET /push/subscriptions` | responder | this user's subscriptions, without keys |
 * | `POST /push/subscriptions` with a PushSubscription JSON | responder | 201 (new) or 200 (updated) with the subscription |
 * | `DELETE /push/subscriptions` with `{"endpoint"}` | viewer | 204; 404 when this user has no such subscription |
 * | `POST /push/test` | responder | 202 `{queued}`: a test notification to this user's subscriptions |
 *
 * A subscription belongs to whoever stored it: a person's session (`username`) or an API token
 * (`token:<name>`, e.g. a push relay); it gets alert pushes while that user or token is a responder or
 * above. Viewers cannot subscribe: alert pushes go to the people who may acknowledge. Endpoints must be
 * at a browser push service or a host PARKOPS_PUSH_ALLOW_HOSTS allows (400 `push.host_not_allowed`).
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import { asyncRouter } from '../api/async-routes.ts';
import { roleAtLeast, type Role } from '@parkops/contract/api.ts';
import type { ErrorCode, ErrorParams } from '@parkops/contract/errors.ts';
import type { PushKeyResponse, PushSubscriptionView } from '@parkops/contract/push.ts';
import { errorBody } from '../api/http-errors.ts';
import type { Logger } from '../log.ts';
import { serviceOf, type WebPushChannel } from './channels/webpush.ts';
import type { ChannelDelivery } from './channels/types.ts';
import { parsePushSubscription, type PushSubscriptionRepository, type StoredPushSubscription } from './push-subscriptions.ts';

export interface PushRoutesDeps {
  /** null when push is off; `offReason` says why */
  channel: WebPushChannel | null;
  offReason: string | null;
  repo: PushSubscriptionRepository;
  guard: { requireRole(role: Role): RequestHandler };
  /** Queues deliveries on the Notifier (stored, retried, recorded like alert pushes). */
  queue: (deliveries: ChannelDelivery[]) => Promise<number[]>;
  /** Called after a subscription was stored or removed: the channel summary counts phones. */
  changed?: (() => void) | undefined;
  log: Logger;
  now?: () => number;
}

/** In the site's language: what the phone shows for "Send a test notification". */
const TEST_TEXT = {
  'zh-CN': { title: '园区运维 ParkOps：测试通知', body: '这台设备能收到严重告警的推送通知。点按打开防汛页面。' },
  en: { title: 'ParkOps: test notification', body: 'This device receives ParkOps critical alert notifications. Tap to open the flood page.' },
};

const fail = (res: Response, status: number, error: string, code: ErrorCode, params?: ErrorParams): void => void res.status(status).json(errorBody(error, code, params));

/** Express 4 does not catch rejected promises of handlers: pass them on to the error handler. */
const wrap =
  (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
  (req, res, next) => {
    fn(req, res).catch(next);
  };

const view = (s: StoredPushSubscription): PushSubscriptionView => ({ id: s.id, service: serviceOf(s.endpoint), userAgent: s.userAgent, createdAt: s.createdAt, lastSentAt: s.lastSentAt });

export function pushRouter(deps: PushRoutesDeps): Router {
  const r = asyncRouter();
  const now = deps.now ?? Date.now;
  const { guard, repo } = deps;

  const pushOn: RequestHandler = (_req, res, next) => {
    if (deps.channel) return next();
    fail(res, 503, `push notifications are off: ${deps.offReason ?? 'not configured'}`, 'push.off');
  };

  r.get('/push/key', guard.requireRole('viewer'), pushOn, (req, res) => {
    const body: PushKeyResponse = { publicKey: deps.channel!.publicKey, canSubscribe: roleAtLeast(req.user!.role, 'responder') };
    res.json(body);
  });

  r.get(
    '/push/subscriptions',
    guard.requireRole('responder'),
    wrap(async (req, res) => {
      res.json((await repo.forUser(req.user!.username)).map(view));
    }),
  );

  r.post(
    '/push/subscriptions',
    guard.requireRole('responder'),
    pushOn,
    wrap(async (req, res) => {
      const parsed = parsePushSubscription(req.body);
      if (!parsed.ok) return fail(res, 400, parsed.error, 'validation', { field: /^([\w.]+):/.exec(parsed.error)?.[1] ?? 'request', problem: parsed.error });
      const refused = deps.channel!.hostProblem(parsed.value.endpoint);
      if (refused !== null) return fail(res, 400, refused, 'push.host_not_allowed', { host: new URL(parsed.value.endpoint).hostname });
      const ua = typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 300) : null;
      const { subscription, created } = await repo.save(req.user!.username, parsed.value, deps.channel!.publicKey, ua, new Date(now()).toISOString());
      deps.log.info({ username: req.user!.username, service: serviceOf(subscription.endpoint), created }, 'push subscription saved');
      deps.changed?.();
      res.status(created ? 201 : 200).json(view(subscription));
    }),
  );

  r.delete(
    '/push/subscriptions',
    guard.requireRole('viewer'),
    wrap(async (req, res) => {
      const endpoint = (req.body as { endpoint?: unknown } | undefined)?.endpoint;
      if (typeof endpoint !== 'string' || endpoint === '') return fail(res, 400, 'endpoint: required, the subscription to remove', 'validation', { field: 'endpoint', problem: 'required' });
      if (!(await repo.remove(endpoint, req.user!.username))) return fail(res, 404, 'no such subscription for this user', 'push.subscription_not_found');
      deps.changed?.();
      res.status(204).end();
    }),
  );

  r.post(
    '/push/test',
    guard.requireRole('responder'),
    pushOn,
    wrap(async (req, res) => {
      const deliveries = await deps.channel!.testDeliveries(req.user!.username, TEST_TEXT[deps.channel!.language]);
      if (deliveries.length === 0) return fail(res, 409, 'no push subscription for this user: enable notifications on the device first', 'push.no_subscription');
      res.status(202).json({ queued: (await deps.queue(deliveries)).length });
    }),
  );

  return r;
}
