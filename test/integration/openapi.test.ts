/**
 * The OpenAPI document at /api/openapi.json against the running server: it is a valid OpenAPI 3.1
 * document whose every $ref resolves; every route the server has mounted is documented and every
 * documented route is mounted (no drift either way); each route answers 401 without credentials and
 * 403 below its documented role; and the answers of a running system with data in it (readings over
 * MQTT, a critical flood alert and its incident, a CAP warning, a binding) validate against the
 * documented response schemas, checked with ajv against the served document itself.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../ingest/src/config.ts';
import { ROLES, Topics, type Alert, type Role } from '@parkops/contract/index.ts';
import { ROUTES, routeKey } from '@parkops/contract/routes.ts';
import { Controller } from '../../ingest/src/controller.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { DEFAULT_SITE_PATH, parseSite } from '@parkops/contract/site/index.ts';
import { buildCap } from '../../ingest/src/warnings/testing.ts';
import { listRoutes } from '../harness/express-routes.ts';
import { freePort } from '../harness/ports.ts';
import { connect, eventually, publish } from '../support/mqtt.ts';

type Json = Record<string, unknown>;

// The bundled site with a one-second band hold, so a critical level raises its alert at once (the alert is the data under test, not the hold).
const raw = JSON.parse(readFileSync(DEFAULT_SITE_PATH, 'utf8')) as { flood: { rooms: { bands: Json; storm?: Json }[] } };
for (const r of raw.flood.rooms) {
  r.bands.holdSec = 1;
  if (r.storm) r.storm.holdSec = 1;
}
const site = parseSite(raw);
const room = site.rooms[0]!;

const ADMIN_PASSWORD = 'openapi-admin-password';
let dataDir: string;
let controller: Controller;
let base: string;
let doc: Json;
let mqttClient: MqttClient;
const tokens = {} as Record<Role, string>;

async function call(method: string, path: string, opts: { token?: string; body?: unknown; type?: string } = {}): Promise<{ status: number; type: string; body: unknown; text: string }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = opts.type ?? 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(base + path, { method, headers, body });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, type, body: undefined, text: '' };
  }
  const text = await res.text();
  return { status: res.status, type, text, body: type.startsWith('application/json') ? (JSON.parse(text) as unknown) : undefined };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'parkops-openapi-'));
  const mqttPort = await freePort();
  const config = loadConfig(
    {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      MQTT_BIND: '127.0.0.1',
      PARKOPS_DATA_DIR: dataDir,
      PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PARKOPS_SIMULATE: 'false',
      PARKOPS_NODE_RED: 'false',
      LOG_LEVEL: 'error',
    },
    { dotenv: false },
  );
  controller = new Controller(config, site, createLogger('error'));
  await controller.start();
  base = `http://127.0.0.1:${config.PORT}`;

  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  for (const role of ROLES) {
    const res = await fetch(`${base}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: base }, body: JSON.stringify({ name: `openapi-${role}`, role }) });
    expect(res.status).toBe(201);
    tokens[role] = ((await res.json()) as { token: string }).token;
  }

  // A running system with something in every view: bays, a gate session, a critical level, pumps, a venue.
  mqttClient = await connect(`mqtt://127.0.0.1:${mqttPort}`);
  const topics = new Topics();
  const now = Date.now();
  for (const bay of site.bays.slice(0, 3)) await publish(mqttClient, topics.bay(bay.id), { occupied: true, battery: 80, ts: now - 60_000 });
  const gateIn = site.gates.find((g) => g.direction === 'entry') ?? site.gates[0]!;
  const gateOut = site.gates.find((g) => g.direction === 'exit') ?? site.gates[0]!;
  await publish(mqttClient, topics.gate(gateIn.id), { event: 'entry', pass: 'OPENAPI-1', ts: now - 50_000 });
  await publish(mqttClient, topics.gate(gateOut.id), { event: 'exit', pass: 'OPENAPI-1', ts: now - 20_000 });
  for (const l of room.levels) await publish(mqttClient, topics.level(room.id, l.id), { mm: room.bands.criticalMm + 40, ts: now - 1000 });
  for (const p of room.pumps) await publish(mqttClient, topics.pump(room.id, p.id), { running: true, amps: 6, ts: now - 1000 });
  await publish(mqttClient, topics.venue(site.venues[0]!.id), { in: 12, out: 2, ts: now - 1000 });
  await eventually(async () => ((await call('GET', '/api/alerts', { token: tokens.viewer })).body as Alert[]).some((a) => a.rule === 'flood.level' && a.severity === 'critical'), 15_000, 'the critical flood alert');

  const served = await call('GET', '/api/openapi.json');
  expect(served.status).toBe(200);
  doc = served.body as Json;
});

afterAll(async () => {
  await mqttClient?.endAsync();
  await controller?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Every `$ref` in the document, with where it sits. */
