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

export type MessageHandler = (topic: string, payload: Buffer, receivedAt: number) => unknown;

export class MqttClientLink implements Module, Publisher {
  readonly name = 'mqtt-client';
  private client: MqttClient | null = null;
  private status = 'connecting';
  private storeFailing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: { url: string; clientId: string; topics: Topics; bus: EventBus; log: Logger; onMessage: MessageHandler; subscribeQos?: 0 | 1 },
  ) {}

  describe(): string {
    return this.status;
  }
  get connected(): boolean {
    return this.client?.connected === true;
  }

  async start(): Promise<void> {
    const { url, clientId, topics, log, bus } = this.opts;
    const options: IClientOptions = {
      clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      // Own publications (alerts, rejections) are queued while offline and sent on reconnect.
      queueQoSZero: false,
      will: { topic: topics.opsStatus, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    const client = mqtt.connect(url, options);
    this.client = client;
    client.handleMessage = (packet: Packet, done: (err?: Error) => void) => {
      if (packet.cmd !== 'publish') return done();
      const receivedAt = Date.now();
      try {
        this.opts.onMessage(packet.topic, packet.payload as Buffer, receivedAt);
        done();
      } catch (err) {
        // The store could not commit: leave the message unacknowledged. MQTT 3.1.1 brokers resend
        // unacknowledged QoS 1 messages on reconnect, so reconnect once the store may have recovered.
        this.onStoreFailure(err as Error);
        done(err as Error);
      }
    };
    client.on('connect', (connack) => {
      this.status = 'connected';
      this.storeFailing = false;
      log.info({ url: redact(url), sessionPresent: connack.sessionPresent }, 'mqtt connected');
      bus.emit('mqtt.status', { connected: true, detail: this.status });
      // Subscribe on every connect: cheap, and it repairs a session the broker lost.
      client.subscribe(topics.deviceSubscription, { qos: this.opts.subscribeQos ?? 1 }, (err) => {
        if (err) log.error({ err: err.message }, 'mqtt subscribe failed');
      });
      client.publish(topics.opsStatus, 'online', { qos: 1, retain: true });
    });
    client.on('reconnect', () => {
      this.status = 'reconnecting';
    });
    client.on('close', () => {
      if (this.status === 'connected') log.warn('mqtt connection closed');
      if (this.status !== 'stopped') this.status = 'disconnected';
      bus.emit('mqtt.status', { connected: false, detail: this.status });
    });
    client.on('error', (err) => {
      this.status = `error: ${err.message}`;
      // Bad credentials will not fix themselves; everything else is retried by MQTT.js.
      log.error({ err: err.message }, 'mqtt error');
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cannot reach the MQTT broker at ${redact(url)} within 15 s (MQTT_URL)`)), 15_000);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('error', (err) => {
        const code = (err as { code?: number }).code;
        if (code === 4 || code === 5 || /not authori[sz]ed|bad user/i.test(err.message)) {
          clearTimeout(timer);
          reject(new Error(`the MQTT broker at ${redact(url)} refused the credentials (MQTT_URL): ${err.message}`));
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
      // Drop the connection without a clean disconnect; the persistent session keeps the unacknowledged messages.
      this.client?.stream.destroy();
    }, 5000);
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('mqtt not started'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: opts.qos, retain: opts.retain }, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    if (!client) return;
    this.status = 'stopped';
    if (client.connected) {
      await new Promise<void>((resolve) => client.publish(this.opts.topics.opsStatus, 'offline', { qos: 1, retain: true }, () => resolve()));
    }
    await client.endAsync(false);
    this.client = null;
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
