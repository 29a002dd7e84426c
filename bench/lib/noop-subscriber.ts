/**
 * Baseline (c): the limit. A no-op MQTT.js subscriber that acknowledges at once, in its own process
 * like ParkOps, with persistent sessions (clean=false, fixed ids) like ParkOps.
 *   tsx noop-subscriber.ts <url> prepare <connections>          subscribe, then disconnect (the broker queues)
 *   tsx noop-subscriber.ts <url> drain <connections> <expected>  print `done <first ms> <last ms>` (epoch)
 */
import mqtt from 'mqtt';

const [url = '', mode = 'drain', connArg = '1', expectedArg = '0'] = process.argv.slice(2);
const connections = Number(connArg);
const expected = Number(expectedArg);
const filter = connections === 1 ? 'park/#' : '$share/noop/park/#';
let got = 0;
let first = 0;
const clients = await Promise.all(
  Array.from({ length: connections }, async (_, i) => {
    const c = mqtt.connect(url, { protocolVersion: 4, clientId: `bench-noop-${connections}-${i}`, clean: false, reconnectPeriod: 0 });
    c.handleMessage = (packet, done) => {
      if (packet.cmd === 'publish' && packet.topic.startsWith('park/') && !packet.topic.startsWith('park/ops')) {
        if (got === 0) first = Date.now();
        if (++got === expected) {
          process.stdout.write(`done ${first} ${Date.now()}\n`);
          setTimeout(() => process.exit(0), 50);
        }
      }
      done();
    };
    await new Promise((r) => c.once('connect', r));
    if (mode === 'prepare') await c.subscribeAsync(filter, { qos: 1 });
    return c;
  }),
);
if (mode === 'prepare') {
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write('prepared\n');
  process.exit(0);
}
