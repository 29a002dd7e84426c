/**
 * The alerts HTTP API (docs/api.md, HTTP API) on a real express server on loopback, with the real auth
 * module in front (bearer tokens per role), the real alert engine on a SQLite file, and readings put on
 * the bus as ingest does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsRouter, type AlertEngine } from '../../ingest/src/alerts/index.ts';
import { Harness, testSiteFile } from '../../ingest/src/alerts/testing.ts';
import { AuthMiddleware, AuthService, SqliteAuthRepository } from '../../ingest/src/auth/index.ts';
import { loadConfig } from '../../ingest/src/config.ts';
import type { Alert } from '@parkops/contract/api.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { parseSite } from '@parkops/contract/site/index.ts';

let dir: string;
let server: Server;
let base: string;
let h: Harness;
let auth: AuthService;
let engine: AlertEngine;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-alerts-api-'));
  h = await new Harness(dir, parseSite(testSiteFile()), (e) => auth.audit(e)).start();
  engine = h.engine;
  const config = loadConfig({ PARKOPS_DATA_DIR: dir, PARKOPS_ADMIN_PASSWORD: 'correct-horse-battery' }, { dotenv: false });
  auth = new AuthService({ repo: new SqliteAuthRepository(h.db), config, log: createLogger('silent') });
  await auth.start();
  for (const role of ['viewer', 'responder'] as const) tokens[role] = (await auth.createToken('admin', '127.0.0.1', { name: `${role}-bot`, role })).token;
  const guard = new AuthMiddleware(auth);
  const app = express();
  app.use('/api', guard.authenticate(), guard.csrf());
  app.use('/api', alertsRouter(engine, guard, h.site));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  // A critical level in the room: both sensors at 720 mm.
  await h.levels(720);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await auth.stop();
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(path: string, opts: { role?: string; method?: string; body?: string } = {}): Promise<{ status: number; type: string; text: string; json: () => unknown }> {
  const headers: Record<string, string> = {};
  if (opts.role) headers.authorization = `Bearer ${tokens[opts.role]}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method: opts.method ?? 'GET', headers, body: opts.body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
}

function criticalId(): string {
  return engine.active().find((a) => a.rule === 'flood.level')!.id;
}

describe('GET /api/alerts', () => {
  it('needs credentials', async () => {
    expect((await call('/alerts')).status).toBe(401);
  });

  it('lists active alerts newest first for a viewer', async () => {
    const r = await call('/alerts', { role: 'viewer' });
    expect(r.status).toBe(200);
    const list = r.json() as Alert[];
    expect(list.find((a) => a.rule === 'flood.level')).toMatchObject({ severity: 'critical', state: 'firing', subject: 'flood/b1/levels', value: 720 });
    const started = list.map((a) => Date.parse(a.startedAt));
    expect([...started].sort((a, b) => b - a)).toEqual(started);
  });

  it('rejects bad query values with a reason', async () => {
    const bad = [
      ['/alerts?state=open', 'state: must be active or all'],
      ['/alerts?from=yesterday', 'from: must be an ISO 8601 time'],
      ['/alerts?state=all&from=2026-07-02T00:00:00Z&to=2026-07-01T00:00:00Z', 'from: from must not be after to'],
    ] as const;
    for (const [path, message] of bad) {
      const r = await call(path, { role: 'viewer' });
      expect(r.status, path).toBe(400);
      expect((r.json() as { error: string }).error).toContain(message);
    }
  });

  it('accepts epoch milliseconds and ISO times for the range', async () => {
    const r = await call(`/alerts?state=all&from=0&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { role: 'viewer' });
    expect(r.status).toBe(200);
    expect((r.json() as Alert[]).map((a) => a.id)).toContain(criticalId());
    const none = await call('/alerts?state=all&from=0&to=1000', { role: 'viewer' });
    expect(none.json()).toEqual([]);
  });
});

describe('POST /api/alerts/:id/ack', () => {
  it('is refused to a viewer', async () => {
    const r = await call(`/alerts/${criticalId()}/ack`, { role: 'viewer', method: 'POST', body: '{}' });
    expect(r.status).toBe(403);
  });

  it('rejects a bad body without touching the alert', async () => {
    const id = criticalId();
    const notJson = await call(`/alerts/${id}/ack`, { role: 'responder', method: 'POST', body: '{"note":' });
    expect([notJson.status, notJson.json()]).toEqual([400, { error: 'request body is not valid JSON', code: 'request.bad_json' }]);
    const badNote = await call(`/alerts/${id}/ack`, { role: 'responder', method: 'POST', body: '{"note": 42}' });
    expect(badNote.status).toBe(400);
    expect(badNote.json()).toMatchObject({ error: expect.stringMatching(/^note: /), code: 'validation', params: { field: 'note' } });
    expect((await engine.get(id))!.state).toBe('firing');
  });

  it('acknowledges with the note and who, once', async () => {
    const id = criticalId();
    const r = await call(`/alerts/${id}/ack`, { role: 'responder', method: 'POST', body: JSON.stringify({ note: 'Mobile pump on the way' }) });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ id, state: 'acknowledged', ackedBy: 'token:responder-bot', ackNote: 'Mobile pump on the way' });
    const again = await call(`/alerts/${id}/ack`, { role: 'responder', method: 'POST' });
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ error: expect.stringContaining('already acknowledged by token:responder-bot'), code: 'alert.already_acked', params: { by: 'token:responder-bot', at: expect.stringMatching(/Z$/) } });
    // The engine's audit hook writes into the auth module's audit log.
    const audited = h.db.prepare("SELECT * FROM audit_log WHERE action = 'alert.acknowledge'").all();
    expect(audited).toHaveLength(1);
  });

  it('answers 404 for an unknown id', async () => {
    const r = await call('/alerts/al-unknown/ack', { role: 'responder', method: 'POST', body: '{}' });
    expect([r.status, r.json()]).toEqual([404, { error: 'no alert with id "al-unknown"', code: 'alert.not_found', params: { id: 'al-unknown' } }]);
  });
});

describe('POST /api/flood/:room/ack', () => {
  it('acknowledges every alert of the room that waits for it, each audited, in one request; viewers and unknown rooms are refused', async () => {
    // Two more of the room's alerts wait for an acknowledgement besides the (acknowledged) critical level.
    const now = Date.now();
    engine.raise('pump.short-cycling', 'flood/b1/pumps/P1', { severity: 'warning', room: 'b1', grade: 1, details: { rule: 'pump.short-cycling', room: 'b1', pump: 'P1', role: 'duty', starts: 14, maxPerHour: 12 } }, now);
    engine.raise('pump.short-cycling', 'flood/b1/pumps/P2', { severity: 'warning', room: 'b1', grade: 1, details: { rule: 'pump.short-cycling', room: 'b1', pump: 'P2', role: 'standby', starts: 13, maxPerHour: 12 } }, now);
    const waiting = engine.active().filter((a) => a.room === 'b1' && a.state === 'firing').map((a) => a.id);
    expect(waiting).toHaveLength(2);
    expect((await call('/flood/b1/ack', { role: 'viewer', method: 'POST', body: '{}' })).status).toBe(403);
    const unknown = await call('/flood/nope/ack', { role: 'responder', method: 'POST', body: '{}' });
    expect([unknown.status, unknown.json()]).toEqual([404, { error: 'no flood room "nope"', code: 'room.not_found', params: { room: 'nope' } }]);
    const auditedBefore = (h.db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'alert.acknowledge'").get() as { n: number }).n;

    const r = await call('/flood/b1/ack', { role: 'responder', method: 'POST', body: JSON.stringify({ note: '值班人员已到场' }) });
    expect(r.status).toBe(200);
    const body = r.json() as { room: string; acknowledged: Alert[]; skipped: unknown[] };
    expect(body.room).toBe('b1');
    expect(body.acknowledged.map((a) => a.id).sort()).toEqual([...waiting].sort());
    expect(body.acknowledged.every((a) => a.state === 'acknowledged' && a.ackedBy === 'token:responder-bot' && a.ackNote === '值班人员已到场')).toBe(true);
    expect(body.skipped).toEqual([]);
    const audited = h.db.prepare("SELECT target FROM audit_log WHERE action = 'alert.acknowledge' ORDER BY id").all() as { target: string }[];
    expect(audited).toHaveLength(auditedBefore + 2);
    expect(audited.slice(-2).map((x) => x.target).sort()).toEqual([...waiting].sort());
    // Nothing left: a second tap is harmless.
    const again = await call('/flood/b1/ack', { role: 'responder', method: 'POST', body: '{}' });
    expect(again.json()).toEqual({ room: 'b1', acknowledged: [], skipped: [] });
  });
});

describe('GET /api/incidents', () => {
  it('lists the flood incident and returns its timeline as JSON and CSV', async () => {
    const list = await call('/incidents', { role: 'viewer' });
    expect(list.status).toBe(200);
    const [inc] = list.json() as { id: string; room: string; state: string }[];
    expect(inc).toMatchObject({ room: 'b1', state: 'open' });

    const detail = await call(`/incidents/${inc!.id}`, { role: 'viewer' });
    expect(detail.status).toBe(200);
    const d = detail.json() as { timeline: { kind: string; note?: string }[] };
    expect(d.timeline.find((e) => e.kind === 'alert-acknowledged')?.note).toBe('Mobile pump on the way');

    const csv = await call(`/incidents/${inc!.id}?format=csv`, { role: 'viewer' });
    expect(csv.status).toBe(200);
    expect(csv.type).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe('at,at_local,time_zone,kind,subject,alertId,rule,severity,state,value,actor,note,detail');
    const zh = await call(`/incidents/${inc!.id}?format=csv&lang=zh-CN`, { role: 'viewer' });
    expect(zh.text.split('\r\n')[0]).toBe('时间（UTC）,当地时间,时区,事件,对象,告警,规则,级别,状态,数值,操作人,备注,详情');
  });

  it('answers 404 for an unknown incident and 400 for an unknown format', async () => {
    const r = await call('/incidents/inc-nope', { role: 'viewer' });
    expect([r.status, r.json()]).toEqual([404, { error: 'no incident with id "inc-nope"' }]);
    const f = await call('/incidents/inc-nope?format=xml', { role: 'viewer' });
    expect([f.status, (f.json() as { error: string }).error]).toEqual([400, 'format: must be json or csv']);
  });
});
