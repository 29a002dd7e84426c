/**
 * KNOWN BUG, kept visible (issue 10 finding): with the default MQTT_CONNECTIONS (a `$share` group of
 * several connections), a graceful restart of Mosquitto 2.0.11 with persistence on loses readings the
 * broker had acknowledged. Mosquitto restores the ingest's shared subscription from its persistence
 * file in a state that delivers nothing; the ingest's SUBSCRIBE on reconnect is then a no-op, and every
 * reading published from the restart until the ingest process itself restarts is acknowledged to the
 * device and dropped. One plain (non-shared) subscription, MQTT_CONNECTIONS=1, loses nothing
 * (chaos.test.ts runs that way). UNSUBSCRIBE + SUBSCRIBE on reconnect only narrows the loss to the
 * reconnect window (measured: 268 of 358 delivered).
 *
 * `it.fails`: this passes while the loss happens. When the bug is fixed (MQTT_CONNECTIONS defaulting
 * to 1 with Mosquitto, or a Mosquitto that restores shared subscriptions), it turns red: then make it
 * a plain `it` so it guards the fix.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadSite } from '../../ingest/src/site/index.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { compareStored, numberedStream, ranges, sleep, startProjectMosquitto, storedBayIndexes, type ProjectMosquitto } from './support.ts';
import { eventually } from '../support/mqtt.ts';

const TOTAL = 2_000;
const site = loadSite();

describe('a graceful Mosquitto restart with the default MQTT_CONNECTIONS ($share group)', () => {
  let mosq: ProjectMosquitto | undefined;
  let sys: ParkOpsProcess | undefined;
  afterAll(async () => {
    await sys?.stop();
    await mosq?.stop();
  });

  it.fails('loses no acknowledged reading (known to fail on Mosquitto 2.0.11: see the file comment)', async () => {
    mosq = await startProjectMosquitto();
    sys = await startParkOps({ env: { MQTT_URL: mosq.urlFor('parkops-ingest'), PARKOPS_NODE_RED: 'false' } });
    const base = Date.now() - 7_200_000;
    const stream = await numberedStream({
      url: mosq.urlFor('parking-devices'),
      clientId: 'shared-sub-publisher',
      total: TOTAL,
      rate: 400,
      message: (i) => ({ topic: `park/parking/bays/${site.bays[i % site.bays.length]!.id}`, payload: JSON.stringify({ occupied: i % 2 === 0, ts: base + i }) }),
    });
    while (stream.sent() < TOTAL / 4) await sleep(20);
    await mosq.broker.restart();
    await stream.done;
    await stream.close();
    await eventually(() => storedBayIndexes(sys!.dataDir, base, TOTAL).size >= TOTAL, 5_000, 'all readings stored').catch(() => undefined);
    const { missing, duplicated } = compareStored(stream.acked, storedBayIndexes(sys.dataDir, base, TOTAL));
    console.log(`shared subscription through a Mosquitto restart: ${stream.acked.size} acknowledged, ${missing.length} missing (${ranges(missing, 5)})`);
    expect({ missing: missing.length, duplicated: duplicated.length }).toEqual({ missing: 0, duplicated: 0 });
  });
});
