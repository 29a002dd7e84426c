/**
 * A real PostgreSQL 15 (Debian's /usr/lib/postgresql/15/bin) for integration and chaos tests: a fresh
 * cluster made by initdb in a temp folder owned by `postgres`, the postmaster on a free 127.0.0.1 port
 * (its unix socket in the temp folder, fsync on), one database and one role with a scram password.
 *
 *   const pg = await startPostgres();
 *   // pg.url = 'postgresql://parkops:<password>@127.0.0.1:<port>/parkops'
 *   await pg.restart();            // fast shutdown (SIGINT), then start again: same port, same data
 *   await pg.restart('immediate'); // SIGQUIT: no checkpoint, recovery from WAL on start (like a crash)
 *   await pg.stop();               // final: stops the server and removes the temp folder
 *
 * The server runs as `postgres` (it refuses to run as root) through setpriv, which execs it in place:
 * the child's pid is the postmaster's own, so stopping and the never-outlive-the-test watchdog of
 * ports.ts work on the server itself, not on a wrapper.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ChildExitedError, freePort, portAccepts, removeOnExit, stopChild, tieToThisProcess, waitUntil } from './ports.ts';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  port: number;
  /** postgresql://parkops:…@127.0.0.1:port/parkops */
  url: string;
  /** A superuser URL (the `postgres` role over the unix socket is not reachable by TCP; this one is, with a password). */
  adminUrl: string;
  dataDir: string;
  /** Stops the server and removes its temp folder. Final. */
  stop(): Promise<void>;
  /** `fast` (default): SIGINT, a clean shutdown; `immediate`: SIGQUIT, recovery from WAL on start. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Runs SQL as the superuser (for tests that must reach past ParkOps' role, e.g. pg_terminate_backend). */
  admin(sql: string): string;
}

function owner(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

const asPostgres = (bin: string, args: string[]): [string, string[]] => ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', join(PG_BIN, bin), ...args]];

export async function startPostgres(): Promise<PostgresServer> {
  const root = mkdtempSync(join(tmpdir(), 'parkops-pg-'));
  const cleanup = removeOnExit(root, (d) => rmSync(d, { recursive: true, force: true }));
  const { uid, gid } = owner();
  chownSync(root, uid, gid);
  const dataDir = join(root, 'data');
  const superPassword = randomBytes(12).toString('hex');
  const password = randomBytes(12).toString('hex');
  const pwFile = join(root, 'pw');
  writeFileSync(pwFile, superPassword, { mode: 0o600 });
  chownSync(pwFile, uid, gid);
  const [cmd, args] = asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C.UTF-8']);
  execFileSync(cmd, args, { stdio: 'pipe', cwd: root });
  rmSync(pwFile);
  let port = 0;
  let child!: ChildProcess;
  let release = (): void => {};
  let out = '';

  const launch = async (): Promise<void> => {
    out = '';
    const [c, a] = asPostgres('postgres', [
      '-D', dataDir,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `port=${port}`,
      '-c', `unix_socket_directories=${root}`,
      '-c', 'fsync=on',
      '-c', 'synchronous_commit=on',
      '-c', 'max_connections=100',
      '-c', 'shared_buffers=64MB',
      '-c', 'logging_collector=off',
    ]);
    child = spawn(c, a, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    release = tieToThisProcess(child);
    const keep = (b: Buffer): void => {
      out += b.toString();
      if (out.length > 100_000) out = out.slice(-50_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitUntil('PostgreSQL', async () => (await portAccepts(port)) && /ready to accept connections/.test(out), child, () => out, 60_000);
  };
  // A port taken between freePort() and the bind makes the postmaster exit: try another.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      release();
      if (!(err instanceof ChildExitedError) || attempt >= 4) {
        cleanup();
        throw err;
      }
    }
  }

  const admin = (sql: string): string => {
    const [c, a] = asPostgres('psql', ['-h', root, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-Atq', '-c', sql]);
    return execFileSync(c, a, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGPASSWORD: superPassword }, stdio: ['ignore', 'pipe', 'pipe'], cwd: root }).toString().trim();
  };
  admin(`CREATE ROLE parkops LOGIN PASSWORD '${password}'`);
  admin('CREATE DATABASE parkops OWNER parkops');

  const stopServer = async (signal: NodeJS.Signals): Promise<void> => {
    await stopChild(child, signal, 20_000);
    release();
  };
  return {
    get port() {
      return port;
    },
    url: `postgresql://parkops:${password}@127.0.0.1:${port}/parkops`,
    adminUrl: `postgresql://postgres:${superPassword}@127.0.0.1:${port}/postgres`,
    dataDir,
    admin,
    async restart(mode = 'fast') {
      await stopServer(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
      await launch();
    },
    async stop() {
      await stopServer('SIGINT');
      cleanup();
    },
  };
}
