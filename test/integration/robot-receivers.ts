/**
 * Local group-robot receivers on a free loopback port that check each request the way the vendor
 * documents it, and answer the way the vendor does (HTTP 200 with an error code in the body):
 *
 * - DingTalk custom robot, security setting "加签" (open.dingtalk.com/document/robots/customize-robot-security-settings;
 *   messages: open.dingtalk.com/document/robots/custom-robot-access): POST /robot/send?access_token=..
 *   &timestamp=<ms>&sign=<urlencode(base64(HmacSHA256(key=secret, timestamp + "\n" + secret)))>; the
 *   timestamp may differ from DingTalk's clock by at most one hour. Refusals: errcode 310000 (sign or
 *   timestamp), 300001 (unknown access_token).
 * - Feishu / Lark custom bot, "签名校验" (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
 *   POST /open-apis/bot/v2/hook/<token> with a JSON body `{timestamp, sign, msg_type, content|card}`,
 *   sign = base64(HmacSHA256(key = timestamp + "\n" + secret, message = "")), timestamp in seconds
 *   within one hour; body at most 20 KB. Refusals: code 19021 (sign or timestamp), 19001 (token), 9499.
 * - WeCom group robot (developer.work.weixin.qq.com/document/path/91770): POST
 *   /cgi-bin/webhook/send?key=<key>; no signing exists for it, the key is the credential; markdown
 *   content at most 4096 bytes of UTF-8. Refusals: errcode 93000 (invalid webhook URL), 40058 (content).
 *
 * The checks are written here from the documents, independently of ingest/src/notify/channels/.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Vendor = 'dingtalk' | 'feishu' | 'wecom';

export interface RobotRequest {
  vendor: Vendor;
  path: string;
  query: URLSearchParams;
  body: unknown;
  raw: string;
  at: number;
  /** null when accepted; else the vendor's error code and message */
  refusal: { code: number; msg: string } | null;
}

