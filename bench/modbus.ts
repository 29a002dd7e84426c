/**
 * From a Modbus register change to the dashboard: ParkOps (started as `npm start` runs it) polls two
 * real Modbus TCP servers (Debian's python3-pymodbus, test/harness/modbus.ts), one level transmitter
 * each, at 1 s and at 0.2 s. Each try writes a new level into a register and times it until the
 * `level` event for that sensor arrives on `/api/stream`. The baseline, in the same run and system,
 * is the same reading published over MQTT by a device (embedded broker) until the same event.
 *
 * The clock starts before the register write is sent to the server, so each figure includes the
 * write itself (reported apart, as the control round trip). Tries wait a pseudo-random part of the
 * poll interval apart, so changes land at every phase of the poll cycle: the expected Modbus latency
 * is about half the poll interval plus the MQTT-like path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { testSiteFile } from '../ingest/src/alerts/testing.ts';
import { Topics } from '@parkops/contract/topics.ts';
import { startModbusServer, type ModbusServer } from '../test/harness/modbus.ts';
import { startParkOps } from '../test/harness/system.ts';
import { percentile } from './alerts.ts';

export interface ModbusLatencyResult {
  tries: number;
  rows: Array<{ path: string; pollSec: number | null; p50: number; p95: number; max: number; n: number }>;
  /** Median time for the harness to set a register (stdin round trip to the server). */
  setMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runModbusBench(opts: { quick: boolean; log: (s: string) => void }): Promise<ModbusLatencyResult> {
  const tries = opts.quick ? 15 : 60;
  const polls = [1, 0.2];
  const servers: ModbusServer[] = await Promise.all(polls.map(() => startModbusServer({ units: [1] })));
  const dir = mkdtempSync(join(tmpdir(), 'bench-modbus-'));
  const sitePath = join(dir, 'site.json');
  // Level sensors only, far below every band, reporting every 10 min as a heartbeat: nothing but the
  // measured changes goes through the path.
  writeFileSync(
    sitePath,
    JSON.stringify(
      testSiteFile({
        levels: [
          { id: 'MQ', name: 'MQTT baseline', intervalSec: 600 },
          ...polls.map((pollSec, i) => ({ id: `MB${i}`, name: `Modbus every ${pollSec} s`, intervalSec: 600, modbus: { host: '127.0.0.1', port: servers[i]!.port, unitId: 1, pollSec, mm: { table: 'holding-register', address: 0 } } })),
        ],
        pumps: [],
      }),
    ),
  );
  const sys = await startParkOps({ env: { PARKOPS_SITE: sitePath, PARKOPS_NODE_RED: 'false' } });
  const cookie = await sys.adminCookie();
  const dev = mqtt.connect(sys.mqttUrl, { protocolVersion: 4, clientId: 'bench-modbus-dev', clean: true });
  await new Promise((r) => dev.once('connect', r));
  const topics = new Topics('park');

  /** `${sensor}=${mm}` -> when its level event arrived. */
  const seen = new Map<string, number>();
  const ac = new AbortController();
  const sse = await fetch(`${sys.baseUrl}/api/stream`, { headers: { cookie }, signal: ac.signal });
  void (async () => {
    const reader = sse.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let idx;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        if (!frame.includes('event: level')) continue;
        const data = /data: (.*)/.exec(frame)?.[1];
        if (!data) continue;
        const v = JSON.parse(data) as { id?: string; mm?: number };
        const key = `${v.id}=${v.mm}`;
        if (!seen.has(key)) seen.set(key, performance.now());
      }
    }
  })();

  const waitFor = async (key: string, t0: number, timeoutMs: number): Promise<number | null> => {
    const deadline = Date.now() + timeoutMs;
    while (!seen.has(key) && Date.now() < deadline) await sleep(1);
    return seen.has(key) ? seen.get(key)! - t0 : null;
  };

  // Settle: first readings of every sensor, then measure.
  await sleep(3000);
  const lat = new Map<string, number[]>([['MQ', []], ...polls.map((_, i): [string, number[]] => [`MB${i}`, []])]);
  const setMs: number[] = [];
  let rnd = 12345;
  const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < tries; i++) {
    const mm = 100 + i;
    {
      const t0 = performance.now();
      dev.publish(topics.level('b1', 'MQ'), JSON.stringify({ mm }), { qos: 1 });
      const ms = await waitFor(`MQ=${mm}`, t0, 5000);
      if (ms !== null) lat.get('MQ')!.push(ms);
    }
    for (let p = 0; p < polls.length; p++) {
      await sleep(random() * polls[p]! * 1000);
      const t0 = performance.now();
      await servers[p]!.set(1, 'hr', 0, [mm]);
      setMs.push(performance.now() - t0);
      const ms = await waitFor(`MB${p}=${mm}`, t0, polls[p]! * 1000 + 5000);
      if (ms !== null) lat.get(`MB${p}`)!.push(ms);
    }
  }

  ac.abort();
  await dev.endAsync();
  await sys.stop();
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });

  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return { p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), max: r(s[s.length - 1] ?? NaN), n: s.length };
  };
  const rows: ModbusLatencyResult['rows'] = [{ path: 'MQTT publish (baseline)', pollSec: null, ...stats(lat.get('MQ')!) }];
  polls.forEach((pollSec, i) => rows.push({ path: `Modbus register, polled every ${pollSec} s`, pollSec, ...stats(lat.get(`MB${i}`)!) }));
  for (const r of rows) if (r.n < tries) opts.log(`  modbus: ${r.path}: only ${r.n} of ${tries} changes arrived`);
  return { tries, rows, setMs: stats(setMs).p50 };
}
