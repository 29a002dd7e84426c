/**
 * ParkOps device simulators: the engine (`createSimulation`, virtual clock, no sockets), the MQTT
 * publisher, the runner that paces one against the other, and `startSimulators`, the embeddable
 * entry `npm start` uses for its living demo park.
 */
import type { Site } from '@parkops/contract/site';
import { SimModbusServers } from './modbus-server.ts';
import { ChirpStackNetworkServer, type PlannedBinding } from './lorawan/network-server.ts';
import { MqttPublisher } from './publisher.ts';
import { SimulationRunner } from './runner.ts';
import { createSimulation } from './simulation.ts';
import type { SimMessage } from './types.ts';

export { createSimulation, Simulation, type SimulationOptions, type SimStats } from './simulation.ts';
export { SimulationRunner, type Pace, type Progress, type RunOptions, type RunSummary } from './runner.ts';
export { SimModbusServers } from './modbus-server.ts';
export { MqttPublisher, PublisherError, brokerOptions, type PublisherOptions, type PublisherStats } from './publisher.ts';
export { SCENARIOS, SCENARIO_NAMES, ScenarioError, planScenarios, weatherAt, WEATHER_PROFILES, type ScenarioPlan } from './scenarios.ts';
export { FloodRoomModel, DEFAULT_PHYSICS, type FloodPhysics, type Weather } from './models/flood-room.ts';
export { Random } from './random.ts';
export { BAD_KINDS, EXPECTED_REJECTION, type BadKind, type MessageKind, type SimMessage } from './types.ts';
export { ChirpStackNetworkServer, DEMO_APPLICATION_ID, demoPlan, planCsv, type PlannedBinding } from './lorawan/network-server.ts';

export interface StartSimulatorsOptions {
  mqttUrl: string;
  site: Site;
  prefix: string;
  seed?: number;
  /**
   * Simulated ms per real ms. The demo starts at the real "now" and its stamps may never run ahead of
   * the wall clock (the contract rejects future readings), so above 1 it only matters after a `from`.
   */
  speed?: number;
  scenarios?: string[];
  /** Start the simulated clock here (epoch ms, in the past) and catch up at `speed`; default now. */
  from?: number;
  perDeviceConnections?: boolean;
  /**
   * The plan's devices speak as a ChirpStack v4 network server would publish them (lorawan/), on
   * `mqttUrl` (the network server's broker) or the park's broker. Their bindings must exist in ParkOps.
   */
  lorawan?: { plan: readonly PlannedBinding[]; mqttUrl?: string | undefined };
  log?: (obj: object, msg: string) => void;
}

export interface RunningSimulators {
  stop(): Promise<void>;
  stats(): object;
}

/**
 * Starts the whole park against a broker: warms the models up to the current local time of day (at
 * 14:00 on a weekday the lot is mostly full), publishes every device's state at once, then runs live.
 * Rejects with a clear message when the broker cannot be reached or a scenario name is unknown.
 */
export async function startSimulators(opts: StartSimulatorsOptions): Promise<RunningSimulators> {
  const log = opts.log ?? (() => undefined);
  const now = Date.now();
  const startAt = opts.from !== undefined && opts.from < now ? opts.from : now;
  const sim = createSimulation({ site: opts.site, prefix: opts.prefix, seed: opts.seed ?? 1, scenarios: opts.scenarios ?? [], startAt });
  // Devices the site file puts on Modbus TCP speak only Modbus: served here when on this machine.
  const modbus = new SimModbusServers(opts.site);
  const ns = opts.lorawan ? new ChirpStackNetworkServer(opts.site, opts.lorawan.plan, { seed: sim.seed }) : null;
  const publisher = new MqttPublisher({ url: opts.mqttUrl, devices: sim.devices().filter((d) => !modbus.modbusIds.has(d.id) && !ns?.has(d.id)), perDeviceConnections: opts.perDeviceConnections ?? false, log });
  await publisher.connect();
  // The network server is one MQTT client of its own, as ChirpStack's MQTT integration is.
  const uplinks = ns ? new MqttPublisher({ url: opts.lorawan?.mqttUrl ?? opts.mqttUrl, devices: [], clientIdPrefix: `parkops-sim-chirpstack-${process.pid}`, log }) : null;
  await uplinks?.connect();
  if (modbus.needed) {
    try {
      await modbus.start();
    } catch (err) {
      await publisher.close(true);
      await uplinks?.close(false);
      throw err;
    }
    log({ modbus: modbus.endpoints }, 'simulators: serving the Modbus TCP devices of the site');
  }
  const speed = opts.speed ?? 1;
  if (speed > 1 && startAt >= now) {
    log({ speed }, 'simulators: speed above 1 has no effect when starting now; stamps never run ahead of the wall clock');
  }
  const sink = (m: SimMessage): Promise<void> | undefined => {
    if (modbus.consume(m)) return undefined;
    if (!ns || !uplinks) return publisher.publish(m);
    // Uplinks are the topics outside the park's prefix.
    const waits = ns.translate(m).map((x) => (x.topic.startsWith(`${opts.prefix}/`) ? publisher.publish(x) : uplinks.publish(x)));
    const pending = waits.filter((w): w is Promise<void> => w !== undefined);
    return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
  };
  const runner = new SimulationRunner({ sim, pace: speed, sink });
  const s0 = sim.stats();
  log(
    { broker: publisher.display, seed: sim.seed, scenarios: sim.plan.names, devices: sim.devices().length, occupiedBays: s0.parking.occupied, ...(ns ? { lorawanDevices: opts.lorawan?.plan.length, networkServerBroker: uplinks?.display } : {}) },
    `simulators: ${site(opts.site)} live from ${sim.local.iso(sim.now)}`,
  );
  const done = runner.run().catch((err: unknown) => {
    log({ err: err instanceof Error ? err.message : String(err) }, 'simulators: run failed');
    return null;
  });
  let stopping: Promise<void> | null = null;
  return {
    stop(): Promise<void> {
      stopping ??= (async () => {
        runner.stop();
        await done;
        await publisher.close(true);
        await uplinks?.close(false);
        await modbus.stop();
        log({ ...publisher.stats(), messages: sim.stats().messages, ...(ns ? { uplinks: ns.sent } : {}) }, 'simulators: stopped');
      })();
      return stopping;
    },
    stats(): object {
      return { simulation: sim.stats(), publisher: publisher.stats(), ...(uplinks ? { networkServer: uplinks.stats() } : {}) };
    },
  };
}

function site(s: Site): string {
  return `${s.name}: ${s.bays.length} bays, ${s.gates.length} gates, ${s.rooms.length} flood rooms, ${s.venues.length} venues`;
}
