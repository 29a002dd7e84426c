/**
 * WeCom (企业微信) group robot. Its webhook URL carries the robot's `key`, the only credential: WeCom's
 * group robot has no signing option ("群机器人配置说明"), so nothing is signed and the URL is shown only
 * redacted. Markdown content is at most 4096 bytes of UTF-8 (format.ts cuts it there).
 *
 * WeCom answers HTTP 200 and puts a refusal in `errcode`/`errmsg`.
 */
import type { Alert } from '@parkops/contract/api.ts';
import { buildBody, MessageWriter, type SiteNames } from '../format.ts';
import { sendRequest, type AnswerRefusal, type PostResult } from '../http-post.ts';
import { answerJson, type Channel, type ChannelDelivery, type ChannelSendOptions } from './types.ts';

/**
 * errcode 0 is success. Retried: -1 (system busy) and 45009 (api freq out of limit: 20 messages a
 * minute per robot). Anything else refuses this request as made (93000: invalid webhook URL, 40xxx: bad
 * message), so another try cannot help.
 */
export function judgeWeComAnswer(_status: number, text: string): AnswerRefusal | null {
  const body = answerJson(text);
  if (!body || typeof body.errcode !== 'number' || body.errcode === 0) return null;
  const code = body.errcode;
  const msg = typeof body.errmsg === 'string' ? body.errmsg : '';
  const hint = code === 93000 ? ' (check the key in PARKOPS_WECOM_URL)' : '';
  return { error: `errcode ${code}: ${msg}${hint}`.trim(), retryable: code === -1 || code === 45009 };
}

export class WeComChannel implements Channel {
  readonly name = 'wecom';
  private readonly writer: MessageWriter;
  constructor(private readonly opts: { url: string; site?: SiteNames | undefined; changes: readonly string[]; now?: () => number }) {
    this.writer = new MessageWriter(opts.site);
  }

  async deliveriesFor(alert: Alert, change: string): Promise<ChannelDelivery[]> {
    if (!this.opts.changes.includes(change)) return [];
    const body = buildBody('wecom', alert, change, this.writer.describe(alert, change, (this.opts.now ?? Date.now)()));
    return [{ target: this.opts.url, body: JSON.stringify(body) }];
  }

  async reach(): Promise<number> {
    return 1;
  }

  handOffTarget(): string {
    return this.opts.url;
  }

  send(d: ChannelDelivery, o: ChannelSendOptions): Promise<PostResult> {
    return sendRequest({ url: d.target, headers: { 'content-type': 'application/json; charset=utf-8' }, body: d.body }, { ...o, judge: judgeWeComAnswer });
  }
}
