/**
 * The embedded MQTT broker (aedes) that `npm start` runs when MQTT_URL is unset.
 *
 * aedes sends the PUBACK for a QoS 1 publish *before* it forwards the message to subscribers, and keeps
 * sessions in memory. An in-process MQTT.js subscriber could therefore lose a message that the device
 * already saw acknowledged, if the process died in between. So ingest does not subscribe here: it
 * handles device messages in aedes' `authorizePublish` hook, which runs before the PUBACK. The durable
 * commit happens before the device gets its acknowledgement, the same promise as with Mosquitto.
 * If the commit fails, the publish is refused: aedes drops the connection (MQTT 3.1.1 has no negative
 * PUBACK) and the device resends the unacknowledged message when it reconnects.
 */
import { createServer, type Server } from 'node:net';
import { Aedes, type AedesPublishPacket } from 'aedes';
import type { BrokerAuth } from './broker-auth.ts';
import type { Topics } from '@parkops/contract/index.ts';
import type { EventBus } from '../bus.ts';
import type { Logger } from '../log.ts';
import type { Module, PublishOptions, Publisher } from '../module.ts';
import type { MessageHandler } from './client-link.ts';

export class EmbeddedBroker implements Module, Publisher {
  readonly name = 'mqtt-embedded';
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private status = 'starting';

  constructor(
    private readonly opts: {
      port: number;
      host: string;
      topics: Topics;
      bus: EventBus;
      log: Logger;
      onMessage: MessageHandler;
      auth?: BrokerAuth | undefined;
      /** Further topics handed to ingest, outside the prefix: network-server uplinks (devices/registry.ts). */
      accepts?: ((topic: string) => boolean) | undefined;
    },
  ) {}

  describe(): string {
    return this.status;
  }
  get connected(): boolean {
    return this.status.startsWith('embedded');
  }
  get address(): { port: number; host: string } {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { port: a.port, host: a.address } : { port: this.opts.port, host: this.opts.host };
  }

  async start(): Promise<void> {
    const { topics, log, onMessage, auth, accepts } = this.opts;
    const prefix = `${topics.prefix}/`;
    this.broker = await Aedes.createBroker({
      id: 'parkops-embedded',
      // Password file and ACL (MQTT_PASSWORD_FILE, MQTT_ACL_FILE): the same rules as the deployment's Mosquitto.
      ...(auth ? { authenticate: auth.authenticate, authorizeSubscribe: auth.authorizeSubscribe, authorizeForward: auth.authorizeForward } : {}),
      authorizePublish: (client, packet, done) => {
        const handle = (): void => {
          if (client && (packet.topic.startsWith(prefix) || accepts?.(packet.topic) === true) && packet.payload !== undefined) {
            const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
            // done(err) refuses the publish: no PUBACK, the device resends after it reconnects.
            onMessage(packet.topic, payload, Date.now(), (err) => done(err ?? null));
            return;
          }
          done(null);
        };
        if (!auth) return handle();
        auth.authorizePublish(client, packet, (err) => {
          if (err) {
            log.warn({ clientId: client?.id, topic: packet.topic.slice(0, 200) }, 'publish denied by ACL');
            return done(err);
          }
          handle();
        });
      },
    });
    this.broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    this.server = createServer(this.broker.handle);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'EADDRINUSE' ? `MQTT_PORT ${this.opts.port} is already in use: stop the other broker or set MQTT_PORT (or MQTT_URL to use it)` : `embedded MQTT broker cannot listen: ${err.message}`)),
      );
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.status = `embedded on ${this.opts.host}:${this.address.port}`;
    log.info({ port: this.address.port, host: this.opts.host }, 'embedded MQTT broker listening');
    await this.publish(topics.opsStatus, 'online', { qos: 1, retain: true });
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const broker = this.broker;
    if (!broker) return Promise.reject(new Error('embedded broker not started'));
    const packet = { cmd: 'publish', topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: opts.qos, retain: opts.retain, dup: false } as unknown as AedesPublishPacket;
    return new Promise((resolve, reject) => broker.publish(packet, (err?: Error) => (err ? reject(err) : resolve())));
  }

  async stop(): Promise<void> {
    if (!this.broker) return;
    await this.publish(this.opts.topics.opsStatus, 'offline', { qos: 1, retain: true }).catch(() => undefined);
    this.status = 'stopped';
    await new Promise<void>((resolve) => this.broker!.close(() => resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.broker = null;
    this.server = null;
  }
}
