/**
 * Modbus TCP polling (pump control panels, level transmitters): the site file's `modbus` blocks
 * become one peer per host:port, each polling its devices and handing their readings to the ingest
 * as section-1 messages, so validation, the durable commit, live state and the alert engine treat
 * them exactly like MQTT readings. Started after everything that handles readings, stopped first.
 */
import type { Topics } from '@parkops/contract/topics.ts';
import type { Logger } from '../log.ts';
import { Gauge, type Metrics } from '../metrics.ts';
import type { Module } from '../module.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { modbusDevices, type ModbusDevice } from './devices.ts';
import { ModbusPeer, type PeerStatus, type ReadingSink } from './peer.ts';


export interface ModbusOptions {
  site: Site;
  topics: Topics;
  sink: ReadingSink;
  log: Logger;
  timeoutMs: number;
  retryMaxMs: number;
  metrics?: Metrics;
}

/** The first retry of a peer that stopped answering; it doubles up to the setting's cap. */
const RETRY_MIN_MS = 1000;

export class ModbusModule implements Module {
  readonly name = 'modbus';
  readonly devices: ModbusDevice[];
  private readonly peers: ModbusPeer[];

  constructor(private readonly opts: ModbusOptions) {
    this.devices = modbusDevices(opts.site, opts.topics);
    const byPeer = new Map<string, ModbusDevice[]>();
    for (const d of this.devices) byPeer.set(d.peer, [...(byPeer.get(d.peer) ?? []), d]);
    const log = opts.log.child({ module: 'modbus' });
    this.peers = [...byPeer.values()].map(
      (devices) =>
        new ModbusPeer({
          host: devices[0]!.host,
          port: devices[0]!.port,
          devices,
          sink: opts.sink,
          log,
          timeoutMs: opts.timeoutMs,
          retryMinMs: Math.min(RETRY_MIN_MS, opts.retryMaxMs),
          retryMaxMs: opts.retryMaxMs,
        }),
    );
    opts.metrics?.add(new Gauge('parkops_modbus_peer_up', 'Modbus TCP peer answered its last poll (1) or not (0)', () => this.status().map((s): [Record<string, string>, number] => [{ peer: s.peer }, s.state === 'up' ? 1 : 0]), ['peer']));
    opts.metrics?.add(new Gauge('parkops_modbus_peer_failures', 'Failed connects or polls of a Modbus TCP peer since it last answered', () => this.status().map((s): [Record<string, string>, number] => [{ peer: s.peer }, s.failures]), ['peer']));
  }

  async start(): Promise<void> {
    // Peers connect in the background: one that is down at start-up must not hold up ParkOps.
    for (const p of this.peers) p.start();
    this.opts.log.info({ module: 'modbus', peers: this.peers.map((p) => p.key), devices: this.devices.map((d) => d.id) }, 'modbus polling started');
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.stop()));
  }

  status(): PeerStatus[] {
    return this.peers.map((p) => p.status());
  }
}
