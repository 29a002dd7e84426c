#!/usr/bin/env node
// `npm start`: builds the dashboard (quietly) when its build is missing or older than its sources, then
// runs the whole system on this machine: embedded MQTT broker (unless MQTT_URL is set), SQLite store, API and
// dashboard, and the device simulators (PARKOPS_SIMULATE defaults to true here, false elsewhere).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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
  // The build's own output (chunk sizes, "Run npm run preview", plugin timings) is for developers:
  // kept, and shown only when the build fails.
  process.stderr.write('Building the dashboard (first start, or its sources changed; about a minute)... ');
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', 'build', '-w', 'dashboard', '--silent'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stderr.write('failed:\n');
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`);
    console.error('The dashboard build failed; see above.');
    process.exit(r.status ?? 1);
  }
  process.stderr.write(`done in ${Math.round((Date.now() - t0) / 1000)} s.\n`);
}

const env = { ...process.env };
if (env.PARKOPS_SIMULATE === undefined || env.PARKOPS_SIMULATE === '') env.PARKOPS_SIMULATE = 'true';
// In a terminal, a person reads the start-up summary: the JSON log shows warnings and errors only,
// unless LOG_LEVEL asks for more. Piped or in a container, it keeps every info line.
const dotenvSetsLevel = existsSync(join(root, '.env')) && /^\s*LOG_LEVEL\s*=\s*\S/m.test(readFileSync(join(root, '.env'), 'utf8'));
if ((env.LOG_LEVEL === undefined || env.LOG_LEVEL === '') && !dotenvSetsLevel && process.stdout.isTTY) env.LOG_LEVEL = 'warn';
// node --import tsx rather than the tsx CLI: signals go straight to ParkOps, which stops cleanly.
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'ingest', 'src', 'main.ts')], { cwd: root, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
