/**
 * Publishes simulated messages over MQTT.js (MQTT 3.1.1, so it works against Mosquitto and aedes).
 *
 * - QoS 1 for readings; statuses are retained.
 * - At most `maxInFlight` QoS 1 publishes wait for their PUBACK at once, across all connections:
 *   message ids are 16-bit and MQTT.js loses callbacks past 65,535 unacknowledged (ENVIRONMENT.md).
 *   A publish past the cap returns a promise that settles when there is room: back-pressure from
 *   the broker to the simulation.
 * - One shared connection by default. With `perDeviceConnections`, every device has its own client
 *   whose Last Will is `offline` on its status topic, retained; a message flagged `will` then drops
 *   that device's socket without DISCONNECT so the broker itself publishes the will.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { SimMessage } from './types.ts';

export interface PublisherOptions {
  url: string;
  perDeviceConnections?: boolean;
  /** Device ids and their status topics, needed for per-device connections and the offline announcement at stop. */
  devices: ReadonlyArray<{ id: string; statusTopic: string }>;
  maxInFlight?: number;
  clientIdPrefix?: string;
  /** MQTT keep-alive, seconds. */
  keepaliveSec?: number;
  log?: (obj: object, msg: string) => void;
}

export interface PublisherStats {
  connections: number;
  published: number;
  acked: number;
  failed: number;
  inFlight: number;
  /** Most QoS 1 publishes awaiting PUBACK at once (never above maxInFlight). */
  peakInFlight: number;
  droppedForWill: number;
  lastError: string | null;
}

export class PublisherError extends Error {}

