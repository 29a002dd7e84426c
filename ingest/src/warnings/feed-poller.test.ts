/**
 * The CAP feed poller against a real HTTP server on 127.0.0.1 (a stand-in for a weather service's
 * feed that honours conditional GET as RFC 9110 says), into the real warnings module on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../bus.ts';
import { createLogger } from '../log.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { FeedPoller } from './feed-poller.ts';
import { SqliteWarningRepository } from './repository.ts';
import { buildCap, sample } from './testing.ts';
import { WarningService } from './warning-service.ts';

interface Doc {
  body: string;
  type?: string;
  etag?: string;
  lastModified?: string;
  status?: number;
}

let server: Server;
let base: string;
let docs: Map<string, Doc>;
let hits: Array<{ path: string; conditional: boolean; status: number }>;
let dir: string;
let db: Db;
let service: WarningService;
const log = createLogger('silent');

beforeEach(async () => {
  docs = new Map();
  hits = [];
  server = createServer((req: IncomingMessage, res) => {
    const doc = docs.get(req.url ?? '');
    const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
    const answer = (status: number, body = '', headers: Record<string, string> = {}): void => {
      hits.push({ path: req.url ?? '', conditional, status });
      res.writeHead(status, headers).end(body);
    };
    if (!doc) return answer(404, 'no such document');
    if (doc.status) return answer(doc.status, 'feed is down');
    // RFC 9110 13.1.1/13.1.3: If-None-Match decides when present; otherwise If-Modified-Since.
    if (doc.etag && req.headers['if-none-match'] === doc.etag) return answer(304);
    if (!req.headers['if-none-match'] && doc.lastModified && req.headers['if-modified-since'] === doc.lastModified) return answer(304);
    answer(200, doc.body, { 'content-type': doc.type ?? 'application/cap+xml', ...(doc.etag ? { etag: doc.etag } : {}), ...(doc.lastModified ? { 'last-modified': doc.lastModified } : {}) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'parkops-feed-'));
  db = openDatabase(dir);
  service = new WarningService({ repo: new SqliteWarningRepository(db), site: loadSite(), bus: new EventBus(log), log });
  await service.start();
});
afterEach(async () => {
  await service.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const poller = (path: string) => new FeedPoller({ url: `${base}${path}`, intervalMs: 60_000, warnings: service, log });
const stored = async () => (await service.list({ state: 'all' })).map((w) => w.identifier).sort();

describe('polling a CAP feed URL', () => {
  it('takes a single CAP document, then asks with If-None-Match and gets 304', async () => {
    docs.set('/cap.xml', { body: sample('cma-rainstorm-jining.xml'), etag: '"v1"' });
    const p = poller('/cap.xml');
    expect(await p.pollOnce()).toMatchObject({ status: 'document', stored: 1 });
    expect(await p.pollOnce()).toMatchObject({ status: 'not-modified', stored: 0 });
    expect(hits.map((h) => [h.conditional, h.status])).toEqual([
      [false, 200],
      [true, 304],
    ]);
    expect((await stored())).toEqual(['37080041600000_20260708053000']);
    expect((await service.list({ state: 'all' }))[0]!.via).toBe('feed');
  });

  it('reads an RSS 2.0 feed of CAP links (relative and absolute), fetching each document once', async () => {
    docs.set('/a.xml', { body: buildCap({ identifier: 'RSS-A' }) });
    docs.set('/b.xml', { body: buildCap({ identifier: 'RSS-B' }) });
    docs.set('/rss', { type: 'application/rss+xml', lastModified: 'Wed, 08 Jul 2026 00:00:00 GMT', body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Warnings</title>
      <item><title>A</title><link>/a.xml</link></item><item><title>B</title><link>${base}/b.xml</link></item></channel></rss>` });
    const p = poller('/rss');
    expect(await p.pollOnce()).toMatchObject({ status: 'feed', stored: 2, failed: 0 });
    expect((await stored())).toEqual(['RSS-A', 'RSS-B']);
    // Unchanged feed: one conditional request (If-Modified-Since), no documents fetched again.
    expect(await p.pollOnce()).toMatchObject({ status: 'not-modified' });
    expect(hits.filter((h) => h.path !== '/rss')).toHaveLength(2);
    expect(hits.at(-1)).toEqual({ path: '/rss', conditional: true, status: 304 });
    // A new item: only it is fetched.
    docs.set('/c.xml', { body: buildCap({ identifier: 'RSS-C' }) });
    docs.set('/rss', { ...docs.get('/rss')!, lastModified: 'Wed, 08 Jul 2026 01:00:00 GMT', body: docs.get('/rss')!.body.replace('</channel>', '<item><link>/c.xml</link></item></channel>') });
    expect(await p.pollOnce()).toMatchObject({ status: 'feed', stored: 1 });
    expect(hits.filter((h) => h.path === '/a.xml')).toHaveLength(1);
  });

  it('reads an Atom feed, preferring the link typed application/cap+xml', async () => {
    docs.set('/x.cap', { body: buildCap({ identifier: 'ATOM-1' }) });
    docs.set('/atom', { type: 'application/atom+xml', etag: '"a1"', body: `<feed xmlns="http://www.w3.org/2005/Atom"><title>w</title>
      <entry><title>Rainstorm</title><link rel="alternate" type="text/html" href="/page.html"/><link rel="related" type="application/cap+xml" href="/x.cap"/></entry></feed>` });
    expect(await poller('/atom').pollOnce()).toMatchObject({ status: 'feed', stored: 1 });
    expect((await stored())).toEqual(['ATOM-1']);
    expect(hits.some((h) => h.path === '/page.html')).toBe(false);
  });

  it('counts a bad CAP document as refused and a missing one as failed; the failed one is tried again next time', async () => {
    docs.set('/bad.xml', { body: '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>' });
    docs.set('/rss', { etag: '"r1"', type: 'application/rss+xml', body: '<rss version="2.0"><channel><item><link>/bad.xml</link></item><item><link>/later.xml</link></item></channel></rss>' });
    const p = poller('/rss');
    expect(await p.pollOnce()).toMatchObject({ status: 'feed', stored: 0, refused: 1, failed: 1 });
    docs.set('/later.xml', { body: buildCap({ identifier: 'LATER' }) });
    // The feed's ETag was not kept (an entry failed), so it is read again in full.
    expect(await p.pollOnce()).toMatchObject({ status: 'feed', stored: 1, refused: 0, failed: 0 });
    expect(hits.filter((h) => h.path === '/rss').map((h) => h.conditional)).toEqual([false, false]);
    expect((await stored())).toEqual(['LATER']);
  });

  it('survives a failing feed, says why, and works again when it recovers', async () => {
    docs.set('/down', { body: '', status: 503 });
    const p = poller('/down');
    expect(await p.pollOnce()).toMatchObject({ status: 'failed', error: 'the feed answered HTTP 503' });
    expect(await poller('/not-there').pollOnce()).toMatchObject({ status: 'failed', error: 'the feed answered HTTP 404' });
    expect(await poller('/down').pollOnce()).toMatchObject({ status: 'failed' });
    docs.set('/down', { body: buildCap({ identifier: 'BACK' }) });
    expect(await p.pollOnce()).toMatchObject({ status: 'document', stored: 1 });
  });

  it('refuses a feed that is neither CAP nor RSS/Atom, and one over 2 MiB', async () => {
    docs.set('/html', { type: 'text/html', body: '<html><body>warnings</body></html>' });
    expect((await poller('/html').pollOnce()).error).toMatch(/neither a CAP document nor an RSS or Atom feed/);
    docs.set('/huge', { type: 'application/rss+xml', body: `<rss>${'x'.repeat(2 * 1024 * 1024 + 10)}</rss>` });
    expect((await poller('/huge').pollOnce()).error).toMatch(/over the limit of 2097152 bytes/);
  });

  it('polls on its timer from start and stops cleanly', async () => {
    docs.set('/cap.xml', { body: buildCap({ identifier: 'TIMED' }) });
    const p = poller('/cap.xml');
    await p.start();
    await new Promise<void>((resolve) => {
      const check = (): void => void stored().then((ids) => (ids.includes('TIMED') ? resolve() : void setTimeout(check, 20)));
      check();
    });
    await p.stop();
    expect((await stored())).toEqual(['TIMED']);
  });
});
