/**
 * The `feed` token role (docs/api.md, official warnings): tokens may have it, people may not, and a database
 * made before it existed is migrated without losing its tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { openDatabase, type Db } from '../store/db.ts';
import { AuthService } from './service.ts';
import { SqliteAuthRepository } from './sqlite-repository.ts';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-feed-role-'));
  db = openDatabase(dir);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const repo = () => new SqliteAuthRepository(db);
const service = () => new AuthService({ repo: repo(), config: loadConfig({ PARKOPS_DATA_DIR: dir, PARKOPS_ADMIN_PASSWORD: 'first-admin-password' }, { dotenv: false }), log: createLogger('silent'), scryptParams: { ln: 10, r: 8, p: 1 } });

describe('the feed token role', () => {
  it('is given to tokens, which then identify as feed', async () => {
    const auth = service();
    await auth.start();
    const { token } = await auth.createToken('admin', '127.0.0.1', { name: 'cma-feed', role: 'feed' });
    expect(await auth.identify({ authorization: `Bearer ${token}` })).toEqual({ username: 'token:cma-feed', role: 'feed', via: 'token' });
    expect((await auth.listTokens()).map((t) => [t.name, t.role])).toEqual([['cma-feed', 'feed']]);
    expect(auth.roleOf('token:cma-feed')).toBe('feed');
    await auth.stop();
  });

  it('is added to a database from before it, keeping the tokens there', async () => {
    // The auth tables as version 1 made them: no feed in the role check.
    db.exec(`CREATE TABLE schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL);
      INSERT INTO schema_versions VALUES ('auth', 1);
      CREATE TABLE auth_users (username TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'manager', 'admin')), password_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE auth_sessions (id_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES auth_users(username) ON DELETE CASCADE, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, ip TEXT);
      CREATE TABLE auth_tokens (name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'manager', 'admin')), token_hash TEXT NOT NULL UNIQUE, created_by TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT);
      CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT, ip TEXT, detail TEXT);
      INSERT INTO auth_tokens VALUES ('bms', 'manager', 'abc123', 'admin', '2026-01-01T00:00:00Z', NULL);`);
    expect(() => db.prepare("INSERT INTO auth_tokens VALUES ('f', 'feed', 'def', 'admin', 'x', NULL)").run()).toThrow(/CHECK constraint/);
    const auth = service();
    await auth.start();
    expect((await auth.listTokens()).map((t) => [t.name, t.role])).toEqual([['bms', 'manager']]);
    expect((await repo().findToken('abc123'))?.name).toBe('bms');
    await auth.createToken('admin', '127.0.0.1', { name: 'cma-feed', role: 'feed' });
    expect((await auth.listTokens()).map((t) => t.role)).toEqual(['manager', 'feed']);
    await auth.stop();
  });

  it('is never a person\'s role: the users table refuses it', async () => {
    const auth = service();
    await auth.start();
    expect(() => db.prepare("INSERT INTO auth_users (username, role, password_hash, created_at, updated_at) VALUES ('x', 'feed', 'h', 'a', 'a')").run()).toThrow(/CHECK constraint/);
    await auth.stop();
  });
});
