/**
 * Several processes on PostgreSQL (docs/scale-out.md):
 *   (a) ingest rate of ParkOps on PostgreSQL against ParkOps on SQLite, in the same run: the same
 *       queued QoS 1 site stream through Mosquitto, drained by one process (ack after durable commit);
 *   (b) failover: three processes on one database, the leader SIGKILLed five times; time from the kill
 *       until another process answers `"role": "leader"` on /api/health (median and worst).
 * PostgreSQL 15 and Mosquitto are the harness's (fresh cluster, fsync on, loopback).
 */
import { startMosquitto, type MosquittoServer } from '../test/harness/mosquitto.ts';
import { startPostgres, type PostgresServer } from '../test/harness/postgres.ts';
import { startParkOps, type ParkOpsProcess } from '../test/harness/system.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { publishAll } from './lib/publish.ts';
import { siteStream } from './lib/stream.ts';

const BROKER_SETTINGS = 'max_inflight_messages 100\nmax_queued_messages 500000\nmax_queued_bytes 0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acceptedCount(baseUrl: string): Promise<number> {
  const m = await (await fetch(`${baseUrl}/metrics`)).text();
  return [...m.matchAll(/^parkops_messages_accepted_total\{kind="\w+"\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
}

export interface PgBenchResult {
  messages: number;
  sqliteRate: number;
  pgRate: number;
  failoversMs: number[];
}

/** Drains `n` queued messages through one ParkOps process; rate = n / (first to last accepted). */
async function drain(mosq: MosquittoServer, n: number, env: Record<string, string>, startTs: number): Promise<number> {
  const sys = await startParkOps({ env: { MQTT_URL: mosq.url, PARKOPS_NODE_RED: 'false', ...env } });
  try {
    // The first start makes the persistent session: on PostgreSQL /api/health answers before the
    // process won the lease and connected, so wait for the broker connection.
    for (;;) {
      const h = (await (await fetch(`${sys.baseUrl}/api/health`)).json()) as { mqtt: string };
      if (h.mqtt === 'connected') break;
      await sleep(100);
    }
    await sleep(500);
    // Stop, queue the stream, start and time the drain.
    sys.child.kill('SIGTERM');
    while (sys.child.exitCode === null && sys.child.signalCode === null) await sleep(20);
    await publishAll(mosq.url, siteStream(loadSite(), n, { startTs }));
    let tFirst = 0;
    const restarting = sys.restart();
    for (;;) {
      const count = await acceptedCount(sys.baseUrl).catch(() => 0);
      if (count > 0 && tFirst === 0) tFirst = Date.now();
      if (count >= n) break;
      await sleep(5);
    }
    const ms = Date.now() - tFirst;
    await restarting;
    return Math.round(n / (ms / 1000));
  } finally {
    await sys.stop();
  }
}

async function roleOf(p: ParkOpsProcess): Promise<string | undefined> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
  try {
    return ((await (await fetch(`${p.baseUrl}/api/health`, { signal: AbortSignal.timeout(1000) })).json()) as { role?: string }).role;
  } catch {
    return undefined;
  }
}

async function failovers(mosq: MosquittoServer, pg: PostgresServer, kills: number, log: (s: string) => void): Promise<number[]> {
  const env = { MQTT_URL: mosq.url, PARKOPS_NODE_RED: 'false', PARKOPS_DATABASE_URL: pg.url, MQTT_CLIENT_ID: 'bench-failover' };
  const procs = [await startParkOps({ env }), await startParkOps({ env }), await startParkOps({ env })];
  const times: number[] = [];
  try {
    const leader = async (except?: ParkOpsProcess): Promise<ParkOpsProcess> => {
      for (;;) {
        for (const p of procs) if (p !== except && (await roleOf(p)) === 'leader') return p;
        await sleep(50);
      }
    };
    let current = await leader();
    for (let k = 0; k < kills; k++) {
      await sleep(2000);
      const t0 = Date.now();
      await current.kill();
      const killed = current;
      current = await leader(killed);
      times.push(Date.now() - t0);
      log(`  failover ${k + 1}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await killed.restart();
    }
    return times;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

export async function runPgBench(opts: { quick: boolean; log: (s: string) => void }): Promise<PgBenchResult> {
  const n = opts.quick ? 5_000 : 40_000;
  const mosq = await startMosquitto({ extraConfig: BROKER_SETTINGS });
  const pg = await startPostgres();
  try {
    // The same stream for both (they are separate databases), stamped in the last hours: nothing in the future.
    const startTs = Date.now() - 12 * 3_600_000;
    const sqliteRate = await drain(mosq, n, { MQTT_CLIENT_ID: 'bench-pg-sqlite' }, startTs);
    opts.log(`  SQLite: ${sqliteRate} msg/s`);
    const pgRate = await drain(mosq, n, { MQTT_CLIENT_ID: 'bench-pg-pg', PARKOPS_DATABASE_URL: pg.url }, startTs);
    opts.log(`  PostgreSQL: ${pgRate} msg/s`);
    const failoversMs = await failovers(mosq, pg, 5, opts.log);
    return { messages: n, sqliteRate, pgRate, failoversMs };
  } finally {
    await pg.stop();
    await mosq.stop();
  }
}
