/**
 * Polls a CAP feed URL (PARKOPS_CAP_FEED_URL) every PARKOPS_CAP_FEED_INTERVAL_SEC. The URL may give:
 * - one CAP 1.2 document;
 * - an RSS 2.0 feed whose items link to CAP documents (`item/link`), as alerting authorities in the
 *   WMO register publish them;
 * - an Atom feed whose entries link to CAP documents (`entry/link`, preferring type
 *   application/cap+xml, then rel=alternate).
 * Polls are conditional GETs (If-None-Match / If-Modified-Since from the last ETag / Last-Modified,
 * RFC 9110 section 13.1), so an unchanged feed costs a 304. Each linked document is fetched once;
 * storing is idempotent anyway. Every failure is logged (once per outage, then at debug) and
 * retried at the next poll: a feed problem never stops ParkOps.
 */
import type { Logger } from '../log.ts';
import { MAX_CAP_BYTES } from '@parkops/contract/cap.ts';
import { Gauge, type Metrics } from '../metrics.ts';
import type { Module } from '../module.ts';
import { parseCap } from './cap.ts';
import type { WarningService } from './warning-service.ts';

/** A feed listing many entries may be larger than one CAP document. */
const MAX_FEED_BYTES = 2 * 1024 * 1024;
/** Linked documents fetched per poll; the rest wait for the next one. */
const MAX_LINKS_PER_POLL = 50;
/** Links remembered as done, newest kept. */
const MAX_SEEN = 2000;
const TIMEOUT_MS = 15_000;

export interface PollResult {
  status: 'not-modified' | 'document' | 'feed' | 'failed';
  stored: number;
  duplicates: number;
  refused: number;
  failed: number;
  error?: string;
}

export class FeedPoller implements Module {
  readonly name = 'cap-feed';
  private timer: NodeJS.Timeout | null = null;
  private abort: AbortController | null = null;
  private etag: string | null = null;
  private lastModified: string | null = null;
  private readonly seen = new Set<string>();
  private failing = false;
  private stopped = true;
  private polling: Promise<PollResult> | null = null;

  constructor(
    private readonly deps: { url: string; intervalMs: number; warnings: WarningService; log: Logger; metrics?: Metrics; fetch?: typeof fetch },
  ) {
    deps.metrics?.add(new Gauge('parkops_cap_feed_up', 'The last poll of PARKOPS_CAP_FEED_URL worked (1) or failed (0)', () => (this.failing ? 0 : 1)));
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Not awaited: a slow or unreachable feed must not hold up start-up.
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    await this.polling?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pollOnce().finally(() => this.schedule(this.deps.intervalMs));
    }, ms);
    this.timer.unref?.();
  }

  /** One poll (the timer calls it; tests may too). Never rejects. */
  pollOnce(): Promise<PollResult> {
    this.polling ??= this.poll().finally(() => (this.polling = null));
    return this.polling;
  }

  private async poll(): Promise<PollResult> {
    const { url, log } = this.deps;
    const result: PollResult = { status: 'failed', stored: 0, duplicates: 0, refused: 0, failed: 0 };
    try {
      const headers: Record<string, string> = {
        accept: 'application/cap+xml, application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8',
        'user-agent': 'ParkOps CAP feed poller',
      };
      if (this.etag) headers['if-none-match'] = this.etag;
      if (this.lastModified) headers['if-modified-since'] = this.lastModified;
      const res = await this.get(url, headers);
      if (res.status === 304) {
        await res.body?.cancel();
        result.status = 'not-modified';
        this.ok();
        return result;
      }
      if (!res.ok) throw new Error(`the feed answered HTTP ${res.status}`);
      const body = await readLimited(res, MAX_FEED_BYTES);
      const parsed = parseCap(body);
      let more = false;
      if (parsed.ok) {
        result.status = 'document';
        await this.take(body, url, result);
      } else if (parsed.feed) {
        result.status = 'feed';
        let fetched = 0;
        for (const raw of parsed.feed.links) {
          const link = resolveLink(raw, url);
          if (link === null) {
            log.warn({ feed: url, link: raw.slice(0, 200) }, 'CAP feed entry link is not an http(s) URL; skipped');
            continue;
          }
          if (this.seen.has(link)) continue;
          if (fetched++ >= MAX_LINKS_PER_POLL) {
            more = true;
            break;
          }
          try {
            const entry = await this.get(link, { accept: 'application/cap+xml, application/xml;q=0.9, text/xml;q=0.8', 'user-agent': 'ParkOps CAP feed poller' });
            if (!entry.ok) throw new Error(`HTTP ${entry.status}`);
            await this.take(await readLimited(entry, MAX_CAP_BYTES), link, result);
            this.remember(link);
          } catch (err) {
            result.failed++;
            log.warn({ feed: url, link, err: errorText(err) }, 'CAP feed entry could not be fetched; retried at the next poll');
          }
        }
      } else {
        throw new Error(`the feed is neither a CAP document nor an RSS or Atom feed (${parsed.problems[0]?.reason ?? 'unreadable'})`);
      }
      // Remember the validators only once every entry was handled, so a failed or postponed entry is tried again.
      if (result.failed === 0 && !more) {
        this.etag = res.headers.get('etag');
        this.lastModified = res.headers.get('last-modified');
      }
      this.ok();
      return result;
    } catch (err) {
      result.status = 'failed';
      result.error = errorText(err);
      if (!this.failing) log.error({ feed: url, err: result.error }, 'CAP feed poll failed; retrying every interval');
      else log.debug({ feed: url, err: result.error }, 'CAP feed poll failed again');
      this.failing = true;
      return result;
    }
  }

  private async take(body: Uint8Array, origin: string, result: PollResult): Promise<void> {
    const r = await this.deps.warnings.receive(body, { via: 'feed', origin });
    if (!r.ok) {
      result.refused++;
      this.deps.log.warn({ origin, reason: r.reason }, 'CAP document from the feed refused');
    } else if (r.response.duplicate) result.duplicates++;
    else result.stored++;
  }

  private remember(link: string): void {
    this.seen.add(link);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.values().next().value!);
  }

  private ok(): void {
    if (this.failing) this.deps.log.info({ feed: this.deps.url }, 'CAP feed poll works again');
    this.failing = false;
  }

  private async get(url: string, headers: Record<string, string>): Promise<Response> {
    this.abort = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(TIMEOUT_MS)]);
    return (this.deps.fetch ?? fetch)(url, { headers, signal, redirect: 'follow' });
  }
}

function resolveLink(raw: string, base: string): string | null {
  try {
    const u = new URL(raw.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** The body, refusing (without buffering it all) one that is larger than `limit`. */
async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel();
    throw new Error(`the answer is ${declared} bytes, over the limit of ${limit} bytes`);
  }
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`the answer is over the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${err.message} (${cause.code})` : err.message;
  }
  return String(err);
}
