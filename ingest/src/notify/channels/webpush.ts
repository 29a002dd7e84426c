/**
 * Web Push to responders' phones and browsers: the payload encrypted for each subscription (RFC 8291,
 * aes128gcm), the request signed with VAPID (RFC 8292), both by the `web-push` package at send time
 * (the VAPID token expires, and each message needs a fresh salt and key). The HTTP goes through
 * sendRequest like every other channel: same deadline, same abort on shutdown, same record.
 *
 * Who and when: critical alerts only, to every subscription of a user who is a responder or above now.
 * - opened, worsened, renotified, escalated wake the phone: `Urgency: high`, shown with sound and kept
 *   until dismissed;
 * - acknowledged and resolved replace that notification quietly (`Urgency: normal`, no sound), so a
 *   phone does not keep asking for an acknowledgement someone already gave.
 * Every message of one alert carries the same `Topic` (RFC 8030 section 5.4): a push service holding an
 * undelivered message for a phone that is off replaces it with the newer one, and the service worker
 * uses the same tag, so one alert is one notification.
 *
 * A 404 or 410 from the push service means the subscription is gone (RFC 8030 section 7.3): it is
 * removed, and the attempt fails without a retry.
 */
import { createHash } from 'node:crypto';
import webpush from 'web-push';
import { roleAtLeast, type Alert, type Role } from '../../contract/api.ts';
import { alertPath, type PushPayload } from '../../contract/push.ts';
import type { Logger } from '../../log.ts';
import { describeAlert, truncateUtf8, type SiteNames } from '../format.ts';
import { sendRequest, type PostResult } from '../http-post.ts';
import type { PushSubscriptionRepository, StoredPushSubscription } from '../push-subscriptions.ts';
import type { VapidKeys } from '../vapid-keys.ts';
import type { Channel, ChannelDelivery, ChannelSendOptions } from './types.ts';

export const WAKE_CHANGES: readonly string[] = ['opened', 'worsened', 'renotified', 'escalated'];
export const QUIET_CHANGES: readonly string[] = ['acknowledged', 'resolved'];

/**
 * How long a push service keeps a message for a phone that is off or out of coverage: a night shift.
 * Later changes of the same alert replace it (Topic), so a phone back online sees the latest state.
 */
export const PUSH_TTL_SEC = 12 * 3600;

/** Plaintext budget: 4096 bytes of encrypted payload minus the aes128gcm header, tag and padding delimiter, with room to spare. */
const MAX_TITLE_BYTES = 240;
const MAX_BODY_BYTES = 1200;

/** RFC 8030 section 5.4: a Topic is at most 32 characters of the base64url alphabet. */
export function pushTopic(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 32);
}

/** The notification for one alert change, in the site's language (Chinese for the bundled site). */
export function alertPushPayload(alert: Alert, change: string, site: SiteNames | undefined, at: string): PushPayload {
  const text = describeAlert(alert, change, site);
  const zhLines = text.zh.split('\n');
  // The alert engine's message carries the values and thresholds; the structured zh-CN rendering lands later.
  const extra = zhLines.filter((l) => l.startsWith('确认人') || l.startsWith('恢复时间'));
  return {
    v: 1,
    kind: 'alert',
    alertId: alert.id,
    change,
    severity: alert.severity,
    state: alert.state,
    ...(alert.room ? { room: alert.room } : {}),
    title: truncateUtf8(zhLines[0] ?? alert.message, MAX_TITLE_BYTES),
    body: truncateUtf8([alert.message, ...extra].join('\n'), MAX_BODY_BYTES),
    url: alertPath(alert),
    tag: `alert-${alert.id}`,
    urgent: WAKE_CHANGES.includes(change),
    at,
  };
}

export interface WebPushDeps {
  repo: PushSubscriptionRepository;
  keys: VapidKeys;
  /** The user's role now, or null when the user no longer exists. */
  roleOf: (username: string) => Role | null;
  site?: SiteNames | undefined;
  log: Logger;
  now?: () => number;
}

export class WebPushChannel implements Channel {
  readonly name = 'webpush';
  private readonly now: () => number;
  constructor(private readonly deps: WebPushDeps) {
    this.now = deps.now ?? Date.now;
  }

  get publicKey(): string {
    return this.deps.keys.publicKey;
  }

