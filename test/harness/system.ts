/**
 * Starts ParkOps as `npm start` runs it (ingest/src/main.ts through tsx), as a child process, on free
 * loopback ports with a temporary data folder: the embedded broker unless `env.MQTT_URL` is given,
 * simulators off unless asked. `kill()` is a SIGKILL (crash), `stop()` a graceful SIGTERM, `restart()`
 * starts it again with the same ports and data folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, removeOnExit, stopChild, tieToThisProcess, waitUntil } from './ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'ingest', 'src', 'main.ts');

export const ADMIN_PASSWORD = 'test-admin-password-1';

export interface ParkOpsOptions {
  env?: Record<string, string>;
  port?: number;
  mqttPort?: number;
  dataDir?: string;
  /** Wait for MQTT to be connected too (default true). */
  waitForMqtt?: boolean;
}

export interface ParkOpsProcess {
  baseUrl: string;
  /** The broker devices publish to: the embedded one, or env.MQTT_URL. */
  mqttUrl: string;
  port: number;
  mqttPort: number;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Logs in as admin (PARKOPS_ADMIN_PASSWORD) and returns the session cookie header. */
  adminCookie(): Promise<string>;
}

export async function startParkOps(opts: ParkOpsOptions = {}): Promise<ParkOpsProcess> {
  const port = opts.port ?? (await freePort());
  const mqttPort = opts.mqttPort ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'parkops-sys-'));
  const cleanup = ownDir ? removeOnExit(dataDir, (d) => rmSync(d, { recursive: true, force: true })) : () => {};
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    PORT: String(port),
    HOST: '127.0.0.1',
    MQTT_PORT: String(mqttPort),
    MQTT_BIND: '127.0.0.1',
    PARKOPS_DATA_DIR: dataDir,
    PARKOPS_SIMULATE: 'false',
    PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const mqttUrl = env.MQTT_URL ?? `mqtt://127.0.0.1:${mqttPort}`;
  const baseUrl = `http://127.0.0.1:${port}`;
  let out = '';
  let child!: ChildProcess;
  let release = (): void => {};

  const launch = async (): Promise<void> => {
    out = '';
    // Node with tsx's loader, not the tsx CLI: the CLI runs the program in a grandchild, so a SIGKILL
    // to it left the real server running (orphaned, still serving) and kill() was no crash at all.
    child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    release = tieToThisProcess(child);
    const keep = (b: Buffer): void => {
      out += b.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitUntil(
      'ParkOps',
      async () => {
        try {
          const res = await fetch(`${baseUrl}/api/health`);
          const body = (await res.json()) as { mqtt?: string; status?: string };
          return opts.waitForMqtt === false ? true : res.status === 200 || (body.mqtt !== undefined && !/starting|connecting/.test(body.mqtt));
        } catch {
          return false;
        }
      },
      child,
      () => out,
      60_000,
    );
  };
  await launch();

  const proc: ParkOpsProcess = {
    baseUrl,
    mqttUrl,
    port,
    mqttPort,
    dataDir,
    get child() {
      return child;
    },
    output: () => out,
    async stop() {
      await stopChild(child, 'SIGTERM');
      release();
      cleanup();
    },
    async kill() {
      await stopChild(child, 'SIGKILL');
      release();
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) {
        await stopChild(child, 'SIGTERM');
        release();
      }
      await launch();
    },
    async adminCookie() {
      const res = await fetch(`${baseUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: baseUrl },
        body: JSON.stringify({ username: 'admin', password: env.PARKOPS_ADMIN_PASSWORD }),
      });
      if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${await res.text()}`);
      const cookie = res.headers.get('set-cookie');
      if (!cookie) throw new Error('admin login gave no session cookie');
      return cookie.split(';')[0]!;
    },
  };
  return proc;
}
