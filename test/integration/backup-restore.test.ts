/**
 * Backups while running: a numbered stream of QoS 1 readings goes into ParkOps (the real process,
 * test/harness/system.ts); in the middle `npm run backup` (a process of its own) and the admin page's
 * backup each copy the live database while the stream goes on. ParkOps is stopped, each backup is
 * restored with `npm run restore` into a fresh data folder, ParkOps starts on it, and every reading
 * acknowledged before that backup began is there.
 *
 * What "acknowledged" can be seen as: through the embedded broker the device's PUBACK comes only
 * after ParkOps' commit, so the PUBACK times decide. Through Mosquitto the device's PUBACK comes from
 * the broker, and ParkOps acknowledges to the broker after its commit; what ParkOps had acknowledged
 * when the backup began is its accepted-messages counter read from /metrics just before, and since
 * readings are never removed, the backup must hold at least that many of the stream.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { connect } from '../support/mqtt.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const N = 3000;
const IN_FLIGHT = 100;

function ops(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'ingest/src/ops/cli.ts'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

async function accepted(sys: ParkOpsProcess): Promise<number> {
  const text = await (await fetch(`${sys.baseUrl}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^parkops_messages_accepted_total\{kind="bay"\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

const dirs: string[] = [];
describe.each(['embedded', 'mosquitto'] as const)('backup while streaming through %s', (broker) => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess | undefined;
  const restored: ParkOpsProcess[] = [];
  afterEach(async () => {
    for (const r of restored.splice(0)) await r.stop();
    await sys?.stop();
    await mosquitto?.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it(`restores every reading acknowledged before each backup began (${N} readings, CLI and admin page)`, async () => {
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}) } });
    const cookie = await sys.adminCookie();
    const site = (await import('@parkops/contract/site/index.ts')).loadSite();
    const bays = site.bays.map((b) => b.id);
    const out = mkdtempSync(join(tmpdir(), 'parkops-backups-'));
    dirs.push(out);
    const publisher = await connect(sys.mqttUrl, { clientId: `backup-pub-${broker}`, clean: false, reconnectPeriod: 100 });
    const base = Date.now() - 3_600_000;
    const pubackAt = new Array<number>(N).fill(Infinity);
    type Taken = { how: 'cli' | 'admin'; startedAt: number; acceptedBefore: number; file: string };
    const taken: Taken[] = [];
    let acked = 0;
    let next = 0;

    const backups = async (): Promise<void> => {
      const when = (k: number) => new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (acked >= k) {
            clearInterval(t);
            resolve();
          }
        }, 5);
      });
      await when(N / 3);
      {
        const acceptedBefore = await accepted(sys!);
        const file = join(out, 'cli.db');
        const startedAt = Date.now();
        const r = await ops(['backup', file, '--data-dir', sys!.dataDir]);
        expect(r.out).toMatch(/^backup written: /);
        expect(r.code).toBe(0);
        taken.push({ how: 'cli', startedAt, acceptedBefore, file });
      }
      await when((2 * N) / 3);
      {
        const acceptedBefore = await accepted(sys!);
        const startedAt = Date.now();
        const res = await fetch(`${sys!.baseUrl}/api/admin/backup`, { method: 'POST', headers: { cookie, origin: sys!.baseUrl, 'content-type': 'application/json' }, body: '{}' });
        const body = (await res.json()) as { name: string; download: string; bytes: number };
        expect(res.status).toBe(201);
        const dl = await fetch(`${sys!.baseUrl}${body.download}`, { headers: { cookie } });
        expect(dl.status).toBe(200);
        const bytes = Buffer.from(await dl.arrayBuffer());
        expect(bytes.length).toBe(body.bytes);
        const file = join(out, 'admin.db');
        (await import('node:fs')).writeFileSync(file, bytes);
        taken.push({ how: 'admin', startedAt, acceptedBefore, file });
      }
    };
    const during = backups();

    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      // About 300 msg/s: the stream is still going while each backup is written.
      const pacer = setInterval(() => {
        let budget = 3;
        while (budget-- > 0 && inFlight < IN_FLIGHT && next < N) {
          const i = next++;
          inFlight++;
          publisher.publish(`park/parking/bays/${bays[i % bays.length]}`, JSON.stringify({ occupied: i % 2 === 0, ts: base + i }), { qos: 1 }, (err) => {
            inFlight--;
            if (err) return reject(err);
            pubackAt[i] = Date.now();
            if (++acked === N) {
              clearInterval(pacer);
              resolve();
            }
          });
        }
      }, 10);
    });
    await during;
    await publisher.endAsync();
    expect(taken.map((t) => t.how)).toEqual(['cli', 'admin']);
    // Both backups were taken mid-stream: readings were acknowledged after each began.
    for (const t of taken) expect(pubackAt.filter((p) => p > t.startedAt).length).toBeGreaterThan(100);

    // A restore into the running data folder is refused, and changes nothing.
    const refused = await ops(['restore', taken[0]!.file, '--data-dir', sys.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/ParkOps is running on .* \(pid \d+\): stop it first/);
    await sys.stop();
    sys = undefined;

    for (const t of taken) {
      const fresh = mkdtempSync(join(tmpdir(), `parkops-restored-${t.how}-`));
      dirs.push(fresh);
      const r = await ops(['restore', t.file, '--data-dir', fresh]);
      expect(r.out).toMatch(/^restored /);
      expect(r.code).toBe(0);
      // ParkOps starts on the restored folder (its migrations find nothing to do), then stops.
      const again = await startParkOps({ dataDir: fresh, env: { PARKOPS_NODE_RED: 'false', MQTT_CLIENT_ID: `parkops-restored-${broker}-${t.how}` } });
      restored.push(again);
      const health = (await (await fetch(`${again.baseUrl}/api/health`)).json()) as { status: string };
      expect(health.status).toBe('ok');
      await again.stop();
      restored.pop();

      const db = new Database(join(fresh, 'parkops.db'), { readonly: true });
      let have: Set<number>;
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        have = new Set((db.prepare('SELECT ts FROM bay_readings WHERE ts >= ? AND ts < ?').pluck().all(base, base + N) as number[]).map((ts) => ts - base));
      } finally {
        db.close();
      }
      const ackedBefore = pubackAt.map((p, i) => [p, i] as const).filter(([p]) => p < t.startedAt).map(([, i]) => i);
      if (broker === 'embedded') {
        const missing = ackedBefore.filter((i) => !have.has(i));
        expect({ how: t.how, ackedBefore: ackedBefore.length, missing }).toEqual({ how: t.how, ackedBefore: ackedBefore.length, missing: [] });
      } else {
        expect(t.acceptedBefore).toBeGreaterThan(0);
        expect(have.size).toBeGreaterThanOrEqual(t.acceptedBefore);
      }
      // And it is a snapshot from the middle: not everything of the stream.
      expect(have.size).toBeLessThan(N);
      console.log(`backup via ${t.how} through ${broker}: ${ackedBefore.length} acknowledged to the device before it began, ${t.acceptedBefore} accepted by ParkOps, ${have.size} in the backup`);
    }
    // The replaced-database rule: a fresh folder had none, so nothing was kept aside there.
    expect(readdirSync(dirs[1]!).some((f) => f.includes('.replaced-'))).toBe(false);
  });
});
