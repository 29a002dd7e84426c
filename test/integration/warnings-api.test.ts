/**
 * CAP warnings through the real HTTP API of a running ParkOps (docs/api.md, official warnings): a feed token
 * posts CAP 1.2 (samples shaped like the CAP 1.2 specification's Appendix A examples, and a Chinese
 * rainstorm warning with zh-CN and en blocks); viewers read them; storm mode shows on GET /api/flood;
 * bad CAP is refused with the reason and loses nothing; a feed token reads nothing else.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloodResponse, PostWarningResponse, WarningView } from '@parkops/contract/api.ts';
import { at, buildCap, CALIFORNIA_POLYGON, JINING_POLYGON, sample } from '../../ingest/src/warnings/testing.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { eventually } from '../support/mqtt.ts';

let sys: ParkOpsProcess;
let adminCookie: string;
const tokens: Record<string, string> = {};

async function token(name: string, role: string): Promise<string> {
  const res = await fetch(`${sys.baseUrl}/api/tokens`, { method: 'POST', headers: { cookie: adminCookie, origin: sys.baseUrl, 'content-type': 'application/json' }, body: JSON.stringify({ name, role }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function post(xml: string | Buffer, as: string = tokens.feed!, type = 'application/cap+xml'): Promise<{ status: number; body: PostWarningResponse & { error?: string } }> {
  const res = await fetch(`${sys.baseUrl}/api/warnings`, { method: 'POST', headers: { authorization: `Bearer ${as}`, 'content-type': type }, body: xml });
  return { status: res.status, body: (await res.json()) as PostWarningResponse & { error?: string } };
}
async function get<T>(path: string, as: string = tokens.viewer!): Promise<{ status: number; body: T }> {
  const res = await fetch(sys.baseUrl + path, { headers: { authorization: `Bearer ${as}` } });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text) as T };
}

beforeAll(async () => {
  sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false' } });
  adminCookie = await sys.adminCookie();
  tokens.feed = await token('cma-feed', 'feed');
  tokens.viewer = await token('wall-screen', 'viewer');
  tokens.manager = await token('manager-script', 'manager');
  tokens.admin = await token('admin-script', 'admin');
});
afterAll(async () => {
  await sys?.stop();
});

describe('POST /api/warnings (feed token)', () => {
  it('takes the Appendix A.2-shaped thunderstorm warning (California): 202, not relevant', async () => {
    const r = await post(sample('cap12-a2-severe-thunderstorm.xml'));
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ relevant: false, inForce: false, duplicate: false });
    expect(r.body.id).toMatch(/^w-[0-9a-f]{20}$/);
  });

  it('takes the Appendix A.3-shaped earthquake Update (references an unseen message): 202, not relevant', async () => {
    const r = await post(sample('cap12-a3-earthquake-update.xml'), tokens.feed, 'application/xml');
    expect(r.status).toBe(202);
    expect(r.body.relevant).toBe(false);
  });

  it('takes the Chinese rainstorm warning, listed with both languages; the same again is a duplicate of the same id', async () => {
    const r = await post(sample('cma-rainstorm-jining.xml'), tokens.feed, 'text/xml; charset=utf-8');
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ relevant: true, storm: true, duplicate: false });
    const again = await post(sample('cma-rainstorm-jining.xml'));
    expect(again).toEqual({ status: 202, body: { ...r.body, duplicate: true } });
    const list = await get<WarningView[]>('/api/warnings?state=all');
    expect(list.status).toBe(200);
    const w = list.body.filter((x) => x.id === r.body.id);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({
      sender: 'sd-jining@cma.gov.cn',
      event: '暴雨',
      severity: 'Moderate',
      urgency: 'Expected',
      onset: '2026-07-08T00:00:00.000Z',
      expires: '2026-07-08T12:00:00.000Z',
      headline: '济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]',
      relevant: true,
      msgType: 'Alert',
      via: 'http',
    });
    expect(w[0]!.infos.map((i) => [i.language, i.headline])).toEqual([
      ['zh-CN', '济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]'],
      ['en-US', 'Jining issues a yellow rainstorm warning [level III / heavy]'],
    ]);
  });

  it('puts the flood room into storm mode while a relevant rainstorm warning is in force, and a Cancel ends it', async () => {
    const now = Date.now();
    const flood0 = await get<FloodResponse>('/api/flood');
    expect(flood0.body.rooms.map((r) => [r.id, r.stormMode])).toEqual([['b1-power', false]]);

    const alert = buildCap({ identifier: 'JN-LIVE-1', sent: at(now, -20), infos: [{ polygon: JINING_POLYGON, event: '暴雨', language: 'zh-CN', onset: at(now, -10), expires: at(now, 120) }] });
    const r = await post(alert);
    expect(r).toMatchObject({ status: 202, body: { relevant: true, inForce: true, storm: true } });
    expect((await get<FloodResponse>('/api/flood')).body.rooms[0]!.stormMode).toBe(true);
    const active = await get<WarningView[]>('/api/warnings?state=active');
    expect(active.body.map((x) => x.identifier)).toEqual(['JN-LIVE-1']);
    expect(active.body[0]).toMatchObject({ inForce: true, storm: true });

    const cancel = buildCap({ identifier: 'JN-LIVE-1-C', sent: at(now, -1), msgType: 'Cancel', references: `sd-jining@cma.gov.cn,JN-LIVE-1,${at(now, -20)}`, infos: [{ polygon: JINING_POLYGON }] });
    expect((await post(cancel)).status).toBe(202);
    expect((await get<FloodResponse>('/api/flood')).body.rooms[0]!.stormMode).toBe(false);
    expect((await get<WarningView[]>('/api/warnings?state=active')).body).toEqual([]);
    const all = (await get<WarningView[]>('/api/warnings?state=all')).body;
    expect(all.find((x) => x.identifier === 'JN-LIVE-1')).toMatchObject({ inForce: false, supersededBy: expect.stringMatching(/^w-/) });
  });

  it('refuses bad or foreign CAP with 400 naming what is wrong, stores none of it, and keeps taking good warnings', async () => {
    const before = (await get<WarningView[]>('/api/warnings?state=all')).body.length;
    const cases: Array<[string, string, RegExp]> = [
      ['not XML', 'heavy rain tomorrow', /not well-formed XML: line 1/],
      ['wrong namespace', buildCap().replace('cap:1.2', 'cap:9'), /<alert> is in namespace "urn:oasis:names:tc:emergency:cap:9"/],
      ['missing element', buildCap().replace(/<sender>.*<\/sender>/, ''), /alert\/sender: is required/],
      ['bad date', buildCap({ sent: '2026-07-08 05:30' }), /alert\/sent: "2026-07-08 05:30" is not a date-time/],
      ['bad polygon', buildCap({ infos: [{ polygon: '35.3,116.5 35.3,116.8 35.5,116.8' }] }), /alert\/info\/area\/polygon: has 3 points/],
      ['XML bomb', '<!DOCTYPE a [<!ENTITY b "bbbbbbbb"><!ENTITY c "&b;&b;&b;&b;">]><a>&c;</a>', /DOCTYPE or entity declaration/],
    ];
    for (const [label, xml, reason] of cases) {
      const r = await post(xml);
      expect([label, r.status]).toEqual([label, 400]);
      expect(r.body.error, label).toMatch(reason);
      expect(r.body.error).not.toMatch(/\n\s+at /);
    }
    expect((await get<WarningView[]>('/api/warnings?state=all')).body.length).toBe(before);
    const good = await post(buildCap({ identifier: 'AFTER-BAD', infos: [{ polygon: CALIFORNIA_POLYGON }] }));
    expect(good.status).toBe(202);
    expect((await get<WarningView[]>('/api/warnings?state=all')).body.length).toBe(before + 1);
    expect((await fetch(`${sys.baseUrl}/api/health`)).status).toBe(200);
  });

  it('answers 415 for a body that is not XML by its type, and 413 for one over 128 KiB', async () => {
    const json = await post(JSON.stringify({ event: 'rain' }), tokens.feed, 'application/json');
    expect(json.status).toBe(415);
    expect(json.body.error).toMatch(/application\/cap\+xml, application\/xml, text\/xml/);
    const latin = await post(buildCap(), tokens.feed, 'application/xml; charset=iso-8859-1');
    expect(latin.status).toBe(415);
    const big = await post(buildCap({ infos: [{ polygon: JINING_POLYGON, description: 'x'.repeat(140 * 1024) }] }));
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/larger than 128 KiB/);
  });

  it('lets an admin post too; a viewer or manager gets 403 and no credentials 401', async () => {
    expect((await post(buildCap({ identifier: 'BY-ADMIN' }), tokens.admin)).status).toBe(202);
    for (const role of ['viewer', 'manager'] as const) {
      const r = await post(buildCap({ identifier: `BY-${role}` }), tokens[role]);
      expect(r.status).toBe(403);
      expect(r.body.error).toBe(`this needs the feed or admin role; you are ${role}`);
    }
    const anon = await fetch(`${sys.baseUrl}/api/warnings`, { method: 'POST', headers: { 'content-type': 'application/cap+xml' }, body: buildCap() });
    expect(anon.status).toBe(401);
  });
});

describe('a feed token may only post warnings', () => {
  it('is refused (403) on reading warnings, flood, alerts, the stream and its own identity', async () => {
    for (const path of ['/api/warnings', '/api/flood', '/api/alerts', '/api/parking', '/api/stream', '/api/auth/me', '/api/notifications', '/api/tokens']) {
      const res = await fetch(sys.baseUrl + path, { headers: { authorization: `Bearer ${tokens.feed}` } });
      expect([path, res.status]).toEqual([path, 403]);
      await res.body?.cancel();
    }
  });

  it('cannot be given to a person: POST /api/users refuses the feed role', async () => {
    const res = await fetch(`${sys.baseUrl}/api/users`, { method: 'POST', headers: { cookie: adminCookie, origin: sys.baseUrl, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'feedperson', password: 'a-long-password', role: 'feed' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/feed is a role for tokens of warning feeds/);
  });
});

describe('PARKOPS_CAP_FEED_URL', () => {
  let feedServer: Server;
  let polled: ParkOpsProcess;
  const requests: string[] = [];
  afterAll(async () => {
    await polled?.stop();
    await new Promise<void>((resolve) => (feedServer ? feedServer.close(() => resolve()) : resolve()));
  });

  it('polls the feed at start: an RSS feed of CAP links on 127.0.0.1 lands in GET /api/warnings', async () => {
    feedServer = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/feed.rss') return void res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"1"' }).end('<rss version="2.0"><channel><item><link>/jining.xml</link></item></channel></rss>');
      if (req.url === '/jining.xml') return void res.writeHead(200, { 'content-type': 'application/cap+xml' }).end(sample('cma-rainstorm-jining.xml'));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/feed.rss`;
    polled = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', PARKOPS_CAP_FEED_URL: url, PARKOPS_CAP_FEED_INTERVAL_SEC: '15' } });
    const cookie = await polled.adminCookie();
    const list = await eventually(async () => {
      const res = await fetch(`${polled.baseUrl}/api/warnings?state=all`, { headers: { cookie } });
      const body = (await res.json()) as WarningView[];
      return body.length > 0 ? body : undefined;
    }, 20_000, 'the polled warning');
    expect(list.map((w) => [w.identifier, w.via])).toEqual([['37080041600000_20260708053000', 'feed']]);
    expect(requests.slice(0, 2)).toEqual(['/feed.rss', '/jining.xml']);
  });
});
