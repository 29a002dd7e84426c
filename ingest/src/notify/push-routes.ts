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
 * above. Viewers cannot subscribe: alert pushes go to the people who may acknowledge.
 */
import type { RequestHandler, Router } from 'express';
import { asyncRouter } from '../api/async-routes.ts';
import { roleAtLeast, type Role } from '../contract/api.ts';
import type { PushKeyResponse, PushSubscriptionView } from '../contract/push.ts';
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
  queue: (deliveries: ChannelDelivery[]) => number[];
  log: Logger;
  now?: () => number;
}

/** The site's language first (Chinese for the bundled site), then English. */
const TEST_TEXT = {
  title: '园区运维 ParkOps：测试通知',
  body: '这台设备能收到严重告警的推送通知。点按打开水浸页面。\nThis device receives ParkOps critical alert notifications.',
};

const view = (s: StoredPushSubscription): PushSubscriptionView => ({ id: s.id, service: serviceOf(s.endpoint), userAgent: s.userAgent, createdAt: s.createdAt, lastSentAt: s.lastSentAt });

export function pushRouter(deps: PushRoutesDeps): Router {
  const r = asyncRouter();
  const now = deps.now ?? Date.now;
  const { guard, repo } = deps;

  const pushOn: RequestHandler = (_req, res, next) => {
    if (deps.channel) return next();
    res.status(503).json({ error: `push notifications are off: ${deps.offReason ?? 'not configured'}` });
  };

  r.get('/push/key', guard.requireRole('viewer'), pushOn, (req, res) => {
    const body: PushKeyResponse = { publicKey: deps.channel!.publicKey, canSubscribe: roleAtLeast(req.user!.role, 'responder') };
    res.json(body);
  });

  r.get('/push/subscriptions', guard.requireRole('responder'), (req, res) => {
    res.json(repo.forUser(req.user!.username).map(view));
  });

  r.post('/push/subscriptions', guard.requireRole('responder'), pushOn, (req, res) => {
    const parsed = parsePushSubscription(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: parsed.error });
      return;
    }
    const ua = typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 300) : null;
    const { subscription, created } = repo.save(req.user!.username, parsed.value, deps.channel!.publicKey, ua, new Date(now()).toISOString());
    deps.log.info({ username: req.user!.username, service: serviceOf(subscription.endpoint), created }, 'push subscription saved');
    res.status(created ? 201 : 200).json(view(subscription));
  });

  r.delete('/push/subscriptions', guard.requireRole('viewer'), (req, res) => {
    const endpoint = (req.body as { endpoint?: unknown } | undefined)?.endpoint;
    if (typeof endpoint !== 'string' || endpoint === '') {
      res.status(400).json({ error: 'endpoint: required, the subscription to remove' });
      return;
    }
    if (!repo.remove(endpoint, req.user!.username)) {
      res.status(404).json({ error: 'no such subscription for this user' });
      return;
    }
    res.status(204).end();
  });

  r.post('/push/test', guard.requireRole('responder'), pushOn, (req, res) => {
    const deliveries = deps.channel!.testDeliveries(req.user!.username, TEST_TEXT);
    if (deliveries.length === 0) {
      res.status(409).json({ error: 'no push subscription for this user: enable notifications on the device first' });
      return;
    }
    res.status(202).json({ queued: deps.queue(deliveries).length });
  });

  return r;
}
