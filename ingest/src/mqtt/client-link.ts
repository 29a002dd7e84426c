/**
 * The MQTT adapter for an external broker (Mosquitto in deployments). It stays dumb: it hands each
 * device message to `onMessage` and acknowledges it only after ingest committed it.
 *
 * Device messages come in through the ingest's own subscriber (ingest-subscriber.ts), which keeps a
 * window of messages unacknowledged so ingest can commit them together and write their PUBACKs in one
 * go. What ParkOps publishes (alerts, rejections) goes out through MQTT.js on a second connection.
 * MQTT 3.1.1 with clean=false and a fixed client id keeps a persistent session on both brokers (aedes
 * has no MQTT 5); messages that arrive while ingest is down wait in the broker's queue.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Topics } from '@parkops/contract/index.ts';
import type { EventBus } from '../bus.ts';
import type { Logger } from '../log.ts';
import type { Module, PublishOptions, Publisher } from '../module.ts';
import { DEFAULT_INGEST_WINDOW } from '../config.ts';
import { IngestSubscriber, redact } from './ingest-subscriber.ts';

/**
 * Hands a message to ingest; `ack()` once durably committed or rejected, `ack(err)` when the store failed.
 * `replayed`: a retained message the broker sent because ParkOps subscribed, not one a device just
 * published (MQTT 3.1.1 sets RETAIN on a PUBLISH to a subscriber only then, [MQTT-3.3.1-8]/[MQTT-3.3.1-9]).
 */
export type MessageHandler = (topic: string, payload: Buffer, receivedAt: number, ack: (err?: Error) => void, replayed?: boolean) => void;

export class MqttClientLink implements Module, Publisher {
  readonly name: string;
  private subscribers: IngestSubscriber[] = [];
  private publisher: MqttClient | null = null;
  private stopped = false;

  constructor(
    private readonly opts: {
      url: string;
      clientId: string;
      topics: Topics;
      bus: EventBus;
      log: Logger;
      onMessage: MessageHandler;
      /** Unacknowledged messages each connection holds at most (MQTT_INGEST_WINDOW). */
      window?: number;
      /**
       * Connections in a `$share` group. One connection already lets ingest commit many messages
       * together; several split the broker's sending across sockets.
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
    if (this.stopped) return 'stopped';
    const down = this.subscribers.find((s) => !s.connected);
    if (down) return down.describe();
    if (this.publisher && !this.publisher.connected) return 'publisher reconnecting';
    return this.subscribers.length > 0 ? 'connected' : 'connecting';
  }
  get connected(): boolean {
    return this.subscribers.length > 0 && this.subscribers.every((s) => s.connected) && this.publisher?.connected === true;
  }

  async start(): Promise<void> {
    const { url, clientId, topics, log, bus, onMessage } = this.opts;
    const window = this.opts.window ?? DEFAULT_INGEST_WINDOW;
    this.stopped = false;
    const n = Math.max(1, this.opts.connections ?? 1);
    const wanted = this.opts.filters ?? [topics.deviceSubscription];
    const filters = n === 1 ? wanted : wanted.map((f) => `$share/${clientId}/${f}`);
    const setting = this.opts.setting ?? 'MQTT_URL';
    const onStatus = (): void => bus.emit('mqtt.status', { connected: this.connected, detail: this.describe() });
    // Connection 0 keeps the plain client id, so a one-connection setup keeps its session; it carries
    // the Last Will and the retained `online`, as the ingest's presence.
    this.subscribers = Array.from(
      { length: n },
      (_, i) =>
        new IngestSubscriber({
          url,
          clientId: i === 0 ? clientId : `${clientId}-${i}`,
          filters,
          setting,
          window,
          onMessage,
          log,
          onStatus,
          ...(i === 0 && this.opts.announce !== false ? { presence: { topic: topics.opsStatus, online: 'online', offline: 'offline' } } : {}),
        }),
    );
    const publisher = mqtt.connect(url, { clientId: `${clientId}-pub`, clean: true, protocolVersion: 4, reconnectPeriod: 1000, connectTimeout: 10_000, keepalive: 30, queueQoSZero: false });
    this.publisher = publisher;
    publisher.on('connect', onStatus);
    publisher.on('close', onStatus);
    publisher.on('error', (err) => log.error({ err: err.message }, 'mqtt publisher error'));
    const publisherUp = new Promise<void>((resolve, reject) => {
      publisher.once('connect', () => resolve());
      publisher.once('error', (err) => {
        const code = (err as { code?: number }).code;
        if (code === 4 || code === 5) reject(new Error(`the MQTT broker at ${redact(url)} refused the credentials (${setting}): ${err.message}`));
      });
    });
    try {
      await Promise.all([...this.subscribers.map((s) => s.start()), publisherUp]);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const client = this.publisher;
    if (!client) return Promise.reject(new Error('mqtt not started'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos: opts.qos, retain: opts.retain }, (err) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The primary publishes the retained `offline` before its clean DISCONNECT.
    await Promise.all(this.subscribers.map((s) => s.stop()));
    await this.publisher?.endAsync(false);
    this.publisher = null;
  }
}
