/**
 * Shared pieces of the chaos and live fuzz suites: a seeded PRNG, Mosquitto started with
 * the project's own mosquitto.conf (queue limits, persistence, accounts and ACL), a numbered QoS 1
 * publisher that knows exactly which readings the broker acknowledged, a data folder on a small
 * tmpfs whose disk can be filled, and readers for /metrics and the stored readings.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { connect } from '../support/mqtt.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** mulberry32: small, fast and good enough to make a fault schedule reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Mosquitto as deployed
// ---------------------------------------------------------------------------------------------

export const ACCOUNTS = {
  'parkops-ingest': 'ingest-pass-chaos1',
  'parking-devices': 'parking-pass-chaos1',
  'flood-devices': 'flood-pass-chaos1',
  'venue-devices': 'venue-pass-chaos1',
  dashboard: 'dashboard-pass-chaos1',
} as const;
export type Account = keyof typeof ACCOUNTS;

export interface ProjectMosquitto {
  broker: MosquittoServer;
  /** mqtt://user:pass@127.0.0.1:port for an account. */
  urlFor(account: Account): string;
  stop(): Promise<void>;
}

/**
 * Mosquitto with the repository's mosquitto.conf and mosquitto/acl in the deployment layout, and a
 * password file made with the real mosquitto_passwd. The harness moves the listener and persistence
 * into a temp folder and keeps everything else: max_queued_messages 500000, persistence, the ACL.
 */
export async function startProjectMosquitto(): Promise<ProjectMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'parkops-chaos-mosq-'));
  mkdirSync(join(dir, 'mosquitto'));
  copyFileSync(join(ROOT, 'mosquitto.conf'), join(dir, 'mosquitto.conf'));
  copyFileSync(join(ROOT, 'mosquitto', 'acl'), join(dir, 'mosquitto', 'acl'));
  const passwd = join(dir, 'mosquitto', 'passwd');
  Object.entries(ACCOUNTS).forEach(([user, pass], i) => execFileSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, user, pass]));
  const broker = await startMosquitto({ configFile: join(dir, 'mosquitto.conf') });
  return {
    broker,
    urlFor: (account) => `mqtt://${account}:${ACCOUNTS[account]}@127.0.0.1:${broker.port}`,
    async stop() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A numbered QoS 1 stream
// ---------------------------------------------------------------------------------------------

export interface NumberedStream {
  /** Indexes the broker acknowledged (PUBACK received), each once. */
  readonly acked: Set<number>;
  /** Indexes handed to MQTT.js so far. */
  sent(): number;
  /** Resolves once every index 0..total-1 was acknowledged. */
  done: Promise<void>;
  /** Pauses or resumes sending new indexes (in-flight ones still complete). */
  paused: boolean;
  client: MqttClient;
  close(): Promise<void>;
}

export interface StreamOptions {
  url: string;
  clientId: string;
  total: number;
  /** Messages per second, roughly (paced in 10 ms ticks). */
  rate: number;
  /** Topic and payload of index i. Each index must map to a distinct stored reading. */
  message(i: number): { topic: string; payload: string };
  /** Cap on unacknowledged publishes: MQTT message ids are 16-bit (ENVIRONMENT.md). */
  maxInFlight?: number;
}

/**
 * Publishes index 0..total-1 at QoS 1 from a persistent session (clean=false, fixed id), so MQTT.js
 * resends unacknowledged publishes after a broker restart. A publish callback without error is the
 * broker's PUBACK: from then on the broker, not the publisher, is responsible for the reading.
 */
export async function numberedStream(opts: StreamOptions): Promise<NumberedStream> {
  const client = await connect(opts.url, { clientId: opts.clientId, clean: false, reconnectPeriod: 100 });
  const acked = new Set<number>();
  const maxInFlight = opts.maxInFlight ?? 500;
  let next = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  const perTick = Math.max(1, Math.round(opts.rate / 100));
  let resolveDone!: () => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const stream: NumberedStream = {
    acked,
    sent: () => next,
    done,
    paused: false,
    client,
    async close() {
      clearInterval(pacer);
      await client.endAsync(true);
    },
  };
  const pacer = setInterval(() => {
    if (failure || stream.paused) return;
    for (let budget = perTick; budget > 0 && inFlight < maxInFlight && next < opts.total; budget--) {
      const i = next++;
      inFlight++;
      const { topic, payload } = opts.message(i);
      client.publish(topic, payload, { qos: 1 }, (err) => {
        inFlight--;
        if (err) {
          failure = err;
          rejectDone(new Error(`publish of reading ${i} failed: ${err.message}`));
          return;
        }
        acked.add(i);
        if (acked.size === opts.total) {
          clearInterval(pacer);
          resolveDone();
        }
      });
    }
  }, 10);
  return stream;
}

/** Which of the expected indexes are missing, and which are stored more than once. */
export function compareStored(expected: Iterable<number>, stored: Map<number, number>): { missing: number[]; duplicated: Array<[number, number]> } {
  const missing: number[] = [];
  for (const i of expected) if (!stored.has(i)) missing.push(i);
  const duplicated = [...stored].filter(([, n]) => n !== 1);
  return { missing, duplicated };
}

/** `[1,2,3,7,9,10]` -> `1-3, 7, 9-10` (at most `max` runs), for failure messages that name readings. */
export function ranges(ns: number[], max = 30): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const out: string[] = [];
  for (let k = 0; k < sorted.length; ) {
    let j = k;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j === k ? `${sorted[k]}` : `${sorted[k]}-${sorted[j]}`);
    k = j + 1;
  }
  return out.length > max ? `${out.slice(0, max).join(', ')}, … (${out.length - max} more runs)` : out.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Reading what ParkOps stored and reports