export interface RobotReceiverOptions {
  vendor: Vendor;
  /** the access_token / hook token / key in the webhook URL */
  token: string;
  /** the signing secret the robot was set up with (DingTalk, Feishu) */
  secret?: string;
  /** the vendor's clock (ms) */
  now?: () => number;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class RobotReceiver {
  readonly requests: RobotRequest[] = [];
  /** answer the n-th request (0-based) with this body instead of checking it (a rate limit, say) */
  override: (index: number) => Record<string, unknown> | null = () => null;
  private server: Server | null = null;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  constructor(readonly opts: RobotReceiverOptions) {}

  /** The webhook URL as the vendor hands it out. */
  url(): string {
    const base = `http://127.0.0.1:${this.port}`;
    switch (this.opts.vendor) {
      case 'dingtalk':
        return `${base}/robot/send?access_token=${this.opts.token}`;
      case 'feishu':
        return `${base}/open-apis/bot/v2/hook/${this.opts.token}`;
      case 'wecom':
        return `${base}/cgi-bin/webhook/send?key=${this.opts.token}`;
    }
  }

  accepted(): RobotRequest[] {
    return this.requests.filter((r) => r.refusal === null);
  }
  refused(): RobotRequest[] {
    return this.requests.filter((r) => r.refusal !== null);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('robot receiver: no TCP address');
    this.port = addr.port;
  }

  private handle(req: IncomingMessage, bodyBytes: Buffer, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const raw = bodyBytes.toString('utf8');
    let body: unknown = null;
    try {
      body = JSON.parse(raw);
    } catch {
      // checked below
    }
    const index = this.requests.length;
    const forced = this.override(index);
    let answer: Record<string, unknown>;
    let refusal: { code: number; msg: string } | null;
    if (forced) {
      answer = forced;
      const code = (forced.errcode ?? forced.code ?? 0) as number;
      refusal = code === 0 ? null : { code, msg: String(forced.errmsg ?? forced.msg ?? '') };
    } else {
      refusal = req.method !== 'POST' || !/^application\/json/.test(req.headers['content-type'] ?? '') ? { code: 40035, msg: 'POST application/json required' } : this.check(u, raw, body);
      answer = this.answer(refusal);
    }
    this.requests.push({ vendor: this.opts.vendor, path: u.pathname, query: u.searchParams, body, raw, at: Date.now(), refusal });
    // As the vendors do: HTTP 200, the verdict in the body.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
    this.waiters = this.waiters.filter((w) => {
      if (this.requests.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  private answer(refusal: { code: number; msg: string } | null): Record<string, unknown> {
    if (this.opts.vendor === 'feishu') {
      return refusal ? { code: refusal.code, data: {}, msg: refusal.msg } : { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' };
    }
    return refusal ? { errcode: refusal.code, errmsg: refusal.msg } : { errcode: 0, errmsg: 'ok' };
  }

  private check(u: URL, raw: string, body: unknown): { code: number; msg: string } | null {
    const now = (this.opts.now ?? Date.now)();
    const o = (body ?? {}) as Record<string, unknown>;
    switch (this.opts.vendor) {
      case 'dingtalk': {
        if (u.pathname !== '/robot/send' || u.searchParams.get('access_token') !== this.opts.token) return { code: 300001, msg: 'token is not exist' };
        if (this.opts.secret !== undefined) {
          // URLSearchParams decodes the query as DingTalk's server does: %2B is "+", a bare "+" is a space.
          const ts = u.searchParams.get('timestamp');
          const sign = u.searchParams.get('sign');
          if (!ts || !/^\d{13}$/.test(ts) || Math.abs(now - Number(ts)) > 3600_000) return { code: 310000, msg: 'invalid timestamp' };
          const expected = createHmac('sha256', this.opts.secret).update(`${ts}\n${this.opts.secret}`).digest('base64');
          if (!sign || !same(sign, expected)) return { code: 310000, msg: 'sign not match' };
        }
        if (body === null) return { code: 40035, msg: '缺少参数 json' };
        if (o.msgtype === 'markdown') {
          const md = o.markdown as { title?: unknown; text?: unknown } | undefined;
          if (typeof md?.title !== 'string' || md.title === '' || typeof md.text !== 'string' || md.text === '') return { code: 40035, msg: '缺少参数 markdown.title/text' };
        } else if (o.msgtype === 'text') {
          if (typeof (o.text as { content?: unknown } | undefined)?.content !== 'string') return { code: 40035, msg: '缺少参数 text.content' };
        } else return { code: 40035, msg: `unsupported msgtype ${String(o.msgtype)}` };
        return null;
      }
      case 'feishu': {
        if (u.pathname !== `/open-apis/bot/v2/hook/${this.opts.token}`) return { code: 19001, msg: 'param invalid: incoming webhook access token invalid' };
        if (Buffer.byteLength(raw, 'utf8') > 20 * 1024) return { code: 9499, msg: 'request body over 20 KB' };
        if (body === null) return { code: 9499, msg: 'Bad Request' };
        if (this.opts.secret !== undefined) {
          const ts = o.timestamp;
          const tsNum = typeof ts === 'string' && /^\d{10}$/.test(ts) ? Number(ts) : typeof ts === 'number' ? ts : NaN;
          const fresh = Number.isInteger(tsNum) && Math.abs(now / 1000 - tsNum) <= 3600;
          const expected = createHmac('sha256', `${String(ts)}\n${this.opts.secret}`).update('').digest('base64');
          if (!fresh || typeof o.sign !== 'string' || !same(o.sign, expected)) return { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' };
        }
        switch (o.msg_type) {
          case 'interactive': {
            const card = o.card as { elements?: unknown; header?: unknown } | undefined;
            if (!card || typeof card !== 'object' || !Array.isArray(card.elements)) return { code: 9499, msg: 'card.elements required' };
            return null;
          }
          case 'text':
            return typeof (o.content as { text?: unknown } | undefined)?.text === 'string' ? null : { code: 9499, msg: 'content.text required' };
          case 'post':
            return typeof (o.content as { post?: unknown } | undefined)?.post === 'object' ? null : { code: 9499, msg: 'content.post required' };
          default:
            return { code: 9499, msg: `unsupported msg_type ${String(o.msg_type)}` };
        }
      }
      case 'wecom': {
        if (u.pathname !== '/cgi-bin/webhook/send' || u.searchParams.get('key') !== this.opts.token) return { code: 93000, msg: 'invalid webhook url' };
        if (body === null) return { code: 40008, msg: 'invalid message type' };
        if (o.msgtype !== 'markdown' && o.msgtype !== 'text') return { code: 40008, msg: 'invalid message type' };
        const content = o.msgtype === 'markdown' ? (o.markdown as { content?: unknown } | undefined)?.content : (o.text as { content?: unknown } | undefined)?.content;
        if (typeof content !== 'string' || content === '') return { code: 40008, msg: 'content required' };
        const max = o.msgtype === 'markdown' ? 4096 : 2048;
        if (Buffer.byteLength(content, 'utf8') > max) return { code: 40058, msg: `content exceed max length ${max}` };
        return null;
      }
    }
  }

  /** Resolves once `n` requests in all have arrived; fails after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.opts.vendor} receiver got ${this.requests.length} of ${n} requests within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
