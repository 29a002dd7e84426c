/**
 * Account recovery from the server's shell, for when no admin can log in (a forgotten password, the
 * last admin locked out). It opens the same database as ParkOps (settings from the environment and
 * `.env`, as `npm start` reads them) and may run while ParkOps runs: the change applies to the next
 * request. Audited with actor `cli`.
 *
 *   printf '%s\n' 'a-new-long-password' | npx tsx ingest/src/auth/cli.ts set-password admin
 *   npx tsx ingest/src/auth/cli.ts set-password li.wei            # prompts, without echo
 *   npx tsx ingest/src/auth/cli.ts set-password ops --create admin  # creates the user if missing
 *   npx tsx ingest/src/auth/cli.ts list-users
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { USER_ROLES, type UserRole } from '@parkops/contract/api.ts';
import { createLogger } from '../log.ts';
import { openDatabase } from '../store/db.ts';
import { AuthService } from './service.ts';
import { SqliteAuthRepository } from './sqlite-repository.ts';
import { PgAuthRepository, PG_AUTH_SCHEMA } from './pg-repository.ts';
import type { AuthRepository } from './repository.ts';
import { migratePg, openPool, PgDatabase } from '../db/pg.ts';
import { AuthError, MIN_PASSWORD_LENGTH, USERNAME_PATTERN } from './rules.ts';

export class CliError extends Error {}

/** The command itself, without stdin/stdout, for tests. Returns the line to print. */
export async function runAccountCommand(config: Config, args: string[], readPassword: () => Promise<string>): Promise<string> {
  const [command, username, ...rest] = args;
  if (command !== 'set-password' && command !== 'list-users') throw new CliError('usage: cli.ts set-password <username> [--create <role>] | list-users');
  // The accounts live where the server keeps them: PostgreSQL when PARKOPS_DATABASE_URL is set.
  const { repo, close } = await accountsOf(config);
  // Quiet: this tool prints its own single line. Not start()ed: no first admin, no housekeeping.
  const auth = new AuthService({ repo, config, log: createLogger('silent') });
  try {
    await repo.init();
    if (command === 'list-users') {
      return (await repo.listUsers()).map((u) => `${u.username}\t${u.role}${u.disabledAt !== undefined ? '\tdisabled' : ''}`).join('\n');
    }
    if (username === undefined || !USERNAME_PATTERN.test(username)) throw new CliError('set-password needs a username of 1-64 characters of a-z, 0-9, "_", "." or "-"');
    let createRole: UserRole | undefined;
    if (rest[0] === '--create') {
      if (!USER_ROLES.includes(rest[1] as UserRole)) throw new CliError(`--create needs a role: ${USER_ROLES.join(', ')}`);
      createRole = rest[1] as UserRole;
    } else if (rest.length > 0) {
      throw new CliError(`unexpected argument ${rest[0]}`);
    }
    const exists = (await repo.findUser(username)) !== undefined;
    if (!exists && createRole === undefined) throw new CliError(`no user ${username}; add --create <role> to create it`);
    const password = (await readPassword()).replace(/\r?\n$/, '');
    if (password.length < MIN_PASSWORD_LENGTH) throw new CliError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
    if (exists) {
      // Setting a password from the shell opens a disabled account again (a lock-out lives in the running process).
      const user = await auth.updateUser('cli', 'local', username, { password, disabled: false, mustChangePassword: false });
      return `password of ${user.username} (${user.role}) changed; their sessions were ended`;
    }
    const user = await auth.createUser('cli', 'local', { username, password, role: createRole! });
    return `created ${user.username} (${user.role})`;
  } catch (err) {
    if (err instanceof AuthError) throw new CliError(err.message);
    throw err;
  } finally {
    // Waits for the audit entries still queued.
    await auth.stop();
    await close();
  }
}

async function accountsOf(config: Config): Promise<{ repo: AuthRepository; close: () => Promise<void> }> {
  if (config.PARKOPS_DATABASE_URL) {
    const pool = openPool(config.PARKOPS_DATABASE_URL, { applicationName: 'parkops-cli', max: 2 });
    try {
      await migratePg(pool, [PG_AUTH_SCHEMA]);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return { repo: new PgAuthRepository(new PgDatabase(pool)), close: () => pool.end() };
  }
  const db = openDatabase(config.dataDir, { synchronous: config.PARKOPS_SQLITE_SYNC });
  return { repo: new SqliteAuthRepository(db), close: async () => void db.close() };
}

/** Reads one line: piped stdin as is, or a prompt on a terminal without echoing what is typed. */
function readPasswordFromStdin(): Promise<string> {
  if (!process.stdin.isTTY) {
    return new Promise((resolve, reject) => {
      let data = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk: string) => (data += chunk));
      process.stdin.on('end', () => resolve(data.split(/\r?\n/)[0] ?? ''));
      process.stdin.on('error', reject);
    });
  }
  process.stderr.write('New password: ');
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

async function main(): Promise<void> {
  try {
    const line = await runAccountCommand(loadConfig(), process.argv.slice(2), readPasswordFromStdin);
    process.stdout.write(`${line}\n`);
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) void main();
