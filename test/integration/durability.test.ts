/**
 * Durability: a numbered stream of QoS 1 readings, the ingest process SIGKILLed twice
 * mid-stream and restarted. Afterwards every reading is stored exactly once, through Mosquitto and
 * through the embedded broker (where the broker dies with the process, and devices resend what was
 * never acknowledged).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { connect, eventually } from '../support/mqtt.ts';

const N = 4000;
const IN_FLIGHT = 200;

describe.each(['mosquitto', 'embedded'] as const)('durability through %s', (broker) => {
  let mosquitto: MosquittoServer | undefined;
  let sys: ParkOpsProcess | undefined;
  afterEach(async () => {
    await sys?.stop();
    await mosquitto?.stop();
  });

  it(`stores all ${N} acknowledged readings exactly once across two SIGKILLs`, async () => {
    if (broker === 'mosquitto') mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { PARKOPS_NODE_RED: 'false', ...(mosquitto ? { MQTT_URL: mosquitto.url } : {}) } });
    const site = (await import('@parkops/contract/site/index.ts')).loadSite();
    const bays = site.bays.map((b) => b.id);
    const publisher = await connect(sys.mqttUrl, { clientId: `durability-pub-${broker}`, clean: false, reconnectPeriod: 100 });
    const base = Date.now() - 3_600_000;
    let acked = 0;
    let next = 0;
    const kills = [Math.floor(N / 3), Math.floor((2 * N) / 3)];
    const injected: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      // Paced at about 500 msg/s so the stream is still running at both kills, whichever broker
      // (Mosquitto keeps accepting while ingest is down; the embedded broker goes down with it).
      const pump = (): void => {
        let budget = 5;
        while (budget-- > 0 && inFlight < IN_FLIGHT && next < N) {
          const i = next++;
          inFlight++;
          publisher.publish(`park/parking/bays/${bays[i % bays.length]}`, JSON.stringify({ occupied: i % 2 === 0, ts: base + i }), { qos: 1 }, (err) => {
            inFlight--;
            if (err) return reject(err);
            acked++;
            if (acked === N) clearInterval(pacer);
            finish();
          });
        }
      };
      const pacer = setInterval(pump, 10);
      // Done when every reading is acknowledged and both kills happened (a slow restart on a loaded
      // machine can let the stream end first; the second kill then still comes before the check).
      const finish = (): void => {
        if (acked === N && kills.length === 0 && !busy) resolve();
      };
      let busy = false;
      const chaos = setInterval(() => {
        if (busy || kills.length === 0 || acked < kills[0]!) return;
        kills.shift();
        busy = true;
        injected.push(`SIGKILL at ${acked} acked`);
        sys!
          .kill()
          .then(() => sys!.restart())
          .then(() => {
            injected.push('restarted');
            busy = false;
            if (kills.length === 0) clearInterval(chaos);
            finish();
          }, reject);
      }, 5);
    });
    await publisher.endAsync();
    expect(injected.filter((s) => s.startsWith('SIGKILL'))).toHaveLength(2);

    const stored = (): Map<number, number> => {
      const db = new Database(join(sys!.dataDir, 'parkops.db'), { readonly: true });
      try {
        const rows = db.prepare('SELECT ts, count(*) AS n FROM bay_readings WHERE ts >= ? AND ts < ? GROUP BY ts').all(base, base + N) as { ts: number; n: number }[];
        return new Map(rows.map((r) => [r.ts - base, r.n]));
      } finally {
        db.close();
      }
    };
    // Through Mosquitto, readings queued while ingest was down arrive after its restart.
    await eventually(() => stored().size === N, 60_000, `all ${N} readings stored`);
    const byIndex = stored();
    const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !byIndex.has(i));
    const duplicated = [...byIndex].filter(([, n]) => n !== 1).map(([i]) => i);
    expect({ missing, duplicated }).toEqual({ missing: [], duplicated: [] });
    console.log(`durability through ${broker}: ${injected.join(', ')}; ${byIndex.size} of ${N} stored once`);
  });
});