  /** Subscriptions that may receive alerts now; drops those of deleted users and of an old key. */
  recipients(): StoredPushSubscription[] {
    const out: StoredPushSubscription[] = [];
    for (const s of this.deps.repo.all()) {
      const role = this.deps.roleOf(s.username);
      if (role === null || s.serverKey !== this.deps.keys.publicKey) {
        this.deps.repo.remove(s.endpoint);
        this.deps.log.info({ username: s.username, service: serviceOf(s.endpoint), why: role === null ? 'user deleted' : 'made for another VAPID key' }, 'push subscription dropped');
        continue;
      }
      if (s.expirationTime !== null && s.expirationTime <= this.now()) {
        this.deps.repo.remove(s.endpoint);
        continue;
      }
      if (roleAtLeast(role, 'responder')) out.push(s);
    }
    return out;
  }

  deliveriesFor(alert: Alert, change: string): ChannelDelivery[] {
    // Critical alerts, and storm mode (an info alert, but the call to get ready before the water comes).
    if (alert.severity !== 'critical' && alert.rule !== 'flood.storm-mode') return [];
    if (!WAKE_CHANGES.includes(change) && !QUIET_CHANGES.includes(change)) return [];
    const body = JSON.stringify(alertPushPayload(alert, change, this.deps.site, new Date(this.now()).toISOString()));
    return this.recipients().map((s) => ({ target: s.endpoint, body }));
  }

  /** A test notification to one user's own subscriptions (any role that may subscribe). */
  testDeliveries(username: string, text: { title: string; body: string }): ChannelDelivery[] {
    const payload: PushPayload = {
      v: 1,
      kind: 'test',
      alertId: '',
      change: 'test',
      severity: 'info',
      state: 'resolved',
      title: text.title,
      body: text.body,
      url: '/flood',
      tag: 'parkops-test',
      urgent: true,
      at: new Date(this.now()).toISOString(),
    };
    const body = JSON.stringify(payload);
    return this.deps.repo
      .forUser(username)
      .filter((s) => s.serverKey === this.deps.keys.publicKey)
      .map((s) => ({ target: s.endpoint, body }));
  }

  async send(d: ChannelDelivery, o: ChannelSendOptions): Promise<PostResult> {
    const sub = this.deps.repo.byEndpoint(d.target);
    if (!sub) return failed('the subscription was removed before this attempt (unsubscribed, signed out or expired)');
    let payload: PushPayload;
    try {
      payload = JSON.parse(d.body) as PushPayload;
    } catch {
      return failed('stored push payload is not JSON');
    }
    let details: { headers: Record<string, string | number>; body: Buffer | null; endpoint: string };
    try {
      details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: sub.keys }, d.body, {
        vapidDetails: { subject: this.deps.keys.subject, publicKey: this.deps.keys.publicKey, privateKey: this.deps.keys.privateKey },
        TTL: PUSH_TTL_SEC,
        urgency: payload.urgent ? 'high' : 'normal',
        topic: pushTopic(payload.tag),
        contentEncoding: 'aes128gcm',
      }) as unknown as typeof details;
    } catch (err) {
      return failed(`cannot encrypt for this subscription: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = {};
    // fetch sets Content-Length itself from the body.
    for (const [k, v] of Object.entries(details.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
    const result = await sendRequest({ url: details.endpoint, headers, body: details.body ? new Uint8Array(details.body) : '' }, { ...o, judge: () => null });
    if (result.ok) {
      this.deps.repo.markSent(sub.endpoint, new Date(this.now()).toISOString());
      return result;
    }
    if (result.httpStatus === 404 || result.httpStatus === 410) {
      this.deps.repo.remove(sub.endpoint);
      this.deps.log.info({ username: sub.username, service: serviceOf(sub.endpoint), httpStatus: result.httpStatus }, 'push subscription gone: removed');
      return { ...result, retryable: false, error: `${result.error ?? `HTTP ${result.httpStatus}`} (the push service no longer knows this subscription: removed)` };
    }
    if (result.httpStatus === 401 || result.httpStatus === 403) {
      return { ...result, retryable: false, error: `${result.error ?? `HTTP ${result.httpStatus}`} (the push service refused the VAPID signature or key)` };
    }
    if (result.httpStatus === 413) return { ...result, retryable: false, error: `${result.error ?? 'HTTP 413'} (payload too large for the push service)` };
    return result;
  }
}

function failed(error: string): PostResult {
  return { ok: false, httpStatus: null, error, retryable: false, retryAfterMs: null, durationMs: 0 };
}

/** The push service's origin: enough to say which service without revealing the subscription. */
export function serviceOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'invalid URL';
  }
}
