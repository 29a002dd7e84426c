/**
 * HTTP fuzz: malformed JSON, wrong types, bodies over the limit, bad query parameters,
 * path tricks, and SQL and InfluxQL injection strings in every parameter, against every route of the
 * running server (listed from its express router, so a new route is fuzzed without edits here), as
 * admin so authorisation does not answer first. Every answer is below 500, an error is a 4xx with a
 * clear `{"error"}`, no answer carries a stack trace or a file path, and the data is unchanged.
 *
 * Requests go through node:http with the raw path, so `..` and `%2e%2e` reach the server unnormalised.
 * CI sends a seeded tenth of the hostile values per parameter and 10 random mixtures per route (the seed changes every run, so successive runs cover the rest);
 * FUZZ_HTTP_FULL=1 sends every value, FUZZ_HTTP_RANDOM sets the mixtures (`npm run test:fuzz`: all, 200).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../ingest/src/config.ts';
import { Controller } from '../../ingest/src/controller.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { freePort } from '../harness/ports.ts';
import { connect, eventually } from '../support/mqtt.ts';
import { prng } from '../chaos/support.ts';

const RANDOM_CASES = Number(process.env.FUZZ_HTTP_RANDOM ?? 10);
const FULL = process.env.FUZZ_HTTP_FULL === '1';
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ADMIN_PASSWORD = 'fuzz-admin-password';
const site = loadSite();

/** Strings that have broken SQL, InfluxQL, paths, parsers and loggers elsewhere. */
const NASTY = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; DELETE FROM bay_readings',
  '" OR ""="',
  "1' UNION SELECT name, sql FROM sqlite_master --",
  '"; DROP MEASUREMENT bay; --',
  "' ; DROP DATABASE parkops ; SELECT '",
  'bay WHERE 1=1 OR time > 0',
  "time > now() - 1000d; SHOW USERS",
  '/.*/',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f',
  '%00',
  '\u0000',
  '%',
  '%E0%A4%A',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  '[object Object]',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '99999999999999999999999',
  '0x41',
  '',
  ' ',
  '停车场',
  '🚗'.repeat(50),
  '\u202e\u0041',
  'x'.repeat(5_000),
];
const NASTY_VALUES: unknown[] = [...NASTY, null, true, false, 0, -1, 1.5, 1e308, [], {}, [1, 2], { $gt: '' }, { __proto__: { admin: true } }, [NASTY[0]]];
const QUERY_NAMES = ['from', 'to', 'state', 'subject', 'every', 'format', 'room', 'zone', 'venue', 'table', 'alert', 'status', 'limit', 'days', 'since', 'q', 'id', '__proto__'];
const BODY_FIELDS = ['username', 'password', 'role', 'name', 'note', 'currentPassword', 'newPassword', 'disabled'];
const PARAM_VALUES = ['admin%00', 'Admin', 'admin%20', '..', '%2e%2e', '..%2f..%2fmetrics', "'%20OR%201=1--", '%22%3B%20DROP%20MEASUREMENT%20bay', 'x'.repeat(3000), '%E0%A4%A', '%F0%9F%9A%97', '%252e%252e', 'b1-power%2f..%2f..'];

interface Answer {
  status: number;
  type: string;
  body: string;
}

let dataDir: string;
let controller: Controller;
let port: number;
let token: string;
let routes: string[];

/** Every `METHOD /path` of an express 4 app, nested routers included (their mount path is in layer.regexp). */
function listRoutes(app: Express): string[] {
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; name: string; regexp: RegExp & { fast_slash?: boolean }; handle: { stack?: Layer[] } };
  const out = new Set<string>();
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) if (m !== '_all') out.add(`${m.toUpperCase()} ${`${prefix}${layer.route.path}`.replace(/(.)\/$/, '$1')}`);
      } else if (layer.name === 'router' && layer.handle.stack) {
        const mount = layer.regexp.fast_slash ? '' : layer.regexp.source.replace(/^\^/, '').replace('\\/?(?=\\/|$)', '').replace(/\\\//g, '/');
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { _router: { stack: Layer[] } })._router.stack, '');
  return [...out];
}