// ---------------------------------------------------------------------------------------------

/**
 * Bay readings stored in SQLite with `base <= ts < base + n`, as index (ts - base) -> row count.
 * Read through a separate read-only connection while ingest runs (WAL allows it).
 */
export function storedBayIndexes(dataDir: string, base: number, n: number): Map<number, number> {
  const db = new Database(join(dataDir, 'parkops.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db.prepare('SELECT ts, count(*) AS n FROM bay_readings WHERE ts >= ? AND ts < ? GROUP BY ts').all(base, base + n) as { ts: number; n: number }[];
    return new Map(rows.map((r) => [r.ts - base, r.n]));
  } finally {
    db.close();
  }
}

/** /metrics as `name{labels}` -> value. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of every series of a metric (all label sets). */
export function metricSum(m: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) sum += v;
  return sum;
}

/**
 * Bay readings in InfluxDB (measurement parking_bay) with `base <= ts < base + n`, as index -> count.
 * InfluxDB keeps one point per series and time, so a count above 1 would need two bays at one ts.
 */
export async function influxBayIndexes(influxUrl: string, database: string, base: number, n: number): Promise<Map<number, number>> {
  const q = `SELECT "occupied" FROM "parking_bay" WHERE time >= ${base}ms AND time < ${base + n}ms`;
  const res = await fetch(`${influxUrl}/query?db=${encodeURIComponent(database)}&epoch=ms&q=${encodeURIComponent(q)}`);
  if (res.status !== 200) throw new Error(`InfluxDB /query answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: Array<[number, number]> }>; error?: string }> };
  if (body.results[0]?.error) throw new Error(`InfluxDB: ${body.results[0].error}`);
  const out = new Map<number, number>();
  for (const s of body.results[0]?.series ?? []) for (const [t] of s.values) out.set(t - base, (out.get(t - base) ?? 0) + 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// A disk that can fill up
// ---------------------------------------------------------------------------------------------

export interface SmallDisk {
  dir: string;
  /** Why the disk could not be made (then `dir` is a plain temp folder and fill() is unavailable). */
  unavailable?: string;
  /** Fills the filesystem to the last byte; returns the bytes written. */
  fill(): number;
  /** Frees what fill() took. */
  free(): void;
  /** Unmounts and removes the folder. */
  remove(): void;
}

/**
 * A tmpfs of `sizeMb` mounted on a fresh temp folder, so filling it touches nothing else on the
 * machine. Needs mount rights (root, as on this machine and in the CI container); without them
 * `unavailable` says why and the caller reports the fault as not injected.
 */
export function smallDisk(sizeMb: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'parkops-chaos-disk-'));
  const filler = join(dir, 'filler.bin');
  let mounted = false;
  let unavailable: string | undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    unavailable = `cannot mount a tmpfs (${((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim()})`;
  }
  const unmount = (): void => {
    if (!mounted) return;
    mounted = false;
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // Already gone (a lazy unmount by an earlier exit hook).
    }
  };
  process.once('exit', unmount);
  return {
    dir,
    ...(unavailable ? { unavailable } : {}),
    fill() {
      if (!mounted) throw new Error(unavailable);
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        for (let chunk = 1 << 20; chunk >= 512; chunk >>= 1) {
          const buf = Buffer.alloc(chunk, 0x5a);
          for (;;) {
            try {
              written += writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      const s = statfsSync(dir);
      if (s.bavail > 0 && s.bavail * s.bsize > 4096) throw new Error(`disk not full after filling: ${s.bavail * s.bsize} bytes left`);
      return written;
    },
    free() {
      try {
        unlinkSync(filler);
      } catch {
        // Nothing was filled.
      }
    },
    remove() {
      unmount();
      process.removeListener('exit', unmount);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
