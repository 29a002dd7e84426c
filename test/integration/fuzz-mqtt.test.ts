/**
 * Live MQTT fuzz: random and malformed messages on random topics under the prefix, on
 * topics outside it and on ParkOps' own topics, interleaved with valid bay readings, all at QoS 1
 * through a real Mosquitto into the real ingest process. Afterwards:
 *   - the process is alive and healthy;
 *   - every valid reading is stored (each has its own ts, so the count is exact);
 *   - /metrics counts exactly the bad messages as rejected, per reason as the decoder predicts them;
 *   - the resident memory did not grow without bound (sampled from /metrics while it ran).
 *
 * CI: 10,000 bad + 1,000 good. FUZZ_MQTT_BAD / FUZZ_MQTT_GOOD set the counts (`npm run test:fuzz`
 * runs 100,000 + 10,000); FUZZ_SEED replays a run (the seed is printed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, REJECTION_CODES, Topics, type RejectionCode } from '@parkops/contract/index.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { connect, eventually } from '../support/mqtt.ts';
import { metricSum, prng, scrapeMetrics, storedBayIndexes } from '../chaos/support.ts';

const BAD = Number(process.env.FUZZ_MQTT_BAD ?? 10_000);
const GOOD = Number(process.env.FUZZ_MQTT_GOOD ?? 1_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const IN_FLIGHT = 500;

const site = loadSite();
const topics = new Topics('park');
const room = site.rooms[0]!;
const deviceTopics = [
  topics.bay(site.bays[0]!.id),
  topics.bay(site.bays[site.bays.length - 1]!.id),
  topics.gate(site.gates[0]!.id),
  topics.level(room.id, room.levels[0]!.id),
  topics.pump(room.id, room.pumps[0]!.id),
  topics.venue(site.venues[0]!.id),
  topics.deviceStatus(site.bays[1]!.id),
];

type Msg = { topic: string; payload: Buffer; kind: 'good' | 'bad' | 'outside' | 'own'; index?: number };

/** A generator of junk, all from one seeded PRNG so a failing run can be replayed. */
function junk(rnd: () => number) {
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chars = 'abcXYZ019_-./:{}[]",\\ \t\n\u00e9\u6d4e\u5b81\ud83d\ude97\u0000\u200b';
  const str = (max: number): string => Array.from({ length: int(max) }, () => pick([...chars])).join('');
  // Mosquitto disconnects a client that publishes to a topic with a wildcard, U+0000 or a control
  // character ([MQTT-4.7.3-2], mosquitto_validate_utf8): those never reach ParkOps, so leave them out.
  // Control characters are what this strips from a topic (MQTT forbids U+0000; the rest are unprintable).
  // eslint-disable-next-line no-control-regex
  const topicStr = (max: number): string => str(max).replace(/[#+\u0000-\u001f\u007f-\u009f]/g, '');
  const idChars = 'ABCDEFabcdef0123456789_-';
  const id = (): string =>
    pick([() => Array.from({ length: 1 + int(64) }, () => pick([...idChars])).join(''), () => 'x'.repeat(65 + int(100)), () => topicStr(20).replace(/\//g, '') || 'q', () => 'Z-999'])();
  const value = (depth = 0): unknown =>
    pick<() => unknown>([
      () => rnd() < 0.5,
      () => (rnd() - 0.5) * 10 ** int(20),
      () => pick([0, -1, 1e308, -1e308, 5e-324, 10001, -101, 1.5, 2 ** 53 + 1]),
      () => pick(['NaN', 'Infinity', '-Infinity', 'true', 'entry', 'online', '', '2026-07-21T08:00:00', 'null']),
      () => str(40),
      () => null,
      () => (depth < 3 ? Array.from({ length: int(4) }, () => value(depth + 1)) : []),
      () => (depth < 3 ? Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['occupied', 'mm', 'ts', 'in', 'out', 'running', 'event', 'pass', 'battery', 'amps', str(8)]), value(depth + 1)])) : {}),
    ])();
  const shapes: Array<() => { topic: string; payload: Buffer }> = [
    // arbitrary bytes on a real device topic
    () => ({ topic: pick(deviceTopics), payload: Buffer.from(Array.from({ length: int(300) }, () => int(256))) }),
    // JSON of any shape on a real device topic
    () => ({ topic: pick(deviceTopics), payload: Buffer.from(JSON.stringify(value())) }),
    // the right fields with the wrong types or out of range
    () => ({ topic: pick(deviceTopics), payload: Buffer.from(JSON.stringify({ occupied: value(), mm: pick([10_001, -101, '5', null]), running: 'yes', in: -1, out: 1.5, event: 'sideways', pass: '', battery: 101, amps: -1 })) }),
    // raw JSON text that overflows or is not JSON at all
    () => ({ topic: pick(deviceTopics), payload: Buffer.from(pick(['{"mm":1e999}', '{"occupied":tru', '{"in":NaN,"out":0}', '{"mm":0x10}', "{'mm':1}", '', ' ', 'null', '[]', '"online"', '{"mm":1,}', '\u0000']) ) }),
    // unknown ids and random topic levels under the prefix
    () => ({ topic: pick([topics.bay(id()), topics.gate(id()), topics.level(id(), id()), topics.pump(room.id, id()), topics.venue(id()), topics.deviceStatus(id())]), payload: Buffer.from('{"occupied":true,"mm":1,"running":true,"in":1,"out":0}') }),
    () => ({ topic: ['park', ...Array.from({ length: 1 + int(6) }, () => topicStr(12))].join('/'), payload: Buffer.from(str(50)) }),
    // over 4 KiB
    () => ({ topic: pick(deviceTopics), payload: Buffer.from(JSON.stringify({ occupied: true, mm: 1, pad: 'p'.repeat(4_100 + int(4_000)) })) }),
    // far in the future, and times without a zone
    () => ({ topic: topics.level(room.id, room.levels[1]!.id), payload: Buffer.from(JSON.stringify({ mm: 10, ts: pick([4_102_444_800_000, '2100-01-01T00:00:00Z', '2026-07-21T08:00:00', 9e15, -5, 1.5]) })) }),
    // status words that are not online/offline
    () => ({ topic: topics.deviceStatus(site.bays[2]!.id), payload: Buffer.from(pick(['maybe', 'ONLINE', '"offline', '1', str(10)])) }),
    // deep nesting
    () => ({ topic: pick(deviceTopics), payload: Buffer.from('['.repeat(1 + int(3_000)) + ']'.repeat(int(3_000))) }),
  ];
  const outside: Array<() => string> = [() => `other/${topicStr(20)}`, () => `parkx/parking/bays/${site.bays[0]!.id}`, () => `Park/parking/bays/${site.bays[0]!.id}`];
  const own: Array<() => string> = [() => topics.alert(`al-${int(1e6)}`), () => `park/ops/${topicStr(8).replace(/\//g, '') || 'x'}`];
  return { int, pick, shapes, outside, own };
}

describe('live MQTT fuzz against the real ingest on Mosquitto', () => {
  let mosquitto: MosquittoServer;
  let sys: ParkOpsProcess;
  beforeAll(async () => {
    mosquitto = await startMosquitto();
    sys = await startParkOps({ env: { MQTT_URL: mosquitto.url, PARKOPS_NODE_RED: 'false' } });
  });
  afterAll(async () => {
    await sys?.stop();
    await mosquitto?.stop();
  });

  it(`survives ${BAD} bad messages among ${GOOD} good ones, counts every rejection and stores every reading (seed ${SEED})`, { timeout: Math.max(120_000, (BAD + GOOD) * 20) }, async () => {
    const rnd = prng(SEED);
    const j = junk(rnd);
    const base = Date.now() - 12 * 3_600_000;

    // The plan: BAD junk messages (classified by the decoder, so the per-reason counts are known)
    // and GOOD bay readings at random positions, plus topics ingest must not count at all.
    const expected = new Map<RejectionCode, number>();
    const plan: Msg[] = [];
    let good = 0;
    let bad = 0;
    const planAt = Date.now();
    while (bad < BAD || good < GOOD) {
      const r = rnd();
      if (good < GOOD && (bad >= BAD || r < GOOD / (GOOD + BAD))) {
        plan.push({ kind: 'good', index: good, topic: topics.bay(site.bays[good % site.bays.length]!.id), payload: Buffer.from(JSON.stringify({ occupied: good % 2 === 0, ts: base + good })) });
        good++;
      } else if (r > 0.98) {
        const outside = rnd() < 0.7;
        plan.push({ kind: outside ? 'outside' : 'own', topic: outside ? j.pick(j.outside)() : j.pick(j.own)(), payload: Buffer.from(JSON.stringify({ occupied: true })) });
      } else {
        const m = j.pick(j.shapes)();
        const d = decodeMessage(m.topic, m.payload, { topics, site, receivedAt: planAt });
        if (d.ok) continue; // junk that happens to be valid is not junk
        expected.set(d.rejection.code, (expected.get(d.rejection.code) ?? 0) + 1);
        plan.push({ kind: 'bad', ...m });
        bad++;
      }
    }
    const counts = { good: 0, bad: 0, outside: 0, own: 0 };
    for (const m of plan) counts[m.kind]++;
    expect(counts.bad).toBe(BAD);

    const before = await scrapeMetrics(sys.baseUrl);
    const rss: number[] = [before.get('process_resident_memory_bytes')!];
    const client = await connect(sys.mqttUrl, { clientId: 'fuzz-mqtt', clean: true });
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let inFlight = 0;
      let acked = 0;
      let sampling = false;
      const pump = (): void => {
        while (inFlight < IN_FLIGHT && next < plan.length) {
          const m = plan[next++]!;
          inFlight++;
          client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
            inFlight--;
            if (err) return reject(new Error(`publish to ${JSON.stringify(m.topic.slice(0, 80))} failed: ${err.message}`));
            acked++;
            if (acked % Math.ceil(plan.length / 20) === 0 && !sampling) {
              sampling = true;
              scrapeMetrics(sys.baseUrl).then((mm) => {
                rss.push(mm.get('process_resident_memory_bytes')!);
                sampling = false;
              }, reject);
            }
            if (acked === plan.length) resolve();
            else pump();
          });
        }
      };
      // A publisher the broker disconnected (clean session) loses its in-flight callbacks: fail clearly.
      let lastAcked = -1;
      const stall = setInterval(() => {
        if (acked === plan.length) return clearInterval(stall);
        if (acked === lastAcked) {
          clearInterval(stall);
          reject(new Error(`publishing stalled at ${acked} of ${plan.length} acknowledged (connected: ${client.connected}); last sent ${JSON.stringify(plan[next - 1]?.topic.slice(0, 100))}`));
        }
        lastAcked = acked;
      }, 15_000);
      pump();
    });
    await client.endAsync();

    // Every message under the prefix is counted as received once ingest has handled it.
    const receivedBefore = metricSum(before, 'parkops_messages_received_total');
    await eventually(
      async () => metricSum(await scrapeMetrics(sys.baseUrl), 'parkops_messages_received_total') - receivedBefore >= counts.good + counts.bad,
      60_000,
      `ingest to receive ${counts.good + counts.bad} messages`,
    );
    await eventually(() => storedBayIndexes(sys.dataDir, base, GOOD).size >= GOOD, 30_000, `all ${GOOD} valid readings stored`).catch(() => undefined);
    const after = await scrapeMetrics(sys.baseUrl);
    rss.push(after.get('process_resident_memory_bytes')!);

    // Alive and healthy: the same process (no restart) answers.
    expect(sys.child.exitCode).toBeNull();
    expect(sys.child.signalCode).toBeNull();
    const health = await fetch(`${sys.baseUrl}/api/health`);
    expect(health.status, await health.text()).toBe(200);

    const stored = storedBayIndexes(sys.dataDir, base, GOOD);
    const missing = Array.from({ length: GOOD }, (_, i) => i).filter((i) => stored.get(i) !== 1);
    expect(missing.slice(0, 20), `valid readings not stored exactly once (seed ${SEED})`).toEqual([]);

    const received = metricSum(after, 'parkops_messages_received_total') - receivedBefore;
    const rejected = metricSum(after, 'parkops_messages_rejected_total') - metricSum(before, 'parkops_messages_rejected_total');
    const byReason = Object.fromEntries(
      REJECTION_CODES.map((code) => [code, (after.get(`parkops_messages_rejected_total{reason="${code}"}`) ?? 0) - (before.get(`parkops_messages_rejected_total{reason="${code}"}`) ?? 0)]),
    );
    const expectedByReason = Object.fromEntries(REJECTION_CODES.map((code) => [code, expected.get(code) ?? 0]));
    const mb = (b: number): number => Math.round(b / 1_048_576);
    console.log(
      `fuzz-mqtt seed ${SEED}: sent ${counts.bad} bad, ${counts.good} good, ${counts.outside} outside the prefix, ${counts.own} on ParkOps' own topics; ` +
        `received ${received}, rejected ${rejected}, stored ${stored.size}; RSS MiB ${rss.map(mb).join(' ')}\nrejected by reason: ${JSON.stringify(byReason)}`,
    );
    expect(received).toBe(counts.good + counts.bad);
    expect(rejected).toBe(counts.bad);
    expect(byReason).toEqual(expectedByReason);

    // Bounded memory: the peak of the second half of the run is not far above the first half's.
    // A leak of even 1 KiB per message would add about 100 MiB over the full 110,000.
    const half = Math.floor(rss.length / 2);
    const firstPeak = Math.max(...rss.slice(0, half));
    const secondPeak = Math.max(...rss.slice(half));
    expect(mb(secondPeak), `RSS grew from ${mb(firstPeak)} MiB to ${mb(secondPeak)} MiB`).toBeLessThanOrEqual(mb(firstPeak * 1.5 + 64 * 1_048_576));
  });
});
