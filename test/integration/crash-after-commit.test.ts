/**
 * A crash exactly between a batch's commit and its PUBACKs, made on purpose with the test-only
 * setting PARKOPS_TEST_CRASH_AFTER_COMMIT=1 (the process SIGKILLs itself right after its first
 * commit, before a single acknowledgement is written):
 *   - through Mosquitto, the broker redelivers the whole committed batch to the restarted ingest,
 *     which stores every redelivery once (each one counted as a duplicate) and pairs the gate scans;
 *   - through the embedded broker, the device resends its unacknowledged entry scan only after the
 *     exit scan of the same pass was stored, out of order: it is stored once and opens no second
 *     session.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { metricSum, scrapeMetrics } from '../chaos/support.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { freePort, tieToThisProcess, waitUntil } from '../harness/ports.ts';
import { ADMIN_PASSWORD, startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { adminApi } from '../support/api.ts';
import { connect, eventually } from '../support/mqtt.ts';

const MAIN = fileURLToPath(new URL('../../ingest/src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const site = loadSite();
const bays = site.bays.map((b) => b.id);

interface Session {
  pass: string;
  gateIn: string;
  entryAt: string;
  gateOut?: string;
  exitAt?: string;
}

/** ParkOps with the crash setting, as `npm start` runs it; resolves with its output once it exited. */
function crashingParkOps(env: Record<string, string>): { exited: Promise<{ signal: NodeJS.Signals | null; output: string }>; healthy: (baseUrl: string) => Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'warn', PARKOPS_SIMULATE: 'false', PARKOPS_NODE_RED: 'false', PARKOPS_ADMIN_PASSWORD: ADMIN_PASSWORD, HOST: '127.0.0.1', MQTT_BIND: '127.0.0.1', PARKOPS_TEST_CRASH_AFTER_COMMIT: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  tieToThisProcess(child);
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve) => child.once('exit', (_code, signal) => resolve({ signal, output })));
  return {
    exited,
    healthy: (baseUrl) =>
      waitUntil(
        'crash-configured ParkOps',
        async () => {
          try {
            return (await fetch(`${baseUrl}/api/health`)).status === 200;
          } catch {
            return false;
          }
        },
        child,
        () => output,
        60_000,
      ),
  };
}

