/**
 * DingTalk (钉钉) custom group robot. With a secret (security setting "加签", DingTalk open platform,
 * "自定义机器人安全设置"): every request carries `timestamp` (epoch ms, within one hour of DingTalk's
 * clock) and `sign` in the query string, where sign = URL-encoded Base64 of HMAC-SHA256 with the secret
 * as key over `timestamp + "\n" + secret`. Both are made per attempt, so a retry an hour later is still
 * accepted. Without a secret the URL is posted as configured (keyword or IP-list security).
 *
 * DingTalk answers HTTP 200 and puts a refusal in `errcode`/`errmsg`.
 */
import { createHmac } from 'node:crypto';
import type { Alert } from '@parkops/contract/api.ts';
import { buildBody, MessageWriter, type SiteNames } from '../format.ts';
import { sendRequest, type AnswerRefusal, type PostResult } from '../http-post.ts';
import { answerJson, type Channel, type ChannelDelivery, type ChannelSendOptions } from './types.ts';

/** The Base64 signature, before URL encoding. */
export function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/**
 * The robot URL with `timestamp` and `sign` set. URLSearchParams writes the query in
 * application/x-www-form-urlencoded form, so `+`, `/` and `=` of the Base64 become %2B, %2F and %3D: the
 * URL encoding DingTalk's samples apply (Java URLEncoder, Python quote_plus).
 */
export function signedDingTalkUrl(url: string, secret: string, timestampMs: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', dingTalkSign(secret, timestampMs));
  return u.toString();
}

/**
 * errcode 0 is success. Retried: -1 (system busy) and 130101 (sending too fast, rate limited). Anything
 * else refuses this request as made (310000: signature, timestamp, keyword or IP check failed; 300001:
 * unknown access_token; 400xx: bad message), so another try cannot help.
 */
export function judgeDingTalkAnswer(_status: number, text: string): AnswerRefusal | null {
  const body = answerJson(text);
  if (!body || typeof body.errcode !== 'number' || body.errcode === 0) return null;
  const code = body.errcode;
  const msg = typeof body.errmsg === 'string' ? body.errmsg : '';
  const hint = code === 310000 ? ' (check PARKOPS_DINGTALK_SECRET, the robot security setting and this server clock)' : code === 300001 ? ' (check the access_token in PARKOPS_DINGTALK_URL)' : '';
  return { error: `errcode ${code}: ${msg}${hint}`.trim(), retryable: code === -1 || code === 130101 };
}

export class DingTalkChannel implements Channel {
  readonly name = 'dingtalk';
  private readonly writer: MessageWriter;
  constructor(
    private readonly opts: { url: string; secret?: string | undefined; site?: SiteNames | undefined; changes: readonly string[]; now?: () => number },
  ) {
    this.writer = new MessageWriter(opts.site);
  }

  async deliveriesFor(alert: Alert, change: string): Promise<ChannelDelivery[]> {
    if (!this.opts.changes.includes(change)) return [];
    const body = buildBody('dingtalk', alert, change, this.writer.describe(alert, change, (this.opts.now ?? Date.now)()));
    return [{ target: this.opts.url, body: JSON.stringify(body) }];
  }

  async reach(): Promise<number> {
    return 1;
  }

  handOffTarget(): string {
    return this.opts.url;
  }

  send(d: ChannelDelivery, o: ChannelSendOptions): Promise<PostResult> {
    const url = this.opts.secret ? signedDingTalkUrl(d.target, this.opts.secret, o.now()) : d.target;
    return sendRequest({ url, headers: { 'content-type': 'application/json; charset=utf-8' }, body: d.body }, { ...o, judge: judgeDingTalkAnswer });
  }
}
