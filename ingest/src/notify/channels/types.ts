/**
 * A delivery channel the Notifier queues for besides the plain webhooks: group robots that sign each
 * request (DingTalk, Feishu), WeCom's robot, and Web Push. The Notifier stores what `deliveriesFor`
 * returns as a delivery row (so it survives a restart and is retried with backoff like any webhook) and
 * calls `send` for every attempt: signatures carry a timestamp and VAPID tokens an expiry, so both are
 * made at send time, never stored.
 */
import type { Alert } from '@parkops/contract/api.ts';
import type { PostResult } from '../http-post.ts';

export interface ChannelDelivery {
  /** The URL (robot webhook, push endpoint), secrets included: stored, shown only redacted. */
  target: string;
  /** What the channel needs at send time: the JSON body before signing, or the push payload before encryption. */
  body: string;
}

export interface ChannelSendOptions {
  timeoutMs: number;
  signal: AbortSignal;
  now: () => number;
}

export interface Channel {
  /** Recorded as the attempt's `channel`: `wecom`, `dingtalk`, `feishu`, `webpush`. */
  readonly name: string;
  /** The deliveries for one alert change; none for changes this channel does not send. */
  deliveriesFor(alert: Alert, change: string): Promise<ChannelDelivery[]>;
  /** One attempt. Settles within `timeoutMs` and never rejects. */
  send(delivery: ChannelDelivery, opts: ChannelSendOptions): Promise<PostResult>;
  /** How many destinations an alert would reach now: a robot 1, Web Push the responders' subscriptions. */
  reach(): Promise<number>;
  /** Robots: the configured URL, for a message a flow hands to this channel (signed at send time like the core's). */
  handOffTarget?(): string;
}

/** Reads a robot's answer body as JSON, or null when it is not a JSON object. */
export function answerJson(text: string): Record<string, unknown> | null {
  if (!text || text.trimStart()[0] !== '{') return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
