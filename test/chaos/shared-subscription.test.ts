/**
 * Found in the reliability work: a graceful restart of Mosquitto 2.0.11 with persistence on loses readings the broker
 * had acknowledged when the ingest reads through a `$share` group (MQTT_CONNECTIONS > 1). Mosquitto
 * restores the shared subscription from its persistence file in a state that delivers nothing; the
 * ingest's SUBSCRIBE on reconnect is then a no-op, and readings published from the restart until the
 * ingest process itself restarts are acknowledged to the device and dropped. UNSUBSCRIBE + SUBSCRIBE on
 * reconnect only narrowed the loss (268 of 358 delivered).
 *
 * So MQTT_CONNECTIONS defaults to 1, a plain persistent subscription, which loses nothing: the first
 * test guards that default. The second keeps the broker behaviour visible as `it.fails` for whoever
 * raises MQTT_CONNECTIONS: it turns red on a Mosquitto that restores shared subscriptions, and then the
 * default may go up again.
 */
import { describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { startParkOps } from '../harness/system.ts';
import { compareStored, numberedStream, ranges, sleep, startProjectMosquitto, storedBayIndexes } from './support.ts';
import { eventually } from '../support/mqtt.ts';

const TOTAL = 2_000;
const site = loadSite();

async function restartDuringStream(env: Record<string, string>, label: string): Promise<{ missing: number; duplicated: number }> {
  const mosq = await startProjectMosquitto();
  const sys = await startParkOps({ env: { MQTT_URL: mosq.urlFor('parkops-ingest'), PARKOPS_NODE_RED: 'false', ...env } });
  try {
    const base = Date.now() - 7_200_000;
    const stream = await numberedStream({
      url: mosq.urlFor('parking-devices'),
      clientId: `shared-sub-publisher-${label}`,
      total: TOTAL,
      rate: 400,
      message: (i) => ({ topic: `park/parking/bays/${site.bays[i % site.bays.length]!.id}`, payload: JSON.stringify({ occupied: i % 2 === 0, ts: base + i }) }),
    });
    while (stream.sent() < TOTAL / 4) await sleep(20);
    await mosq.broker.restart();
    await stream.done;
    await stream.close();
    await eventually(() => storedBayIndexes(sys.dataDir, base, TOTAL).size >= TOTAL, 10_000, 'all readings stored').catch(() => undefined);
    const { missing, duplicated } = compareStored(stream.acked, storedBayIndexes(sys.dataDir, base, TOTAL));
    console.log(`${label} through a Mosquitto restart: ${stream.acked.size} acknowledged, ${missing.length} missing (${ranges(missing, 5)})`);
    return { missing: missing.length, duplicated: duplicated.length };
  } finally {
    await sys.stop();
    await mosq.stop();
  }
}

describe('a graceful Mosquitto restart in the middle of a stream', () => {
  it('loses no acknowledged reading with the default single subscription', async () => {
    expect(await restartDuringStream({}, 'default (MQTT_CONNECTIONS=1)')).toEqual({ missing: 0, duplicated: 0 });
  });

  it.fails('loses no acknowledged reading through a $share group of 4 (fails on Mosquitto 2.0.11: see the file comment)', async () => {
    expect(await restartDuringStream({ MQTT_CONNECTIONS: '4' }, '$share group of 4')).toEqual({ missing: 0, duplicated: 0 });
  });
});
