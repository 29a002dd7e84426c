import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../config.ts';
import { createLogger } from '../log.ts';
import { openDatabase } from '../store/db.ts';
import { runAccountCommand } from './cli.ts';
import { AuthService } from './service.ts';
import { SqliteAuthRepository } from './sqlite-repository.ts';

let dir: string;
let config: Config;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-auth-cli-'));
  config = loadConfig({ PARKOPS_DATA_DIR: dir }, { dotenv: false });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function verify(username: string, password: string) {
  const db = openDatabase(dir);
  const auth = new AuthService({ repo: new SqliteAuthRepository(db), config, log: createLogger('silent') });
  try {
    await auth.start();
    const r = await auth.login(username, password, '127.0.0.1');
    return r.ok ? { username: r.user.username, role: r.user.role } : r.reason;
  } finally {
    await auth.stop();
    db.close();
  }
}

describe('auth cli', () => {
  it('creates a user with --create, resets a password, and audits both as cli', async () => {
    expect(await runAccountCommand(config, ['set-password', 'ops', '--create', 'admin'], async () => 'first-password\n')).toBe('created ops (admin)');
    expect(await verify('ops', 'first-password')).toEqual({ username: 'ops', role: 'admin' });
    expect(await runAccountCommand(config, ['set-password', 'ops'], async () => 'second-password')).toBe('password of ops (admin) changed; their sessions were ended');
    expect(await verify('ops', 'first-password')).toBe('invalid');
    expect(await verify('ops', 'second-password')).toEqual({ username: 'ops', role: 'admin' });
    expect(await runAccountCommand(config, ['list-users'], async () => '')).toBe('ops\tadmin');
  });

  it('opens a disabled account again when it sets its password', async () => {
    await runAccountCommand(config, ['set-password', 'ops', '--create', 'admin'], async () => 'first-password');
    await runAccountCommand(config, ['set-password', 'li.wei', '--create', 'responder'], async () => 'responder-pw-1');
    const db = openDatabase(dir);
    const auth = new AuthService({ repo: new SqliteAuthRepository(db), config, log: createLogger('silent') });
    await auth.start();
    await auth.updateUser('ops', '127.0.0.1', 'li.wei', { disabled: true });
    await auth.stop();
    db.close();
    expect(await verify('li.wei', 'responder-pw-1')).toBe('disabled');
    expect(await runAccountCommand(config, ['list-users'], async () => '')).toBe('li.wei\tresponder\tdisabled\nops\tadmin');
    await runAccountCommand(config, ['set-password', 'li.wei'], async () => 'responder-pw-2');
    expect(await verify('li.wei', 'responder-pw-2')).toEqual({ username: 'li.wei', role: 'responder' });
  });

  it('refuses unknown users, short passwords and bad arguments with a clear message', async () => {
    await expect(runAccountCommand(config, ['set-password', 'nobody'], async () => 'long-enough-pw')).rejects.toThrow('no user nobody; add --create <role> to create it');
    await expect(runAccountCommand(config, ['set-password', 'x', '--create', 'boss'], async () => 'long-enough-pw')).rejects.toThrow(/--create needs a role/);
    await expect(runAccountCommand(config, ['set-password', 'x', '--create', 'viewer'], async () => 'short')).rejects.toThrow('the password must be at least 10 characters');
    await expect(runAccountCommand(config, ['set-password', 'Bad Name'], async () => 'long-enough-pw')).rejects.toThrow(/needs a username/);
    await expect(runAccountCommand(config, ['frobnicate'], async () => '')).rejects.toThrow(/usage:/);
  });

  // Two tsx start-ups: seconds on a busy 2-core CI machine, so more than the default 5 s.
  it('runs from the shell with the password piped in', { timeout: 60_000 }, () => {
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    const env = { PATH: process.env.PATH, PARKOPS_DATA_DIR: dir };
    const out = execFileSync(tsx, [cli, 'set-password', 'admin', '--create', 'admin'], { input: 'piped-password-1\n', env, cwd: dir, encoding: 'utf8' });
    expect(out).toBe('created admin (admin)\n');
    let stderr = '';
    try {
      execFileSync(tsx, [cli, 'set-password', 'ghost'], { input: 'piped-password-1\n', env, cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
      expect((err as { status: number }).status).toBe(2);
    }
    expect(stderr).toBe('no user ghost; add --create <role> to create it\n');
  });
});
