/**
 * A webhook receiver on a free loopback port, for the notification and Node-RED tests. Each request's
 * answer comes from `respond`, which may also never answer (a hanging receiver).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Received {
  path: string;
  body: unknown;
  raw: string;
  contentType: string | undefined;
  at: number;
}

export type Respond = (req: Received, index: number, res: ServerResponse) => { status: number; body?: string } | 'hang';

export class WebhookReceiver {
  readonly received: Received[] = [];
  private server: Server | null = null;
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  constructor(public respond: Respond = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' })) {}

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          // keep raw text
        }
        const r: Received = { path: req.url ?? '', body, raw, contentType: req.headers['content-type'], at: Date.now() };
        this.received.push(r);
        const answer = this.respond(r, this.received.length - 1, res);
        this.waiters = this.waiters.filter((w) => {
          if (this.received.length >= w.n) {
            w.resolve();
            return false;
          }
          return true;
        });
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('receiver: no TCP address');
    this.port = addr.port;
  }

  /** Resolves once `n` requests in all have arrived; fails after `timeoutMs`. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver got ${this.received.length} of ${n} requests within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
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

/** Polls `cond` every 20 ms until it holds; fails after `timeoutMs` with `what`. */
export async function eventually(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