/** `mqtt://user:pass@host:1883` to connect options; the password never reaches a log line. */
export function brokerOptions(url: string): { brokerUrl: string; options: IClientOptions; display: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PublisherError(`--mqtt: "${url}" is not a URL; expected e.g. mqtt://user:pass@127.0.0.1:1883`);
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'].includes(u.protocol)) {
    throw new PublisherError(`--mqtt: unsupported scheme "${u.protocol}"; use mqtt://, mqtts://, ws:// or wss://`);
  }
  const options: IClientOptions = {};
  if (u.username !== '') options.username = decodeURIComponent(u.username);
  if (u.password !== '') options.password = decodeURIComponent(u.password);
  const display = `${u.protocol}//${u.username !== '' ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  u.username = '';
  u.password = '';
  return { brokerUrl: u.toString(), options, display };
}

export class MqttPublisher {
  private readonly opts: Required<Omit<PublisherOptions, 'log'>> & { log: PublisherOptions['log'] };
  private shared: MqttClient | null = null;
  private readonly perDevice = new Map<string, MqttClient>();
  private readonly waiting: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  private readonly st: PublisherStats = { connections: 0, published: 0, acked: 0, failed: 0, inFlight: 0, peakInFlight: 0, droppedForWill: 0, lastError: null };
  private readonly broker: ReturnType<typeof brokerOptions>;
  private readonly onAck: (err?: Error) => void;
  /** Per-device connections: publishes awaiting PUBACK on each, so a device is dropped only once they are in. */
  private readonly pendingByDevice = new Map<string, number>();
  private readonly settledByDevice = new Map<string, () => void>();
  private readonly dropped = new Set<string>();

  constructor(opts: PublisherOptions) {
    this.opts = {
      perDeviceConnections: false,
      maxInFlight: 1000,
      clientIdPrefix: `parkops-sim-${process.pid}`,
      keepaliveSec: 60,
      ...opts,
      log: opts.log,
    };
    this.broker = brokerOptions(opts.url);
    this.onAck = (err) => {
      this.st.inFlight--;
      if (err) {
        this.st.failed++;
        this.st.lastError = err.message;
      } else this.st.acked++;
      if (this.st.inFlight < this.opts.maxInFlight) this.waiting.shift()?.();
      if (this.st.inFlight === 0) for (const f of this.idle.splice(0)) f();
    };
  }

  get display(): string {
    return this.broker.display;
  }

  private clientOptions(clientId: string, will?: { topic: string }): IClientOptions {
    return {
      ...this.broker.options,
      clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: this.opts.keepaliveSec,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(will ? { will: { topic: will.topic, payload: Buffer.from('offline'), qos: 1 as const, retain: true } } : {}),
    };
  }

  private connectOne(clientId: string, will?: { topic: string }): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(this.broker.brokerUrl, this.clientOptions(clientId, will));
      const fail = (err: Error): void => {
        client.removeListener('connect', ok);
        client.end(true);
        reject(new PublisherError(`cannot connect to ${this.broker.display}: ${err.message}`));
      };
      const ok = (): void => {
        client.removeListener('error', fail);
        client.on('error', (err) => {
          this.st.lastError = err.message;
          this.opts.log?.({ clientId, err: err.message }, 'mqtt error');
        });
        this.st.connections++;
        resolve(client);
      };
      client.once('connect', ok);
      client.once('error', fail);
      // A refused TCP connection emits no 'error' in MQTT.js 5, it just retries: give up after the connect timeout.
      const timer = setTimeout(() => {
        if (!client.connected) fail(new Error('no answer within 10 s'));
      }, 10_000);
      client.once('connect', () => clearTimeout(timer));
      client.once('error', () => clearTimeout(timer));
    });
  }

  async connect(): Promise<void> {
    if (!this.opts.perDeviceConnections) {
      this.shared = await this.connectOne(`${this.opts.clientIdPrefix}-shared`);
      return;
    }
    // Fifty at a time: a burst of 600 CONNECTs is fine for Mosquitto, but it need not be a stampede.
    const devices = [...this.opts.devices];
    for (let i = 0; i < devices.length; i += 50) {
      const batch = devices.slice(i, i + 50);
      const clients = await Promise.all(batch.map((d) => this.connectOne(`${this.opts.clientIdPrefix}-${d.id}`, { topic: d.statusTopic })));
      batch.forEach((d, j) => this.perDevice.set(d.id, clients[j] as MqttClient));
    }
  }

  private clientFor(device: string, kind?: SimMessage['kind']): MqttClient | null {
    if (this.shared !== null) return this.shared;
    const own = this.perDevice.get(device);
    if (own !== undefined || kind !== 'warning') return own ?? null;
    // A weather warning is no device's: any connected device connection carries it (same broker, same credentials).
    for (const c of this.perDevice.values()) if (c.connected) return c;
    return null;
  }

  /**
   * Publishes one message. Returns undefined when it went straight out, or a promise to await when the
   * in-flight cap is reached (await it before publishing more).
   */
  publish(msg: SimMessage): Promise<void> | undefined {
    if (msg.will === true && this.shared === null) return this.dropForWill(msg.device);
    const client = this.clientFor(msg.device, msg.kind);
    if (client === null) {
      this.st.failed++;
      this.st.lastError = `no connection for device ${msg.device}`;
      return undefined;
    }
    if (this.dropped.has(msg.device)) {
      // A device back from a dropout: it reconnects (its will armed again); MQTT.js sends once connected.
      this.dropped.delete(msg.device);
      client.options.reconnectPeriod = 1000;
      client.reconnect();
    }
    this.st.published++;
    this.st.inFlight++;
    if (this.st.inFlight > this.st.peakInFlight) this.st.peakInFlight = this.st.inFlight;
    if (this.shared !== null || msg.kind === 'warning') {
      client.publish(msg.topic, msg.payload, { qos: msg.qos, retain: msg.retain }, this.onAck);
    } else {
      const device = msg.device;
      this.pendingByDevice.set(device, (this.pendingByDevice.get(device) ?? 0) + 1);
      client.publish(msg.topic, msg.payload, { qos: msg.qos, retain: msg.retain }, (err) => {
        const left = (this.pendingByDevice.get(device) ?? 1) - 1;
        this.pendingByDevice.set(device, left);
        if (left === 0) this.settledByDevice.get(device)?.();
        this.onAck(err);
      });
    }
    if (this.st.inFlight >= this.opts.maxInFlight) return new Promise((resolve) => this.waiting.push(resolve));
    return undefined;
  }

  /**
   * Drops a device's connection without DISCONNECT: the broker publishes its Last Will [MQTT-3.1.2-8].
   * Its last readings are acknowledged first: they were sent before it went silent.
   */
  private async dropForWill(device: string): Promise<void> {
    const client = this.perDevice.get(device);
    if (client === undefined) return;
    if ((this.pendingByDevice.get(device) ?? 0) > 0) {
      await new Promise<void>((resolve) => this.settledByDevice.set(device, resolve));
      this.settledByDevice.delete(device);
    }
    this.st.droppedForWill++;
    this.dropped.add(device);
    client.options.reconnectPeriod = 0;
    client.stream.destroy();
  }

  /** Settles once every publish so far is acknowledged (or failed). */
  flush(): Promise<void> {
    if (this.st.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Announces every device `offline` (retained, as a device does on a clean shutdown; a clean
   * DISCONNECT does not fire the will), waits for the acknowledgements and closes.
   */
  async close(announceOffline = true): Promise<void> {
    if (announceOffline) {
      for (const d of this.opts.devices) {
        const client = this.clientFor(d.id);
        // A device whose socket was dropped already has its will (offline) published by the broker.
        if (client === null || !client.connected) continue;
        const wait = this.publish({ topic: d.statusTopic, payload: 'offline', qos: 1, retain: true, at: Date.now(), kind: 'status', device: d.id });
        if (wait) await wait;
      }
    }
    await Promise.race([this.flush(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    const all = [...(this.shared ? [this.shared] : []), ...this.perDevice.values()];
    await Promise.all(all.map((c) => new Promise<void>((resolve) => c.end(false, {}, () => resolve()))));
    this.shared = null;
    this.perDevice.clear();
    // Publishes still waiting for room will never get it now.
    for (const f of this.waiting.splice(0)) f();
  }

  stats(): PublisherStats {
    return { ...this.st };
  }
}
