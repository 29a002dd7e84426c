/**
 * Background load for the benchmarks: publishes the site stream at a steady rate (QoS 1) until killed.
 * Usage: tsx load-publisher.ts <url> <msgs per second>
 */
import mqtt from 'mqtt';
import { loadSite } from '@parkops/contract/site/index.ts';
import { siteStream } from './stream.ts';

const [url = '', rateArg = '1000'] = process.argv.slice(2);
const rate = Number(rateArg);
const site = loadSite();
const client = mqtt.connect(url, { protocolVersion: 4, clientId: `bench-load-${process.pid}`, clean: true });
await new Promise((r) => client.once('connect', r));
const batch = siteStream(site, 600_000, { startTs: Date.now() - 3_600_000 - 700_000 });
let i = 0;
let inFlight = 0;
const tickMs = 10;
const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
let sent = 0;
const started = Date.now();
setInterval(() => {
  // Catch up to the schedule, but never more than 2,000 unacknowledged (16-bit message ids).
  const due = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
  for (let k = 0; k < Math.min(due, perTick * 5) && inFlight < 2000; k++) {
    const m = batch[i++ % batch.length]!;
    inFlight++;
    sent++;
    client.publish(m.topic, m.payload, { qos: 1 }, () => inFlight--);
  }
}, tickMs);
setInterval(() => process.stdout.write(`sent ${sent}\n`), 1000);