/** One raw HTTP request: the path goes out exactly as given. */
function send(method: string, path: string, opts: { body?: string | Buffer; type?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...opts.headers };
    if (opts.body !== undefined) {
      headers['content-type'] = opts.type ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('text/event-stream')) {
        // The live stream never ends: its status line and headers are the answer.
        res.destroy();
        return resolve({ status: res.statusCode ?? 0, type, body: '' });
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 200_000) body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type, body }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path.slice(0, 100)}: no answer within 15 s`)));
    req.on('error', (err) => {
      // The server may answer 413 and close before the whole body is written.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET') return resolve({ status: 413, type: 'application/json', body: '{"error":"closed while sending an oversized body"}' });
      reject(err);
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Whatever an answer says, it says nothing of the server's insides. */
function leaks(a: Answer): string | null {
  if (/\n\s+at [\w.<>]+ \(|\bat [\w.]+ \(\/|\/work\/|\/home\/|node_modules|\.ts:\d+|\.js:\d+|SqliteError|SQLITE_|ZodError|TypeError|RangeError|ReferenceError|\bstack\b.*:/.test(a.body)) return 'a stack trace or file path';
  return null;
}

/** The data: every table of the database except those that record the requests themselves. */
function fingerprint(): Record<string, string> {
  const db = controller.db;
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  // Sessions, the audit log and login attempts (the limiter) change with requests by design, and a
  // token's last use with every request made with it; the alert engine's rule state and events and the
  // report rollups change with time, and so do the storm checklist's automatic checks (a sensor's
  // freshness) and their entries on the incident timeline; manual ticks (storm_checklist_ticks) are
  // guarded. Of the alerts, what a request could change is the acknowledgement.
  const volatile = /session|audit|attempt|limit|login|^alert_events$|^alert_rule_state$|^report_|^sqlite_sequence$|^storm_checklist_state$/i;
  const projection: Record<string, string> = {
    alerts: 'SELECT id, acked_at, acked_by, ack_note FROM alerts WHERE acked_by IS NOT NULL',
    auth_tokens: 'SELECT name, role, token_hash, created_by, created_at FROM auth_tokens',
    incident_events: "SELECT * FROM incident_events WHERE kind <> 'checklist' ORDER BY seq",
  };
  const out: Record<string, string> = {};
  for (const t of tables) {
    if (volatile.test(t)) continue;
    const rows = db.prepare(projection[t] ?? `SELECT * FROM "${t}"`).all();
    out[t] = `${rows.length} rows ${createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16)}`;
  }
  return out;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parkops-fuzz-http-'));
  port = await freePort();
  const mqttPort = await freePort();
  const config = loadConfig(
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_BIND: '127.0.0.1',
      PARKOPS_DATA_DIR: dataDir,
      PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PARKOPS_SIMULATE: 'false',
      PARKOPS_NODE_RED: 'false',
      LOG_LEVEL: 'silent',
    },
    { dotenv: false },
  );
  controller = new Controller(config, site, createLogger('silent'));
  await controller.start();
  routes = listRoutes(controller.http.app).filter((r) => /^\w+ \/(api\/|metrics)/.test(r));

  // Some data for the routes to find (and for the fingerprint to guard): readings of every kind and an alert.
  const mqtt = await connect(`mqtt://127.0.0.1:${mqttPort}`);
  const room = site.rooms[0]!;
  const now = Date.now();
  for (let i = 0; i < 20; i++) await mqtt.publishAsync(`park/parking/bays/${site.bays[i]!.id}`, JSON.stringify({ occupied: i % 2 === 0, ts: now - 60_000 + i }), { qos: 1 });
  await mqtt.publishAsync(`park/parking/gates/${site.gates[0]!.id}`, JSON.stringify({ event: 'entry', pass: 'FUZZ-1', ts: now - 30_000 }), { qos: 1 });
  for (const l of room.levels) await mqtt.publishAsync(`park/flood/${room.id}/levels/${l.id}`, JSON.stringify({ mm: room.bands.criticalMm + 50, ts: now - 1000 }), { qos: 1 });
  await mqtt.publishAsync(`park/venues/${site.venues[0]!.id}/counts`, JSON.stringify({ in: 5, out: 1, ts: now - 1000 }), { qos: 1 });
  await mqtt.endAsync();

  // Admin by bearer token: no CSRF, and a fuzzed logout cannot end the session the fuzzing uses.
  const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const created = await fetch(`http://127.0.0.1:${port}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: `http://127.0.0.1:${port}` }, body: JSON.stringify({ name: 'fuzz-admin', role: 'admin' }) });
  token = ((await created.json()) as { token: string }).token;
  await eventually(async () => (await send('GET', '/api/alerts?state=all')).body.includes('flood.level'), 10_000, 'a flood alert');
});