function refs(v: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => refs(x, `${at}/${i}`));
  if (!v || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => (k === '$ref' && typeof x === 'string' ? [{ at, ref: x }] : refs(x, `${at}/${k}`)));
}

function resolvePointer(root: unknown, pointer: string): unknown {
  return pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Json)[key] : undefined), root);
}

const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('is served without credentials as OpenAPI 3.1.0 and passes the OpenAPI 3.1 schema', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], 'OpenAPI 3.1 schema errors').toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('has every $ref resolving inside the document', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    const broken = all.filter((r) => !r.ref.startsWith('#/') || resolvePointer(doc, r.ref) === undefined);
    expect(broken).toEqual([]);
  });

  it('documents exactly the routes the running server has mounted, both ways', () => {
    const mounted = listRoutes(controller.http.app).filter((r) => {
      const path = r.split(' ')[1]!;
      return path.startsWith('/api/') || path === '/metrics';
    });
    const documented = ROUTES.map(routeKey);
    expect(mounted.filter((r) => !documented.includes(r)), 'mounted but not documented (add them to contract/routes.ts)').toEqual([]);
    expect(documented.filter((r) => !mounted.includes(r)), 'documented but not mounted').toEqual([]);
    expect(new Set(documented).size, 'a route documented twice').toBe(documented.length);
    // And the served document holds each of them.
    const paths = doc.paths as Record<string, Json>;
    expect(ROUTES.filter((r) => paths[openApiPath(r.path)]?.[r.method] === undefined).map(routeKey)).toEqual([]);
  });

  it('has every route in docs/api.md, the integrators\' page', () => {
    const page = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    expect(ROUTES.filter((r) => !page.includes(`\`${r.method.toUpperCase()} ${openApiPath(r.path)}\``)).map(routeKey)).toEqual([]);
  });

  it('documents the access each route enforces: 401 without credentials, 403 below the documented role', async () => {
    const wrong: string[] = [];
    const fill = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => (name === 'roomId' ? room.id : `openapi-no-such-${name}`));
    for (const r of ROUTES) {
      const method = r.method.toUpperCase();
      const anonymous = await call(method, fill(r.path), { body: method === 'GET' ? undefined : {} });
      if (r.access === 'none') {
        if (anonymous.status === 401 || anonymous.status === 403) wrong.push(`${routeKey(r)}: ${anonymous.status} without credentials, documented as open`);
        continue;
      }
      if (anonymous.status !== 401) wrong.push(`${routeKey(r)}: ${anonymous.status} without credentials, expected 401`);
      const access = r.access;
      const refused = ROLES.filter((role) => (typeof access === 'string' ? ROLES.indexOf(role) < ROLES.indexOf(access) : !access.includes(role)));
      for (const role of refused) {
        const res = await call(method, fill(r.path), { token: tokens[role], body: method === 'GET' ? undefined : {} });
        if (res.status !== 403) wrong.push(`${routeKey(r)} as ${role}: ${res.status}, documented as refused (403)`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('live answers against the documented schemas', () => {
  let ajv: Ajv2020;
  const validators = new Map<string, ValidateFunction>();

  beforeAll(() => {
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi.json');
  });

  /** Checks an answer against the schema the document gives for that route and status. */
  function check(method: string, route: string, status: number, body: unknown): string[] {
    const key = `${method} ${route} ${status}`;
    let validate = validators.get(key);
    if (!validate) {
      const pointer = `#/paths/${openApiPath(route).replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/application~1json/schema`;
      if (resolvePointer(doc, pointer) === undefined) return [`${key}: the document has no JSON schema for this answer`];
      validate = ajv.compile({ $ref: `openapi.json${pointer}` });
      validators.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).slice(0, 5).map((e) => `${key}: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  async function getAndCheck(route: string, path: string, role: Role): Promise<unknown> {
    const res = await call('GET', path, { token: tokens[role] });
    expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(200);
    expect(check('get', route, 200, res.body)).toEqual([]);
    return res.body;
  }

  it('GET routes of the live views, reports, alerts, devices and accounts answer what is documented', async () => {
    const gets: [route: string, path: string, role: Role][] = [
      ['/api/parking', '/api/parking', 'viewer'],
      ['/api/parking/sessions', '/api/parking/sessions', 'viewer'],
      ['/api/flood', '/api/flood', 'viewer'],
      ['/api/flood/:roomId/history', `/api/flood/${room.id}/history`, 'viewer'],
      ['/api/flood/:roomId/readiness', `/api/flood/${room.id}/readiness`, 'viewer'],
      ['/api/venues', '/api/venues', 'viewer'],
      ['/api/alerts', '/api/alerts?state=all', 'viewer'],
      ['/api/incidents', '/api/incidents', 'viewer'],
      ['/api/notifications', '/api/notifications', 'viewer'],
      ['/api/notifications/stats', '/api/notifications/stats', 'viewer'],
      ['/api/notifications/channels', '/api/notifications/channels', 'viewer'],
      ['/api/usage', '/api/usage?subject=parking&every=15m', 'manager'],
      ['/api/reports/parking', '/api/reports/parking', 'manager'],
      ['/api/reports/venues', '/api/reports/venues', 'manager'],
      ['/api/reports/flood', '/api/reports/flood', 'manager'],
      ['/api/reports/heatmap', '/api/reports/heatmap', 'manager'],
      ['/api/reports/calendar', '/api/reports/calendar', 'manager'],
      ['/api/devices', '/api/devices', 'viewer'],
      ['/api/devices/unbound', '/api/devices/unbound', 'admin'],
      ['/api/devices/codecs', '/api/devices/codecs', 'admin'],
      ['/api/auth/me', '/api/auth/me', 'viewer'],
      ['/api/users', '/api/users', 'admin'],
      ['/api/tokens', '/api/tokens', 'admin'],
      ['/api/kiosks', '/api/kiosks', 'admin'],
      ['/api/audit', '/api/audit', 'admin'],
      ['/api/push/key', '/api/push/key', 'viewer'],
      ['/api/push/subscriptions', '/api/push/subscriptions', 'responder'],
    ];
    for (const [route, path, role] of gets) await getAndCheck(route, path, role);

    // The data is really there: the schemas were checked against filled answers, not empty lists.
    const alerts = (await getAndCheck('/api/alerts', '/api/alerts?state=all', 'viewer')) as Alert[];
    expect(alerts.find((a) => a.rule === 'flood.level')?.details).toMatchObject({ rule: 'flood.level', band: 'critical' });
    const incidents = (await getAndCheck('/api/incidents', '/api/incidents', 'viewer')) as { id: string }[];
    expect(incidents.length).toBeGreaterThan(0);
    await getAndCheck('/api/incidents/:id', `/api/incidents/${encodeURIComponent(incidents[0]!.id)}`, 'viewer');
    const sessions = (await getAndCheck('/api/parking/sessions', '/api/parking/sessions', 'viewer')) as unknown[];
    expect(sessions.length).toBeGreaterThan(0);
    const flood = (await getAndCheck('/api/flood', '/api/flood', 'viewer')) as { rooms: { id: string; level: { band: string } | null }[] };
    expect(flood.rooms.find((r) => r.id === room.id)?.level?.band).toBe('critical');

    const health = await call('GET', '/api/health');
    expect(check('get', '/api/health', health.status, health.body)).toEqual([]);
  });

  it('state changes answer what is documented: ack, room ack, binding, warning, checklist tick', async () => {
    const alert = ((await call('GET', '/api/alerts', { token: tokens.viewer })).body as Alert[]).find((a) => a.rule === 'flood.level')!;
    const ack = await call('POST', `/api/alerts/${encodeURIComponent(alert.id)}/ack`, { token: tokens.responder, body: { note: 'pumps checked' } });
    expect(ack.status).toBe(200);
    expect(check('post', '/api/alerts/:id/ack', 200, ack.body)).toEqual([]);
    const roomAck = await call('POST', `/api/flood/${room.id}/ack`, { token: tokens.responder, body: { note: 'the rest too' } });
    expect(roomAck.status, roomAck.text).toBe(200);
    expect(check('post', '/api/flood/:room/ack', 200, roomAck.body)).toEqual([]);

    const level = room.levels[0]!.id;
    const bound = await call('PUT', `/api/devices/${level}/binding`, { token: tokens.admin, body: { devEui: 'a84041000181c061', codec: 'dragino-ldds75', params: { mountMm: 1500 } } });
    expect(bound.status, bound.text).toBe(200);
    expect(check('put', '/api/devices/:deviceId/binding', 200, bound.body)).toEqual([]);
    await getAndCheck('/api/devices', '/api/devices', 'viewer');

    const warning = await call('POST', '/api/warnings', { token: tokens.feed, body: buildCap({ identifier: 'OPENAPI-1' }), type: 'application/cap+xml' });
    expect(warning.status, warning.text).toBe(202);
    expect(check('post', '/api/warnings', 202, warning.body)).toEqual([]);
    const warnings = (await getAndCheck('/api/warnings', '/api/warnings?state=all', 'viewer')) as unknown[];
    expect(warnings.length).toBeGreaterThan(0);

    const manual = site.room(room.id)!.storm.checklist.find((c) => c.check === 'manual')!;
    const tick = await call('POST', `/api/flood/${room.id}/checklist/${manual.id}`, { token: tokens.responder, body: { done: true, note: 'at the ramp' } });
    expect(tick.status, tick.text).toBe(200);
    expect(check('post', '/api/flood/:roomId/checklist/:itemId', 200, tick.body)).toEqual([]);

    const refused = await call('POST', `/api/alerts/no-such-alert/ack`, { token: tokens.responder, body: {} });
    expect(refused.status).toBe(404);
    expect(check('post', '/api/alerts/:id/ack', 404, refused.body)).toEqual([]);
  });
});