function rows(dataDir: string, sql: string, ...args: unknown[]): Array<Record<string, number | string>> {
  const db = new Database(join(dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as Array<Record<string, number | string>>;
  } finally {
    db.close();
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe('a crash between the commit and the PUBACKs', () => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await sys?.stop();
    sys = undefined;
    await mosquitto?.stop();
    mosquitto = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('through Mosquitto: the committed batch comes back, every redelivery is stored once and the scans pair', async () => {
    mosquitto = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'parkops-crash-commit-'));
    const port = await freePort();
    const mqttPort = await freePort();
    // First start makes the persistent session; what is published while ParkOps is down waits in it.
    sys = await startParkOps({ dataDir: dir, port, mqttPort, env: { MQTT_URL: mosquitto.url, PARKOPS_NODE_RED: 'false' } });
    await sys.stop();
    sys = undefined;

    const total = 3000;
    const base = Date.now() - 6 * 3_600_000;
    const entryAt = base - 3_600_000;
    const exitAt = entryAt + 90 * 60_000;
    const publisher = await connect(mosquitto.url, { clientId: 'crash-commit-publisher' });
    // The entry is the first message, so it is in the first (crashing) batch; the exit comes last.
    await publisher.publishAsync('park/parking/gates/north-in', JSON.stringify({ event: 'entry', pass: 'QR-CRASH-1', ts: entryAt }), { qos: 1 });
    for (let i = 0; i < total; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, total - i) }, (_, k) => publisher.publishAsync(`park/parking/bays/${bays[(i + k) % bays.length]}`, JSON.stringify({ occupied: (i + k) % 2 === 0, ts: base + i + k }), { qos: 1 })));
    }
    await publisher.publishAsync('park/parking/gates/south-out', JSON.stringify({ event: 'exit', pass: 'QR-CRASH-1', ts: exitAt }), { qos: 1 });
    await publisher.endAsync();

    const crash = crashingParkOps({ PORT: String(port), MQTT_PORT: String(mqttPort), PARKOPS_DATA_DIR: dir, MQTT_URL: mosquitto.url });
    const { signal, output } = await crash.exited;
    expect(signal, output).toBe('SIGKILL');
    expect(output).toMatch(/PARKOPS_TEST_CRASH_AFTER_COMMIT: SIGKILL after the commit, before the acks/);
    // On disk: the first batch, committed before the kill; none of it was acknowledged.
    const committedBays = Number(rows(dir, 'SELECT count(*) AS n FROM bay_readings WHERE ts >= ? AND ts < ?', base, base + total)[0]!.n);
    const committedScans = Number(rows(dir, "SELECT count(*) AS n FROM gate_scans WHERE pass = 'QR-CRASH-1'")[0]!.n);
    expect(committedScans).toBe(1);
    expect(committedBays).toBeGreaterThan(0);
    expect(committedBays).toBeLessThan(total);

    sys = await startParkOps({ dataDir: dir, port, mqttPort, env: { MQTT_URL: mosquitto.url, PARKOPS_NODE_RED: 'false' } });
    const stored = (): Array<Record<string, number | string>> => rows(dir!, 'SELECT ts, count(*) AS n FROM bay_readings WHERE ts >= ? AND ts < ? GROUP BY ts', base, base + total);
    await eventually(() => stored().length === total && Number(rows(dir!, "SELECT count(*) AS n FROM gate_scans WHERE pass = 'QR-CRASH-1'")[0]!.n) === 2, 30_000, `all ${total} readings and both scans stored`);
    expect(stored().filter((r) => r.n !== 1)).toEqual([]);
    // Every committed message came back from the broker and was recognised as a redelivery.
    const metrics = await scrapeMetrics(sys.baseUrl);
    expect(metricSum(metrics, 'parkops_messages_duplicate_total')).toBe(committedBays + committedScans);
    console.log(`crash after commit (Mosquitto): ${committedBays + committedScans} readings committed and unacknowledged at the SIGKILL; all redelivered, each stored once`);

    const api = await adminApi(sys);
    const { status, body } = await api.get<Session[]>(`/api/parking/sessions?from=${iso(entryAt - 60_000)}&to=${iso(exitAt + 60_000)}`);
    expect(status).toBe(200);
    expect(body.filter((s) => s.pass === 'QR-CRASH-1')).toEqual([{ pass: 'QR-CRASH-1', gateIn: 'north-in', entryAt: iso(entryAt), gateOut: 'south-out', exitAt: iso(exitAt), minutes: 90 }]);
  });

  it('through the embedded broker: an entry scan resent after its exit was stored is stored once and pairs once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parkops-crash-commit-embedded-'));
    const port = await freePort();
    const mqttPort = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const crash = crashingParkOps({ PORT: String(port), MQTT_PORT: String(mqttPort), PARKOPS_DATA_DIR: dir });
    await crash.healthy(baseUrl);

    const entryAt = Date.now() - 2 * 3_600_000;
    const exitAt = entryAt + 45 * 60_000;
    // The entry gate: no automatic reconnect, so it resends exactly when the test says.
    const entryGate = await connect(mqttUrl, { clientId: 'crash-commit-north-in', clean: false, reconnectPeriod: 0 });
    let entryAcked = false;
    entryGate.publish('park/parking/gates/north-in', JSON.stringify({ event: 'entry', pass: 'QR-CRASH-2', ts: entryAt }), { qos: 1 }, (err) => {
      if (!err) entryAcked = true;
    });
    const { signal, output } = await crash.exited;
    expect(signal, output).toBe('SIGKILL');
    expect(entryAcked).toBe(false);
    expect(rows(dir, "SELECT count(*) AS n FROM gate_scans WHERE pass = 'QR-CRASH-2'")[0]!.n).toBe(1);

    sys = await startParkOps({ dataDir: dir, port, mqttPort, env: { PARKOPS_NODE_RED: 'false' } });
    const exitGate = await connect(mqttUrl, { clientId: 'crash-commit-south-out' });
    await exitGate.publishAsync('park/parking/gates/south-out', JSON.stringify({ event: 'exit', pass: 'QR-CRASH-2', ts: exitAt }), { qos: 1 });
    await exitGate.endAsync();
    // Now the entry gate comes back and resends its unacknowledged entry, after the exit. (MQTT.js
    // keeps unacknowledged publishes in its outgoing store; reconnect() without them would drop it.)
    entryGate.reconnect({ incomingStore: entryGate.incomingStore, outgoingStore: entryGate.outgoingStore });
    await eventually(() => entryAcked, 10_000, 'the resent entry acknowledged');
    await entryGate.endAsync();

    expect(rows(dir, "SELECT event, ts FROM gate_scans WHERE pass = 'QR-CRASH-2' ORDER BY ts")).toEqual([
      { event: 'entry', ts: entryAt },
      { event: 'exit', ts: exitAt },
    ]);
    expect(metricSum(await scrapeMetrics(sys.baseUrl), 'parkops_messages_duplicate_total')).toBe(1);
    const api = await adminApi(sys);
    const { body } = await api.get<Session[]>(`/api/parking/sessions?from=${iso(entryAt - 60_000)}&to=${iso(exitAt + 60_000)}`);
    expect(body.filter((s) => s.pass === 'QR-CRASH-2')).toEqual([{ pass: 'QR-CRASH-2', gateIn: 'north-in', entryAt: iso(entryAt), gateOut: 'south-out', exitAt: iso(exitAt), minutes: 45 }]);
  });
});
