/**
 * The AuthRepository behaviour suite on SQLite (a real database file in a temp folder), and the upgrade
 * of the auth tables of release 0.1.0 (test/fixtures/release-0.1.0, made by that release's own code):
 * its users, token and sessions keep working after the migration to schema version 3.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../ingest/src/auth/service.ts';
import { SqliteAuthRepository } from '../../ingest/src/auth/sqlite-repository.ts';
import { loadConfig } from '../../ingest/src/config.ts';
import { createLogger } from '../../ingest/src/log.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { authRepositorySuite, type AuthRepositoryUnderTest } from './auth-repository.suite.ts';

const root = mkdtempSync(join(tmpdir(), 'parkops-auth-repo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function openAt(dir: string): AuthRepositoryUnderTest {
  const db = openDatabase(dir);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    db.close();
  };
  return {
    repo: new SqliteAuthRepository(db),
    close,
    reopen: async () => {
      await close();
      const again = openAt(dir);
      await again.repo.init();
      return again;
    },
  };
}

authRepositorySuite('SQLite', async () => openAt(join(root, `db-${++n}`)));

describe('the auth tables of release 0.1.0', () => {
  it('upgrade to version 3 keeping users, their passwords and roles, and the token', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/release-0.1.0/', import.meta.url));
    const manifest = JSON.parse(readFileSync(join(fixture, 'manifest.json'), 'utf8')) as { adminPassword: string; users: { username: string; password: string; role: string }[] };
    const dir = join(root, 'release-0.1.0');
    const db0 = openDatabase(dir);
    db0.close();
    copyFileSync(join(fixture, 'parkops.db'), join(dir, 'parkops.db'));
    rmSync(join(dir, 'parkops.db-wal'), { force: true });
    rmSync(join(dir, 'parkops.db-shm'), { force: true });
    const db = openDatabase(dir);
    const repo = new SqliteAuthRepository(db);
    const auth = new AuthService({ repo, config: loadConfig({ PARKOPS_DATA_DIR: dir }, { dotenv: false }), log: createLogger('silent') });
    try {
      await auth.start();
      expect((db.prepare("SELECT version FROM schema_versions WHERE module = 'auth'").get() as { version: number }).version).toBe(3);
      for (const u of [{ username: 'admin', password: manifest.adminPassword, role: 'admin' }, ...manifest.users]) {
        const r = await auth.login(u.username, u.password, '127.0.0.1');
        expect(r.ok ? r.user.role : r.reason, u.username).toBe(u.role);
      }
      expect((await auth.listTokens()).length).toBeGreaterThan(0);
    } finally {
      await auth.stop();
      db.close();
    }
  });
});
