/**
 * `node --import tsx bench/uplinks.ts [n]`: the cost of the LoRaWAN path measured against its
 * baseline in the same run. The same n level readings go through the ingest (decode, SQLite commit,
 * live state) once as section-1 JSON (`park/flood/b1-power/levels/L1`) and once as ChirpStack v4
 * uplinks of a bound Milesight EM310-UDL (parse, binding, codec, then the same decode and commit, plus
 * the device telemetry write). In-process, one message per transaction (as one MQTT connection
 * delivers them), no broker: the ratio is what the translation adds to a message's ingest cost.
 * Prints; not part of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../ingest/src/bus.ts';
import { Topics, UplinkTopics } from '@parkops/contract/topics.ts';
import { DeviceRegistry } from '../ingest/src/devices/registry.ts';
import { Ingest } from '../ingest/src/ingest.ts';
import { LiveState, SqliteLiveRepository } from '../ingest/src/live-state.ts';
import { SqliteTransactions } from '../ingest/src/db/tx.ts';
import { createLogger } from '../ingest/src/log.ts';
import { Metrics } from '../ingest/src/metrics.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { openDatabase } from '../ingest/src/store/db.ts';
import { SqliteDevicesRepository } from '../ingest/src/devices/repository.ts';
import { SqliteStore } from '../ingest/src/store/sqlite-store.ts';

const n = Number(process.argv[2] ?? 20_000);
const site = loadSite();
const log = createLogger('silent');
const t0 = Date.now() - n * 1000 - 60_000;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'parkops-bench-uplinks-'));
  const db = openDatabase(dir);
  const store = new SqliteStore(db, site);
  await store.start();
  const live = new LiveState(new SqliteLiveRepository(db), site);
  await live.load();
  const topics = new Topics();
  const ingest = new Ingest({ transactions: new SqliteTransactions(db), store, live, bus: new EventBus(log), topics, site, metrics: new Metrics(), log });
  const registry = new DeviceRegistry({ repository: new SqliteDevicesRepository(db), site, topics, uplinkTopics: new UplinkTopics({ chirpstack: 'application/+/device/+/event/up', tts: null }), live, log, audit: () => undefined });
  await registry.start();
  await registry.setBinding('bench', undefined, 'L1', { devEui: '24E124710B423527', codec: 'milesight-em310-udl', params: { mountMm: 2500 } });
  ingest.translator = registry;
  return { ingest, done: async () => { await store.stop(); db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function uplink(i: number): Uint8Array {
  const distance = 2000 + (i % 300);
  const data = Buffer.from([0x01, 0x75, 0x5c, 0x03, 0x82, distance & 0xff, distance >> 8, 0x04, 0x00, 0x00]).toString('base64');
  // ChirpStack's documented `up` event, with this reading's time, FPort, counter and payload.
  return Buffer.from(JSON.stringify({
    deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
    time: new Date(t0 + i * 1000).toISOString(),
    deviceInfo: { tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242', tenantName: 'ChirpStack', applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97', applicationName: 'Test application', deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad', deviceProfileName: 'EM310-UDL', deviceName: 'L1', devEui: '24e124710b423527', tags: { key: 'value' } },
    devAddr: '00189440',
    dr: 1,
    fCnt: i + 1,
    fPort: 85,
    data,
    rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5, context: 'E3OWOQ==', metadata: { region_name: 'eu868', region_common_name: 'EU868' } }],
    txInfo: { frequency: 867100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 11, codeRate: 'CR_4_5' } } },
  }));
}

async function measure(name: string, make: (i: number) => [string, Uint8Array]): Promise<number> {
  const { ingest, done } = await setup();
  const msgs = Array.from({ length: n }, (_, i) => make(i));
  const start = performance.now();
  for (const [topic, payload] of msgs) {
    const r = ingest.handle(topic, payload);
    if (r !== 'accepted') throw new Error(`${name}: ${r}`);
  }
  const ms = performance.now() - start;
  await done();
  const rate = n / (ms / 1000);
  process.stdout.write(`${name.padEnd(34)} ${Math.round(rate).toLocaleString('en-US').padStart(8)} msg/s  (${n.toLocaleString('en-US')} in ${(ms / 1000).toFixed(2)} s)\n`);
  return rate;
}

const json = await measure('section-1 JSON level readings', (i) => ['park/flood/b1-power/levels/L1', Buffer.from(`{"mm":${500 - (i % 300)},"ts":${t0 + i * 1000}}`)]);
const up = await measure('ChirpStack EM310-UDL uplinks', (i) => ['application/17c82e96-be03-4f38-aef3-f83d48582d97/device/24e124710b423527/event/up', uplink(i)]);
process.stdout.write(`uplink rate / JSON rate: ${(up / json).toFixed(2)}\n`);
