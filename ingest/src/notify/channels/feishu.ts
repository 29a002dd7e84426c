/**
 * Feishu / Lark (飞书) custom group bot (Feishu open platform, "自定义机器人使用指南").
 *
 * - Message: an interactive card (`msg_type: "interactive"`), header coloured by severity, the site's
 *   language (Chinese for the bundled site) in the header and text, the other language's title as a note. The request body may be at most 20 KB.
 * - Signing, with a secret ("签名校验"): the body carries `timestamp` (epoch seconds, within one hour of
 *   Feishu's clock) and `sign` = Base64 of HMAC-SHA256 whose KEY is `timestamp + "\n" + secret` and whose
 *   message is EMPTY. That is what Feishu's own Go, Java and Python samples compute, although the prose
 *   calls the joined string the "string to sign"; a DingTalk-style HMAC(secret, string) is refused.
 *   Made per attempt, so a retry is still fresh.
 * - Answers: `{"code": 0, "msg": "success"}` (older: `{"StatusCode": 0, ...}`); a refusal puts its
 *   reason there, often with HTTP 200.
 */
import { createHmac } from 'node:crypto';
import type { Alert } from '@parkops/contract/api.ts';
import { MessageWriter, truncateUtf8, type SiteNames } from '../format.ts';
import { sendRequest, type AnswerRefusal, type PostResult } from '../http-post.ts';
import { answerJson, type Channel, type ChannelDelivery, type ChannelSendOptions } from './types.ts';

export function feishuSign(secret: string, timestampSec: number): string {
  return createHmac('sha256', Buffer.from(`${timestampSec}\n${secret}`, 'utf8')).update(Buffer.alloc(0)).digest('base64');
}

/** The stored message with `timestamp` and `sign` put in front, as Feishu's request example shows them. */
export function signedFeishuBody(body: string, secret: string, nowMs: number): string {
  const timestamp = Math.floor(nowMs / 1000);
  const message = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify({ timestamp: String(timestamp), sign: feishuSign(secret, timestamp), ...message });
}

/**
 * Success: `code` 0 (or `StatusCode` 0). Retried: 11232 (rate limited: 100 a minute, 5 a second per
 * bot). Anything else refuses this request as made (9499: bad request;
 * 19021: signature or timestamp; 19022: IP not allowed; 19024: keyword missing; 19001: bad webhook).
 */
export function judgeFeishuAnswer(_status: number, text: string): AnswerRefusal | null {
  const body = answerJson(text);
  if (!body) return null;
  const code = typeof body.code === 'number' ? body.code : typeof body.StatusCode === 'number' ? body.StatusCode : 0;
  if (code === 0) return null;
  const msg = typeof body.msg === 'string' ? body.msg : typeof body.StatusMessage === 'string' ? body.StatusMessage : '';
  const hint = code === 19021 ? ' (check PARKOPS_FEISHU_SECRET and this server clock)' : code === 19001 ? ' (check PARKOPS_FEISHU_URL)' : '';
  return { error: `code ${code}: ${msg}${hint}`.trim(), retryable: code === 11232 };
}

const TEMPLATE: Record<Alert['severity'], string> = { critical: 'red', warning: 'orange', info: 'blue' };
/** Feishu refuses request bodies over 20 KB; the card text stays well under that. */
const MAX_TEXT_BYTES = 8 * 1024;

/**
 * The interactive card for one alert change (message card JSON 1.0: header + div/hr/note elements): the
 * site's language in the header and the text, the other language's title line as a note.
 */
export function feishuCard(alert: Alert, change: string, site?: SiteNames | MessageWriter, now: number = Date.now()): Record<string, unknown> {
  const writer = site instanceof MessageWriter ? site : new MessageWriter(site);
  const [first, second] = writer.texts;
  const [head = '', ...rest] = writer.lines(first, alert, change, now);
  const otherHead = writer.lines(second, alert, change, now)[0] ?? '';
  return {
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: {
        title: { tag: 'plain_text', content: truncateUtf8(head, 500) },
        template: alert.state === 'resolved' ? 'green' : TEMPLATE[alert.severity],
      },
      elements: [
        { tag: 'div', text: { tag: 'lark_md', content: truncateUtf8(rest.join('\n'), MAX_TEXT_BYTES) } },
        { tag: 'hr' },
        { tag: 'note', elements: [{ tag: 'plain_text', content: truncateUtf8(otherHead, 2048) }] },
      ],
    },
  };
}

export class FeishuChannel implements Channel {
  readonly name = 'feishu';
  private readonly writer: MessageWriter;
  constructor(
    private readonly opts: { url: string; secret?: string | undefined; site?: SiteNames | undefined; changes: readonly string[]; now?: () => number },
  ) {
    this.writer = new MessageWriter(opts.site);
  }

  async deliveriesFor(alert: Alert, change: string): Promise<ChannelDelivery[]> {
    if (!this.opts.changes.includes(change)) return [];
    return [{ target: this.opts.url, body: JSON.stringify(feishuCard(alert, change, this.writer, (this.opts.now ?? Date.now)())) }];
  }

  async reach(): Promise<number> {
    return 1;
  }

  handOffTarget(): string {
    return this.opts.url;
  }

  send(d: ChannelDelivery, o: ChannelSendOptions): Promise<PostResult> {
    const body = this.opts.secret ? signedFeishuBody(d.body, this.opts.secret, o.now()) : d.body;
    return sendRequest({ url: d.target, headers: { 'content-type': 'application/json; charset=utf-8' }, body }, { ...o, judge: judgeFeishuAnswer });
  }
}
