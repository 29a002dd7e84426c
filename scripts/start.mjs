#!/usr/bin/env node
// `npm start`: builds the dashboard when its build is missing or older than its sources, then runs the
// whole system on this machine: embedded MQTT broker (unless MQTT_URL is set), SQLite store, API and
// dashboard, and the device simulators (PARKOPS_SIMULATE defaults to true here, false elsewhere).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const handler = join(root, 'dashboard', 'build', 'handler.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const src = join(root, 'dashboard', 'src');
const stale = !existsSync(handler) || (existsSync(src) && newest(src) > statSync(handler).mtimeMs);
if (stale && existsSync(join(root, 'dashboard', 'svelte.config.js'))) {
  console.error('Building the dashboard (first start or changed sources)...');
  const r = spawnSync('npm', ['run', 'build', '-w', 'dashboard'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('The dashboard build failed; see above.');
    process.exit(r.status ?? 1);
  }
}

const env = { ...process.env };
if (env.PARKOPS_SIMULATE === undefined || env.PARKOPS_SIMULATE === '') env.PARKOPS_SIMULATE = 'true';
// node --import tsx rather than the tsx CLI: signals go straight to ParkOps, which stops cleanly.
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'ingest', 'src', 'main.ts')], { cwd: root, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
