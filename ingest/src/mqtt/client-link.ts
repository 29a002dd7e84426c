/**
 * The MQTT adapter for an external broker (Mosquitto in deployments), through MQTT.js. It stays dumb:
 * it hands each message to `onMessage` and acknowledges only after that returned, i.e. after the
 * reading is durably committed.
 *
 * MQTT.js processes one incoming packet at a time per connection and sends the PUBACK when the
 * `handleMessage` callback is called (ENVIRONMENT.md), so the durable write sits inside handleMessage.
 * MQTT 3.1.1 with clean=false and a fixed client id keeps a persistent session on both brokers
 * (aedes has no MQTT 5); messages that arrive while ingest is down wait in the broker's queue.
 */
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Topics } from '../contract/index.ts';
import type { EventBus } from '../bus.ts';
import type { Logger } from '../log.ts';
import type { Module, PublishOptions, Publisher } from '../module.ts';

/**
 * Hands a message to ingest; `ack()` once durably committed or rejected, `ack(err)` when the store failed.
 * `replayed`: a retained message the broker sent because ParkOps subscribed, not one a device just
 * published (MQTT 3.1.1 sets RETAIN on a PUBLISH to a subscriber only then, [MQTT-3.3.1-8]/[MQTT-3.3.1-9]).
 */
export type MessageHandler = (topic: string, payload: Buffer, receivedAt: number, ack: (err?: Error) => void, replayed?: boolean) => void;

export class MqttClientLink implements Module, Publisher {
  readonly name: string;
  private clients: MqttClient[] = [];
  private status = 'connecting';
  private storeFailing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: {
      url: string;
      clientId: string;
      topics: Topics;
      bus: EventBus;
      log: Logger;
      onMessage: MessageHandler;
      /**
       * Connections in a `$share` group. MQTT.js handles one packet at a time per connection, so one
       * connection's rate is 1 / (time per message including the PUBACK round trip); several connections
       * overlap those round trips and let ingest commit their messages together.
       */
      connections?: number;
      /**
       * What to subscribe to; default the device subscription. The ParkOps broker also carries
       * network-server uplink topics when no separate LoRaWAN broker is set (devices/registry.ts).
       */
      filters?: string[];
      /** Publish `online`/`offline` on the ops status topic, and set it as the Last Will (default true). */
      announce?: boolean;
      /** The setting that gave the URL, for error messages (default MQTT_URL). */
      setting?: string;
      name?: string;
    },
  ) {
    this.name = opts.name ?? 'mqtt-client';
  }

  describe(): string {
    return this.status;
  }
  get connected(): boolean {
    return this.clients.length > 0 && this.clients.every((c) => c.connected);
  }

  async start(): Promise<void> {
    const n = Math.max(1, this.opts.connections ?? 1);
    const wanted = this.opts.filters ?? [this.opts.topics.deviceSubscription];
    const filters = n === 1 ? wanted : wanted.map((f) => `$share/${this.opts.clientId}/${f}`);
    // Connection 0 keeps the plain client id, so a one-connection setup keeps its session.
    await Promise.all(Array.from({ length: n }, (_, i) => this.connectOne(i === 0 ? this.opts.clientId : `${this.opts.clientId}-${i}`, filters, i === 0)));
    this.status = 'connected';
  }

  private async connectOne(clientId: string, filters: string[], primary: boolean): Promise<void> {
    const { url, topics, log, bus } = this.opts;
    const announce = primary && this.opts.announce !== false;
    const setting = this.opts.setting ?? 'MQTT_URL';
    const options: IClientOptions = {
      clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      queueQoSZero: false,
      ...(announce ? { will: { topic: topics.opsStatus, payload: Buffer.from('offline'), qos: 1 as const, retain: true } } : {}),
    };
    const client = mqtt.connect(url, options);
    this.clients.push(client);
    client.handleMessage = (packet: Packet, done: (err?: Error) => void) => {
      if (packet.cmd !== 'publish') return done();
      // MQTT.js holds every later packet (PINGRESP too) until `done`: a message that is never
      // answered stalls the connection until the keepalive gives up, so say which one it is.
      const stall = setTimeout(() => log.warn({ clientId, topic: packet.topic.slice(0, 200) }, 'mqtt: a message has waited 5 s for its commit'), 5000);
      stall.unref();
      this.opts.onMessage(
        packet.topic,
        packet.payload as Buffer,
        Date.now(),
        (err) => {
          clearTimeout(stall);
          if (!err) return done();
          // The store could not commit: leave the message unacknowledged. MQTT 3.1.1 brokers resend
          // unacknowledged QoS 1 messages on reconnect, so reconnect once the store may have recovered.
          this.onStoreFailure(err);
          done(err);
        },
        packet.retain,
      );
    };
    client.on('connect', (connack) => {
      this.status = this.connected ? 'connected' : 'connecting';
      this.storeFailing = false;
      log.info({ url: redact(url), clientId, sessionPresent: connack.sessionPresent }, 'mqtt connected');
      bus.emit('mqtt.status', { connected: this.connected, detail: this.status });
      // Subscribe on every connect: cheap, and it repairs a session the broker lost.
      client.subscribe(filters, { qos: 1 }, (err) => {
        if (err) log.error({ err: err.message }, 'mqtt subscribe failed');
      });
      if (announce) client.publish(topics.opsStatus, 'online', { qos: 1, retain: true });
    });
    client.on('reconnect', () => {
      if (this.status !== 'stopped') this.status = 'reconnecting';
    });
    client.on('close', () => {
      if (this.status === 'connected') log.warn({ clientId }, 'mqtt connection closed');
      if (this.status !== 'stopped') this.status = 'disconnected';
      bus.emit('mqtt.status', { connected: false, detail: this.status });
    });
    client.on('error', (err) => {
      this.status = `error: ${err.message}`;
      log.error({ clientId, err: err.message }, 'mqtt error');
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cannot reach the MQTT broker at ${redact(url)} within 15 s (${setting})`)), 15_000);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('error', (err) => {
        const code = (err as { code?: number }).code;
        // Bad credentials will not fix themselves; everything else is retried by MQTT.js.
        if (code === 4 || code === 5 || /not authori[sz]ed|bad user/i.test(err.message)) {
          clearTimeout(timer);
          reject(new Error(`the MQTT broker at ${redact(url)} refused the credentials (${setting}): ${err.message}`));
        }
      });
    });
  }

  private onStoreFailure(err: Error): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    this.opts.log.error({ err: err.message }, 'store write failed: messages stay unacknowledged, reconnecting in 5 s for redelivery');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.storeFailing = false;
      // Drop the connections without a clean disconnect; the persistent sessions keep the unacknowledged messages.
      for (const c of this.clients) c.stream.destroy();
    }, 5000);
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const client = this.clients[0];
    if (!client) return Promise.reject(new Error('mqtt not started'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: opts.qos, retain: opts.retain }, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.clients.length === 0) return;
    this.status = 'stopped';
    const primary = this.clients[0]!;
    if (primary.connected && this.opts.announce !== false) {
      await new Promise<void>((resolve) => primary.publish(this.opts.topics.opsStatus, 'offline', { qos: 1, retain: true }, () => resolve()));
    }
    await Promise.all(this.clients.map((c) => c.endAsync(false)));
    this.clients = [];
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
