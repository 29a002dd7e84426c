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
 *
 * Pushes go only to the browsers' push services (push-subscriptions.ts KNOWN_PUSH_HOSTS) and the hosts
 * PARKOPS_PUSH_ALLOW_HOSTS adds, checked again at send time. What a push service answers is never kept:
 * the attempt records the status and ParkOps' own words, as viewers can read the attempts.
 */
import { createHash } from 'node:crypto';
import webpush from 'web-push';
import { roleAtLeast, type Alert, type Role } from '@parkops/contract/api.ts';
import { alertPath, type PushPayload } from '@parkops/contract/push.ts';
import type { Logger } from '../../log.ts';
import type { DeliveryErrorCode } from '@parkops/contract/notifications.ts';
import { MessageWriter, truncateUtf8, type SiteNames } from '../format.ts';
import { sendRequest, type PostResult } from '../http-post.ts';
import { pushHostProblem, type PushSubscriptionRepository, type StoredPushSubscription } from '../push-subscriptions.ts';
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

/**
 * The notification for one alert change, in the site's language (Chinese for the bundled site): the title
 * names severity, change, place and the key figure; the body what the rule found, the time to the next
 * line, and who acknowledged it. Both from the renderer (text/alert-text.ts).
 */
export function alertPushPayload(alert: Alert, change: string, site: SiteNames | MessageWriter | undefined, at: string): PushPayload {
  const writer = site instanceof MessageWriter ? site : new MessageWriter(site);
  const t = writer.texts[0];
  const zh = t.lang === 'zh-CN';
  const now = Date.parse(at);
  const body = [t.alertMessage(alert, now)];
  const eta = alert.state === 'firing' ? t.eta(alert.etaMin, alert.etaTarget) : null;
  if (eta) body.push(eta);
  if (alert.ackedBy) body.push(zh ? `确认人 ${alert.ackedBy}${alert.ackNote ? `：${alert.ackNote}` : ''}` : `acknowledged by ${alert.ackedBy}${alert.ackNote ? `: ${alert.ackNote}` : ''}`);
  if (alert.resolvedAt) body.push(zh ? `解除时间 ${t.time.at(alert.resolvedAt, now)}` : `cleared ${t.time.at(alert.resolvedAt, now)}`);
  return {
    v: 1,
    kind: 'alert',
    alertId: alert.id,
    change,
    severity: alert.severity,
    state: alert.state,
    ...(alert.room ? { room: alert.room } : {}),
    title: truncateUtf8(t.title(alert, change), MAX_TITLE_BYTES),
    body: truncateUtf8(body.join('\n'), MAX_BODY_BYTES),
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
  /** Hosts allowed besides the browsers' push services (PARKOPS_PUSH_ALLOW_HOSTS). */
  allowHosts?: readonly string[] | undefined;
  log: Logger;
  now?: () => number;
}

export class WebPushChannel implements Channel {
  readonly name = 'webpush';
  private readonly now: () => number;
  private readonly writer: MessageWriter;
  constructor(private readonly deps: WebPushDeps) {
    this.now = deps.now ?? Date.now;
    this.writer = new MessageWriter(deps.site);
  }

  get publicKey(): string {
    return this.deps.keys.publicKey;
  }

  /** The site's language: the test notification is worded in it. */
  get language(): 'zh-CN' | 'en' {
    return this.writer.language;
  }

  /** Null when pushes may go to this endpoint, else why not. */
  hostProblem(endpoint: string): string | null {
    return pushHostProblem(endpoint, this.deps.allowHosts ?? []);
  }

  /** Subscriptions that may receive alerts now; drops those of deleted users and of an old key. */
  async recipients(): Promise<StoredPushSubscription[]> {
    const out: StoredPushSubscription[] = [];
    for (const s of await this.deps.repo.all()) {
      const role = this.deps.roleOf(s.username);
      if (role === null || s.serverKey !== this.deps.keys.publicKey) {
        await this.deps.repo.remove(s.endpoint);
        this.deps.log.info({ username: s.username, service: serviceOf(s.endpoint), why: role === null ? 'user deleted' : 'made for another VAPID key' }, 'push subscription dropped');
        continue;
      }
      if (s.expirationTime !== null && s.expirationTime <= this.now()) {
        await this.deps.repo.remove(s.endpoint);
        continue;
      }
      if (this.hostProblem(s.endpoint) !== null) continue;
      if (roleAtLeast(role, 'responder')) out.push(s);
    }
    return out;
  }

  /** Subscriptions of responders and above that alerts would reach now (nothing is removed). */
  async reach(): Promise<number> {
    let n = 0;
    for (const s of await this.deps.repo.all()) {
      const role = this.deps.roleOf(s.username);
      if (role === null || s.serverKey !== this.deps.keys.publicKey || (s.expirationTime !== null && s.expirationTime <= this.now()) || this.hostProblem(s.endpoint) !== null) continue;
      if (roleAtLeast(role, 'responder')) n++;
    }
    return n;
  }

  async deliveriesFor(alert: Alert, change: string): Promise<ChannelDelivery[]> {
    // Critical alerts, and storm mode (an info alert, but the call to get ready before the water comes).
    if (alert.severity !== 'critical' && alert.rule !== 'flood.storm-mode') return [];
    if (!WAKE_CHANGES.includes(change) && !QUIET_CHANGES.includes(change)) return [];
    const body = JSON.stringify(alertPushPayload(alert, change, this.writer, new Date(this.now()).toISOString()));
    return (await this.recipients()).map((s) => ({ target: s.endpoint, body }));
  }

  /** A test notification to one user's own subscriptions (any role that may subscribe). */
  async testDeliveries(username: string, text: { title: string; body: string }): Promise<ChannelDelivery[]> {
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
    return (await this.deps.repo.forUser(username)).filter((s) => s.serverKey === this.deps.keys.publicKey && this.hostProblem(s.endpoint) === null).map((s) => ({ target: s.endpoint, body }));
  }

  async send(d: ChannelDelivery, o: ChannelSendOptions): Promise<PostResult> {
    const sub = await this.deps.repo.byEndpoint(d.target);
    if (!sub) return failed('the subscription was removed before this attempt (unsubscribed, signed out or expired)', 'invalid');
    const refused = this.hostProblem(sub.endpoint);
    if (refused !== null) return failed(`not sent: ${refused}`, 'not-allowed');
    let payload: PushPayload;
    try {
      payload = JSON.parse(d.body) as PushPayload;
    } catch {
      return failed('stored push payload is not JSON', 'invalid');
    }
    let details: { headers: Record<string, string | number>; body: Buffer | null; endpoint: string };
    try {
      details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: sub.keys }, d.body, {
        vapidDetails: { subject: this.deps.keys.subject, publicKey: this.deps.keys.publicKey, privateKey: this.deps.keys.privateKey },
        TTL: PUSH_TTL_SEC,
        urgency: payload.urgent ? 'high' : 'normal',
        topic: pushTopic(payload.tag),
        contentEncoding: 'aes128gcm',
      });
    } catch (err) {
      return failed(`cannot encrypt for this subscription: ${(err as Error).message}`, 'invalid');
    }
    const headers: Record<string, string> = {};
    // fetch sets Content-Length itself from the body.
    for (const [k, v] of Object.entries(details.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
    const sent = await sendRequest({ url: details.endpoint, headers, body: details.body ? new Uint8Array(details.body) : '' }, { ...o, judge: () => null });
    if (sent.ok) {
      await this.deps.repo.markSent(sub.endpoint, new Date(this.now()).toISOString());
      return sent;
    }
    if (sent.httpStatus === null) return sent;
    // The push service's answer text stays out of the record: viewers read the attempts.
    const result: PostResult = { ...sent, error: `HTTP ${sent.httpStatus}` };
    if (sent.httpStatus >= 300 && sent.httpStatus < 400) return { ...result, error: `HTTP ${sent.httpStatus}: the push service redirected; redirects are not followed`, errorCode: 'redirect' };
    if (sent.httpStatus === 404 || sent.httpStatus === 410) {
      await this.deps.repo.remove(sub.endpoint);
      this.deps.log.info({ username: sub.username, service: serviceOf(sub.endpoint), httpStatus: sent.httpStatus }, 'push subscription gone: removed');
      return { ...result, retryable: false, errorCode: 'gone', error: `HTTP ${sent.httpStatus} (the push service no longer knows this subscription: removed)` };
    }
    if (sent.httpStatus === 401 || sent.httpStatus === 403) {
      return { ...result, retryable: false, errorCode: 'auth', error: `HTTP ${sent.httpStatus} (the push service refused the VAPID signature or key)` };
    }
    if (sent.httpStatus === 413) return { ...result, retryable: false, errorCode: 'too-large', error: 'HTTP 413 (payload too large for the push service)' };
    return result;
  }
}

function failed(error: string, errorCode: DeliveryErrorCode): PostResult {
  return { ok: false, httpStatus: null, error, errorCode, retryable: false, retryAfterMs: null, durationMs: 0 };
}

/** The push service's origin: enough to say which service without revealing the subscription. */
export function serviceOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return 'invalid URL';
  }
}
