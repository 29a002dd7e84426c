/**
 * The simulators' MQTT side against a real Mosquitto, without ParkOps: one connection per device with
 * its Last Will (the broker, not the simulator, announces a dropped-out sensor offline), the in-flight
 * cap, and the CLI's back-fill with its summary.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSite } from '@parkops/contract/site/index.ts';
import { MqttPublisher } from '../../simulators/src/publisher.ts';
import { SimulationRunner } from '../../simulators/src/runner.ts';
import { createSimulation } from '../../simulators/src/simulation.ts';
import type { SimMessage } from '../../simulators/src/types.ts';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.ts';
import { collect, eventually } from '../support/mqtt.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MIN = 60_000;

describe('simulators over MQTT', () => {
  const site = loadSite();
  let mosquitto: MosquittoServer;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  it('with one connection per device, the broker publishes a dropped sensor\'s Last Will', async () => {
    const statuses = await collect(mosquitto.url, 'park/devices/+/status');
    const startAt = Date.now() - 60 * MIN;
    const sim = createSimulation({ site, seed: 9, scenarios: 'sensor-dropout', startAt, eventsAt: startAt + MIN });
    const publisher = new MqttPublisher({ url: mosquitto.url, devices: sim.devices(), perDeviceConnections: true, maxInFlight: 100, clientIdPrefix: 'sim-test' });
    await publisher.connect();
    expect(publisher.stats().connections).toBe(sim.devices().length);
    const sent: SimMessage[] = [];
    // Past the will (about +4.5 min) and the sensor's return 30 simulated minutes after it went silent.
    const until = startAt + 40 * MIN;
    await new SimulationRunner({ sim, pace: 'max', until, sink: (m) => (sent.push(m), publisher.publish(m)) }).run();
    await publisher.flush();

    const will = sent.find((m) => m.will === true);
    expect(will?.device).toBe('L2');
    const offline = await statuses.waitFor((m) => m.topic === 'park/devices/L2/status' && m.payload === 'offline', 15_000);
    expect(offline.topic).toBe('park/devices/L2/status');
    // It reconnects (its will armed again) and says online; its readings flow again.
    const back = sent.find((m) => m.device === 'L2' && m.kind === 'status' && m.at > (will?.at ?? Infinity));
    expect(back?.payload).toBe('online');
    await eventually(() => statuses.messages.slice(statuses.messages.indexOf(offline) + 1).some((m) => m.topic === 'park/devices/L2/status' && m.payload === 'online'), 15_000, 'L2 back online');
    // The simulator never sent that offline itself: its socket was dropped and Mosquitto fired the will.
    expect(publisher.stats().droppedForWill).toBe(1);
    expect(publisher.stats().published).toBe(sent.length - 1);
    expect(publisher.stats().acked).toBe(sent.length - 1);
    expect(publisher.stats().peakInFlight).toBeLessThanOrEqual(100);
    // Every other device said online once at the start.
    await eventually(() => statuses.messages.filter((m) => m.payload === 'online').length >= sim.devices().length, 10_000, 'every device online');

    // A clean stop announces every connected device offline (a clean DISCONNECT fires no will).
    await publisher.close(true);
    await eventually(() => new Set(statuses.messages.filter((m) => m.payload === 'offline').map((m) => m.topic)).size === sim.devices().length, 15_000, 'every device offline');
    await statuses.close();
  });

  it('the CLI back-fills a range as fast as the broker takes it and prints a summary', async () => {
    const all = await collect(mosquitto.url, 'park/#');
    const { stdout, stderr } = await exec(join(ROOT, 'node_modules', '.bin', 'tsx'), ['simulators/src/cli.ts', '--mqtt', mosquitto.url, '--from', '-3h', '--to', '-1h', '--seed', '4', '-s', 'weekday+bad-devices', '--quiet'], { cwd: ROOT });
    expect(stdout).toBe('');
    const sent = Number(/messages ([\d,]+) in/.exec(stderr)?.[1]?.replace(/,/g, '') ?? NaN);
    expect(sent).toBeGreaterThan(10_000);
    expect(stderr).toMatch(/bad on purpose: malformed \d+, out_of_range \d+, future \d+, unknown_id \d+/);
    expect(stderr).toMatch(/broker: [\d,]+ acknowledged, 0 failed/);
    // A pure back-fill (it ends before it started) writes history: its devices are not announced offline
    // on exit, or a fresh install's live view would show the whole park offline. Retained messages left
    // by the test before do not count.
    const live = (): number => all.messages.filter((m) => !m.retain).length;
    await eventually(() => live() >= sent, 20_000, `${sent} messages`).catch((err: Error) => {
      throw new Error(`${err.message}; have ${live()}`);
    });
    expect(all.messages.filter((m) => !m.retain && m.payload === 'offline')).toEqual([]);
    expect(live()).toBe(sent);
    await all.close();
  });

  it('the CLI refuses a bad option with a reason and no stack trace', async () => {
    const run = exec(join(ROOT, 'node_modules', '.bin', 'tsx'), ['simulators/src/cli.ts', '--speed', '10', '-s', 'typhoon'], { cwd: ROOT });
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/^parkops-sim: --speed runs the simulated clock ahead of real time/) });
    const bad = exec(join(ROOT, 'node_modules', '.bin', 'tsx'), ['simulators/src/cli.ts', '--from', '-1h', '-s', 'typhoon', '--dry-run'], { cwd: ROOT });
    await expect(bad).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown scenario "typhoon"; known: weekday/) });
    const noBroker = exec(join(ROOT, 'node_modules', '.bin', 'tsx'), ['simulators/src/cli.ts', '--mqtt', 'mqtt://127.0.0.1:1', '--duration', '1m', '--from', '-1m'], { cwd: ROOT });
    await expect(noBroker).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot connect to mqtt:\/\/127\.0\.0\.1:1/) });
  });
});
