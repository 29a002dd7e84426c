/**
 * Upgrades: today's ParkOps (the real process, as `npm start` runs it) started on a COPY of the database
 * that release 0.1.0 wrote with its own code (test/fixtures/release-0.1.0, see its README and
 * manifest.json). Everything that release stored is still there afterwards: every reading (counts per
 * kind from the manifest, and through the API), every user (signing in with the manifest's passwords),
 * the API token, the acknowledged flood alert and its incident. Then a database written by a newer
 * ParkOps is refused at start with a message naming the module and both versions, and left
 * byte-for-byte unchanged.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownVersion } from '../../ingest/src/db/migrations.ts';
import { SCHEMAS } from '../../ingest/src/db/schemas.ts';
import { ChildExitedError } from '../harness/ports.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/release-0.1.0/', import.meta.url));
const SITE = fileURLToPath(new URL('../../contract/src/site/jining-innovation-valley.json', import.meta.url));

interface Manifest {
  adminPassword: string;
  users: Array<{ username: string; password: string; role: string }>;
  readings: number;
  alerts: Array<{ id: string; rule: string; state: string; subject: string; ackedBy?: string }>;
  incidents: string[];
  rows: Record<string, number>;
}
const manifest = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as Manifest;

/** The reading tables of release 0.1.0, one per kind (their names are unchanged since). */
const READING_TABLES = ['bay_readings', 'gate_scans', 'level_readings', 'pump_readings', 'venue_counts', 'device_status'] as const;
/** The day the fixture's readings are stamped on (make-release-fixture.ts). */
const DAY = Date.parse('2026-11-20T00:00:00+08:00');

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function tableCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    return Object.fromEntries(tables.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

describe('upgrade from release 0.1.0', () => {
  let dir: string;
  let p: ParkOpsProcess | undefined;
  const siteFile = (d: string): string => join(d, 'site.json');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-upgrade-'));
    copyFileSync(join(FIXTURE, 'parkops.db'), join(dir, 'parkops.db'));
    // The bundled site, with acknowledgements that do not run out: the fixture's acknowledgement is from
    // the day it was made, and with the default 30 minutes today's engine rightly sends the still-critical
    // alert back to firing at start. That is the alert lifecycle, not the upgrade; here the stored state
    // itself is checked.
    const site = JSON.parse(readFileSync(SITE, 'utf8')) as { flood: { rooms: Array<{ rules?: object }> } };
    for (const room of site.flood.rooms) room.rules = { ...room.rules, ackExpiresMin: 100 * 365 * 24 * 60 };
    writeFileSync(siteFile(dir), JSON.stringify(site));
  });

  afterAll(async () => {
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts on the old database and keeps every reading, user, token, alert and incident', async () => {
    const before = tableCounts(join(dir, 'parkops.db'));
    expect(before.alert_notifications).toBe(0);
    p = await startParkOps({ dataDir: join(dir), env: { PARKOPS_ADMIN_PASSWORD: manifest.adminPassword, PARKOPS_SITE: siteFile(dir), PARKOPS_NODE_RED: 'false' } });
    const base = p.baseUrl;
    const login = async (username: string, password: string): Promise<{ status: number; cookie: string }> => {
      const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username, password }) });
      await res.body?.cancel();
      return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! };
    };

    // Every user signs in with the password release 0.1.0 stored, and has the role it gave them.
    const admin = await login('admin', manifest.adminPassword);
    expect(admin.status).toBe(200);
    const get = async <T>(path: string, cookie = admin.cookie): Promise<T> => {
      const res = await fetch(base + path, { headers: { cookie } });
      expect(res.status, `${path}: ${res.status}`).toBe(200);
      return (await res.json()) as T;
    };
    for (const u of manifest.users) {
      const s = await login(u.username, u.password);
      expect(s.status, u.username).toBe(200);
      expect((await get<{ username: string; role: string }>('/api/auth/me', s.cookie)).role).toBe(u.role);
      expect((await login(u.username, `${u.password}-wrong`)).status).toBe(401);
    }
    const users = await get<Array<{ username: string; role: string }>>('/api/users');
    expect(users.map((u) => `${u.username}:${u.role}`).sort()).toEqual(['admin:admin', ...manifest.users.map((u) => `${u.username}:${u.role}`)].sort());
    const tokens = await get<Array<{ name: string; role: string; createdBy: string }>>('/api/tokens');
    expect(tokens).toEqual([expect.objectContaining({ name: 'wall-screen', role: 'viewer', createdBy: 'admin' })]);

    // The alert: same id, still acknowledged by admin with the note; its incident, with the alert in it.
    const [old] = manifest.alerts;
    const alerts = await get<Array<{ id: string; rule: string; subject: string; state: string; ackedBy?: string; ackNote?: string; severity: string }>>('/api/alerts?state=all');
    const alert = alerts.find((a) => a.id === old!.id);
    expect(alert).toMatchObject({ id: old!.id, rule: old!.rule, subject: old!.subject, state: 'acknowledged', ackedBy: 'admin', ackNote: 'pumps checked on site', severity: 'critical' });
    expect(alerts.filter((a) => a.rule === 'flood.level' && a.state !== 'resolved')).toHaveLength(1);
    const incidents = await get<Array<{ id: string; room: string; state: string }>>('/api/incidents?from=2026-11-01T00:00:00Z');
    expect(incidents.map((i) => i.id)).toEqual(manifest.incidents);
    const incident = await get<{ id: string; alerts: Array<{ id: string }>; timeline: Array<{ kind: string; alertId?: string; actor?: string; note?: string }> }>(`/api/incidents/${manifest.incidents[0]}`);
    expect(incident.alerts.map((a) => a.id)).toContain(old!.id);
    expect(incident.timeline).toContainEqual(expect.objectContaining({ kind: 'alert-opened', alertId: old!.id }));
    expect(incident.timeline).toContainEqual(expect.objectContaining({ kind: 'alert-acknowledged', alertId: old!.id, actor: 'admin', note: 'pumps checked on site' }));

    // Readings through the API: both level sensors' hour (one a minute, 100..159 mm), the pump's, the
    // gate scans paired into sessions.
    const from = new Date(DAY + 10 * 3_600_000).toISOString();
    const to = new Date(DAY + 11 * 3_600_000).toISOString();
    const history = await get<{ levels: Record<string, Array<{ t: string; avg: number }>>; pumps: Record<string, Array<{ t: string }>> }>(`/api/flood/b1-power/history?from=${from}&to=${to}`);
    for (const s of ['L1', 'L2']) expect(history.levels[s]!.map((x) => x.avg)).toEqual(Array.from({ length: 60 }, (_, m) => 100 + m));
    expect(history.pumps.P1).toHaveLength(60);
    const sessions = await get<Array<{ pass: string; exitAt?: string | null }>>(`/api/parking/sessions?from=${new Date(DAY).toISOString()}&to=${new Date(DAY + 86_400_000).toISOString()}`);
    expect(sessions).toHaveLength(20);
    expect(sessions.filter((s) => typeof s.exitAt === 'string')).toHaveLength(10);

    await p.stop();
    p = undefined;

    // The file: every reading of every kind, every account row, the alert's events, each module at the
    // version this code knows; the table nothing ever wrote is gone.
    const after = tableCounts(join(dir, 'parkops.db'));
    for (const t of READING_TABLES) expect(after[t], t).toBe(manifest.rows[t]);
    expect(READING_TABLES.reduce((n, t) => n + after[t]!, 0)).toBe(manifest.readings);
    for (const t of ['auth_users', 'auth_tokens', 'incidents', 'series', 'parking_sessions']) expect(after[t], t).toBe(manifest.rows[t]);
    // These grow: the engine, judging the room again at start, opens the pump alerts (the pumps have not
    // reported since the fixture was made) and attaches them to the open incident; sign-ins are audited.
    for (const t of ['alerts', 'alert_events', 'incident_alerts', 'audit_log']) expect(after[t], t).toBeGreaterThanOrEqual(manifest.rows[t]!);
    expect(after.alert_notifications).toBeUndefined();
    const db = new Database(join(dir, 'parkops.db'), { readonly: true });
    const versions = Object.fromEntries((db.prepare('SELECT module, version FROM schema_versions').all() as { module: string; version: number }[]).map((r) => [r.module, r.version]));
    db.close();
    expect(versions).toEqual(Object.fromEntries(SCHEMAS.map((s) => [s.module, knownVersion(s)])));
  });

  it('refuses a database written by a newer ParkOps, naming the module and both versions, and changes nothing', async () => {
    // The database as today's ParkOps left it above, then "written by a newer release": one module a
    // version ahead. (ParkOps keeps its database in WAL mode, so a newer release's file is WAL too.)
    const newer = mkdtempSync(join(tmpdir(), 'parkops-newer-'));
    try {
      const file = join(newer, 'parkops.db');
      copyFileSync(join(dir, 'parkops.db'), file);
      const alerts = SCHEMAS.find((s) => s.module === 'alerts')!;
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.prepare('UPDATE schema_versions SET version = ? WHERE module = ?').run(knownVersion(alerts) + 1, 'alerts');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const hash = sha256(file);
      const size = statSync(file).size;

      let failure: unknown;
      try {
        p = await startParkOps({ dataDir: newer, env: { PARKOPS_ADMIN_PASSWORD: manifest.adminPassword, PARKOPS_NODE_RED: 'false' }, waitForMqtt: false });
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeInstanceOf(ChildExitedError);
      const message = (failure as Error).message;
      expect(message).toContain('ParkOps cannot start: this database was written by a newer ParkOps');
      expect(message).toContain(`module "alerts" is at schema version ${knownVersion(alerts) + 1}, this ParkOps knows up to version ${knownVersion(alerts)}`);
      expect(message).toContain('Nothing was changed');
      expect(message).not.toMatch(/\n\s+at /);

      expect(sha256(file)).toBe(hash);
      expect(statSync(file).size).toBe(size);
      // Nothing left behind to be replayed into the file later either.
      const wal = join(newer, 'parkops.db-wal');
      expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
      expect(readdirSync(newer).filter((f) => f.startsWith('parkops.db') && f !== 'parkops.db' && f !== 'parkops.db-wal' && f !== 'parkops.db-shm')).toEqual([]);
    } finally {
      rmSync(newer, { recursive: true, force: true });
    }
  });
});