afterAll(async () => {
  await controller?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('HTTP fuzz of every route', () => {
  it(`answers malformed, oversized and hostile requests with a clear 4xx, never a 500 or a stack trace, and changes no data (seed ${SEED})`, { timeout: 900_000 }, async () => {
    expect(routes.length).toBeGreaterThan(20);
    const rnd = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    // CI sends a seeded sample of the hostile values per parameter; FUZZ_HTTP_FULL=1 sends them all.
    const sample = <T>(xs: readonly T[]): readonly T[] => (FULL ? xs : xs.filter(() => rnd() < 0.1));
    const before = fingerprint();
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;

    const check = async (what: string, method: string, path: string, opts: Parameters<typeof send>[2] = {}, mustFail = false): Promise<void> => {
      let a: Answer;
      try {
        a = await send(method, path, opts);
      } catch (err) {
        problems.push(`${what}: ${method} ${path.slice(0, 120)}: ${(err as Error).message}`);
        return;
      }
      sent++;
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      const where = `${what}: ${method} ${path.slice(0, 120)} -> ${a.status} ${a.body.slice(0, 160)}`;
      if (a.status >= 500) problems.push(`${where} (a server error)`);
      const leak = leaks(a);
      if (leak) problems.push(`${where} (${leak})`);
      if (mustFail && a.status < 400) problems.push(`${where} (accepted)`);
      if (a.status >= 400 && path.startsWith('/api')) {
        let error: unknown;
        try {
          error = (JSON.parse(a.body) as { error?: unknown }).error;
        } catch {
          error = undefined;
        }
        if (typeof error !== 'string' || error.trim().length < 3) problems.push(`${where} (no {"error": message})`);
      }
    };

    for (const route of routes) {
      const [method, pattern] = route.split(' ') as [string, string];
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const params = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
      const plain = pattern.replace(/:(\w+)/g, (_, n: string) => (n === 'roomId' ? site.rooms[0]!.id : `fuzz-${n}`));
      // A route's own answer to a plain request (the fuzzed ones must not do better than fail cleanly).
      await check('plain', method, plain, hasBody ? { body: '{}' } : {});

      // Path tricks in every path parameter.
      for (const p of params) for (const v of PARAM_VALUES) await check(`param ${p}`, method, pattern.replace(`:${p}`, v).replace(/:(\w+)/g, 'fuzz'), hasBody ? { body: '{}' } : {});
      // Bad and hostile query parameters, one name at a time, then repeated and bracketed.
      for (const name of QUERY_NAMES) {
        for (const v of sample(NASTY)) await check(`query ${name}`, method, `${plain}?${name}=${encodeURIComponent(v)}`, hasBody ? { body: '{}' } : {});
        await check(`query ${name} repeated`, method, `${plain}?${name}=1&${name}=2`, hasBody ? { body: '{}' } : {});
        await check(`query ${name}[]`, method, `${plain}?${name}[]=1&${name}[a]=2`, hasBody ? { body: '{}' } : {});
      }
      await check('query: broken encoding', method, `${plain}?from=%E0%A4%A&to=%`, hasBody ? { body: '{}' } : {});
      // 1,000 parameters: about 10 KB, under Node's 16 KiB header limit (beyond it Node itself answers 431).
      await check('query: 1,000 parameters', method, `${plain}?${Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&')}`, hasBody ? { body: '{}' } : {});

      if (hasBody) {
        // Malformed JSON, JSON that is not an object, the wrong content type, and over the limit.
        for (const body of ['{', '{"username":', "{'a':1}", '{"a":1,}', 'null', '[]', '"text"', '42', 'true', '\u0000', '{"a":"\ud800"}', '{"__proto__":{"admin":true}}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'])
          await check(`body ${JSON.stringify(body).slice(0, 30)}`, method, plain, { body }, body === '{' || body.startsWith('{"username":') || body.startsWith("{'"));
        await check('body as text/plain', method, plain, { body: '{"note":"x"}', type: 'text/plain' });
        await check('body as form', method, plain, { body: 'username=admin&password=x', type: 'application/x-www-form-urlencoded' });
        await check('body with a bad charset', method, plain, { body: '{}', type: 'application/json; charset=utf-7' });
        await check('body over the limit', method, plain, { body: JSON.stringify({ note: 'x'.repeat(200_000), username: 'x'.repeat(100_000) }) }, true);
        await check('body of 1,000 nested objects', method, plain, { body: '{"a":'.repeat(1000) + '1' + '}'.repeat(1000) });
        // Wrong types and hostile strings in every field a route might read.
        for (const field of BODY_FIELDS) for (const v of sample(NASTY_VALUES)) await check(`body ${field}`, method, plain, { body: JSON.stringify({ [field]: v }) });
      }

      // Random mixtures, reproducible from the seed.
      for (let k = 0; k < RANDOM_CASES; k++) {
        const qs = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => `${encodeURIComponent(pick(QUERY_NAMES))}=${encodeURIComponent(pick(NASTY))}`).join('&');
        const path = pattern.replace(/:(\w+)/g, () => pick(PARAM_VALUES)) + `?${qs}`;
        const body = hasBody ? JSON.stringify(Object.fromEntries(BODY_FIELDS.filter(() => rnd() < 0.4).map((f) => [f, pick(NASTY_VALUES)]))) : undefined;
        await check('random', method, path, body === undefined ? {} : { body });
      }
    }
    // Unknown routes and path tricks around the API.
    for (const path of ['/api/../metrics', '/api/%2e%2e/metrics', '/api/users/..%2f..%2fmetrics', '/api//users', '/api/users/', '/api/alerts/%00/ack', '/api/nope', "/api/parking'--", '/api/parking;DROP%20TABLE%20users', '/api/\u00e9'.replace('\u00e9', '%C3%A9'), '/api/' + 'a/'.repeat(500)])
      for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) await check('unknown', m, path, m === 'GET' || m === 'OPTIONS' ? {} : { body: '{}' });

    const after = fingerprint();
    console.log(`fuzz-http seed ${SEED}: ${sent} requests to ${routes.length} routes; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; ${problems.length} problems`);
    expect(problems.slice(0, 40), `${problems.length} problems (seed ${SEED})`).toEqual([]);
    expect(after).toEqual(before);
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(health.status).toBe(200);
  });
});
