/**
 * The embedded broker is not open to the LAN by default: started as `npm start` starts it (no MQTT_BIND,
 * no password file) it listens on 127.0.0.1; asked to listen on 0.0.0.0 without MQTT_PASSWORD_FILE,
 * start-up stops with exit code 2 and a message that names the settings.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { HealthResponse } from '@parkops/contract/index.ts';
import { freePort } from '../harness/ports.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let sys: ParkOpsProcess | undefined;

afterAll(async () => {
  await sys?.stop();
});

describe('embedded broker bind', () => {
  it('listens on 127.0.0.1 with no set-up', async () => {
    // MQTT_BIND empty is unset (the harness otherwise passes 127.0.0.1 itself).
    sys = await startParkOps({ env: { MQTT_BIND: '', PARKOPS_NODE_RED: 'false' } });
    const health = (await (await fetch(`${sys.baseUrl}/api/health`)).json()) as HealthResponse;
    expect(health.mqtt).toBe(`embedded on 127.0.0.1:${sys.mqttPort}`);
  });

  it('refuses to start with anonymous access on 0.0.0.0, naming MQTT_BIND, MQTT_PASSWORD_FILE and MQTT_ACL_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-bind-'));
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PORT: String(await freePort()), HOST: '127.0.0.1', MQTT_PORT: String(await freePort()), MQTT_BIND: '0.0.0.0', PARKOPS_DATA_DIR: dir, PARKOPS_SIMULATE: 'false', LOG_LEVEL: 'warn' };
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'ingest', 'src', 'main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(2);
      expect(out).toContain('ParkOps cannot start: bad setting: MQTT_BIND: 0.0.0.0 is not a loopback address');
      expect(out).toMatch(/MQTT_PASSWORD_FILE.*MQTT_ACL_FILE/);
      expect(out).not.toMatch(/\n\s+at /); // one line, no stack trace
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
