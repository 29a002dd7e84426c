/**
 * The ingest's own MQTT 3.1.1 subscriber: one persistent-session connection that takes many QoS 1
 * messages at a time and acknowledges each only after ingest committed it.
 *
 * MQTT.js hands over one packet at a time per connection and writes the PUBACK when its
 * `handleMessage` callback returns, so every message paid its own transaction, its own PUBACK write
 * and its own turn of the event loop (docs/benchmarks.md). Here the socket's bytes are framed into
 * packets; PUBLISH packets (nearly all of them) are decoded in place, everything else by
 * `mqtt-packet`'s parser. Publishes are handed to ingest as they come, up to a window of
 * unacknowledged messages, and ingest commits what arrived in one turn of the event loop in one
 * transaction. Then:
 *
 * - PUBACKs go out in the order the PUBLISH packets were received [MQTT-4.6.0-2], in one socket write
 *   per batch, and only on the connection that delivered them. A message whose connection dropped
 *   before its commit finished is never acknowledged on the next connection: the broker resends it
 *   (with DUP set) on the new one [MQTT-4.4.0-1], and the store keeps it once.
 * - Above the window no more packets are decoded and the socket is paused: TCP backpressure, the
 *   broker keeps the rest queued for the session.
 * - A failed commit leaves the message unacknowledged and everything after it too (order); the
 *   connection is dropped after `storeRetryMs`, and the broker redelivers from the first unacknowledged.
 * - Keepalive runs on its own timer: PINGREQ goes out whenever nothing else was written for half the
 *   keepalive, however long ingest holds messages [MQTT-3.1.2-23]. The broker's silence only counts
 *   while the socket is read; a paused socket cannot show a PINGRESP that sits behind publishes.
 * - The subscription asks for QoS 1 at most: a QoS 2 publish is delivered at the granted QoS 1
 *   [MQTT-3.8.4-6], so no PUBREC/PUBREL/PUBCOMP exchange is needed (devices should not use QoS 2).
 *
 * Transports: mqtt:// and tcp:// (TCP), mqtts:// and ssl:// (TLS, certificates verified against the
 * system store; NODE_EXTRA_CA_CERTS adds a private CA), ws:// and wss:// (MQTT over WebSocket,
 * subprotocol `mqtt`). Publishing stays with MQTT.js on a separate connection (client-link.ts).
 */
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';
import WebSocket, { createWebSocketStream } from 'ws';
import type { Logger } from '../log.ts';
import type { MessageHandler } from './client-link.ts';

export interface SubscriberOptions {
  url: string;
  clientId: string;
  /** Topic filters, subscribed at QoS 1 on every connect (which also repairs a session the broker lost). */
  filters: string[];
  /** Unacknowledged messages held at most; more wait in the broker. */
  window: number;
  onMessage: MessageHandler;
  log: Logger;
  /** Called whenever the connection comes up or goes down. */
  onStatus?: (connected: boolean, detail: string) => void;
  /** Last Will (retained `offline`) and a retained `online` after every connect. */
  presence?: { topic: string; online: string; offline: string };
  /** The setting that gave the URL, named in errors (default MQTT_URL). */
  setting?: string;
  /** Default 30. */
  keepaliveSec?: number;
  /** How long a connection stays up after a failed commit before it is dropped for redelivery. Default 5000. */
  storeRetryMs?: number;
  /** First reconnect delay; doubles per failed attempt up to `reconnectMaxMs`. Defaults 250 and 5000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Extra TLS options for mqtts:// and wss:// (tests pass their own CA). */
  tls?: ConnectionOptions;
}

/** One PUBLISH waiting for its commit. */
interface Inflight {
  id: number;
  qos: 0 | 1;
  done: boolean;
}

/** One network connection's lifetime: its own packet ids, window and acknowledgements. */
interface Connection {
  readonly stream: Duplex;
  readonly parser: ReturnType<typeof mqttPacket.parser>;
  readonly inflight: Inflight[];
  head: number;
  /** Bytes read but not yet framed (a partial packet, or the rest once the window filled). */
  held: Buffer | null;
  connacked: boolean;
  /** Packet id of this connection's SUBSCRIBE; its SUBACK makes the connection ready. */
  subscribeId: number;
  paused: boolean;
  closed: boolean;
  failed: boolean;
  pendingAcks: number[];
  flushQueued: boolean;
  lastWriteAt: number;
  /** When the oldest unanswered PINGREQ went out (0: none). */
  pingSentAt: number;
  /** Server time of the packets being decoded now. */
  now: number;
  timers: NodeJS.Timeout[];
  /** Our own QoS 1 publishes (presence) waiting for the broker's PUBACK. */
  awaiting: Map<number, () => void>;
}

const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);
const CONNECT_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 15_000;
/** CONNACK return codes 4 (bad user name or password) and 5 (not authorised) will not fix themselves [MQTT-3.2.2.3]. */
const REFUSED_CREDENTIALS = new Set([4, 5]);
const CONNACK_REASON: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorised',
};

/**
 * Length in bytes of the complete packet starting at `at`; -1 when the buffer does not hold all of it
 * yet, -2 when the remaining length is malformed. Fixed header: one byte of type and flags, then the
 * remaining length in 1 to 4 bytes of 7 bits each, least significant first [MQTT-2.2.3].
 */
export function framedLength(buf: Buffer, at: number): number {
  let len = 0;
  let mult = 1;
  let i = at + 1;
  for (let bytes = 1; ; bytes++) {
    if (i >= buf.length) return -1;
    const b = buf[i++]!;
    len += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) break;
    if (bytes === 4) return -2;
    mult *= 128;
  }
  const total = i - at + len;
  return at + total <= buf.length ? total : -1;
}

export interface DecodedPublish {
  topic: string;
  qos: 0 | 1 | 2;
  /** 0 for QoS 0. */
  id: number;
  /** A view into the read buffer, not a copy. */
  payload: Buffer;
  /**
   * RETAIN on a PUBLISH to a subscriber: the broker replays a retained message because we subscribed,
   * not one a device just published [MQTT-3.3.1-8], [MQTT-3.3.1-9].
   */
  retain: boolean;
}

/**
 * The complete PUBLISH packet of `n` bytes at `at` [MQTT-3.3]: fixed header (DUP, QoS and RETAIN in
 * the low nibble), remaining length, topic name (2-byte length + UTF-8), packet identifier when
 * QoS > 0, payload. Returns what is wrong with it instead of throwing.
 */
export function decodePublish(buf: Buffer, at: number, n: number): DecodedPublish | string {
  const qos = (buf[at]! >> 1) & 3;
  if (qos === 3) return 'QoS 3 [MQTT-3.3.1-4]';
  let i = at + 1;
  while (buf[i]! & 0x80) i++;
  i++;
  const end = at + n;
  if (i + 2 > end) return 'too short for its topic length';
  const topicLen = buf.readUInt16BE(i);
  i += 2;
  if (i + topicLen > end) return 'topic runs past the packet';
  const topic = buf.toString('utf8', i, i + topicLen);
  i += topicLen;
  let id = 0;
  if (qos > 0) {
    if (i + 2 > end) return 'too short for its packet identifier';
    id = buf.readUInt16BE(i);
    i += 2;
  }
  return { topic, qos: qos as 0 | 1 | 2, id, payload: buf.subarray(i, end), retain: (buf[at]! & 1) === 1 };
}

export class IngestSubscriber {
  private conn: Connection | null = null;
  private stopped = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private nextPacketId = 0;
  private status = 'connecting';
  private storeFailureLogged = false;
  private readonly keepaliveMs: number;
  private firstConnect: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** Connections opened so far (a reconnect adds one). */
  connects = 0;

  constructor(private readonly opts: SubscriberOptions) {
    this.keepaliveMs = (opts.keepaliveSec ?? 30) * 1000;
  }

  /** Connected and subscribed. */
  get connected(): boolean {
    return this.conn?.connacked === true && !this.conn.closed && this.status === 'connected';
  }
  describe(): string {
    return this.status;
  }
  /** Messages of the current connection not yet acknowledged (or settled, for QoS 0). */
  get outstanding(): number {
    const c = this.conn;
    return c ? c.inflight.length - c.head : 0;
  }

  /** Resolves once the first connection is subscribed; rejects on refused credentials or after 15 s. */
  start(): Promise<void> {
    this.stopped = false;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.firstConnect = null;
        reject(new Error(`cannot reach the MQTT broker at ${redact(this.opts.url)} within ${START_TIMEOUT_MS / 1000} s (${this.opts.setting ?? 'MQTT_URL'})`));
      }, START_TIMEOUT_MS);
      this.firstConnect = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.open();
    });
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  private dial(): Duplex {
    const u = new URL(this.opts.url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const servername = isIP(host) === 0 ? host : undefined;
    switch (u.protocol) {
      case 'mqtt:':
      case 'tcp:':
        // No Nagle delay: a batch's PUBACKs are one write, and the broker waits for them.
        return netConnect({ host, port: Number(u.port || 1883), noDelay: true });
      case 'mqtts:':
      case 'ssl:':
        return tlsConnect({ host, port: Number(u.port || 8883), ...(servername ? { servername } : {}), ...this.opts.tls }).setNoDelay(true);
      case 'ws:':
      case 'wss:': {
        // Credentials travel in CONNECT, not in the HTTP upgrade.
        const target = new URL(u.href);
        target.username = '';
        target.password = '';
        const ws = new WebSocket(target.href, 'mqtt', { ...this.opts.tls });
        return createWebSocketStream(ws);
      }
      default:
        throw new Error(`MQTT_URL: ${u.protocol}// is not supported (mqtt, mqtts, tcp, ssl, ws or wss)`);
    }
  }

  private open(): void {
    const { log, clientId } = this.opts;
    let stream: Duplex;
    try {
      stream = this.dial();
    } catch (err) {
      this.fail((err as Error).message, true);
      if (!this.stopped) this.scheduleReconnect();
      return;
    }
    this.connects++;
    const c: Connection = {
      stream,
      parser: mqttPacket.parser({ protocolVersion: 4 }),
      inflight: [],
      head: 0,
      held: null,
      connacked: false,
      subscribeId: -1,
      paused: false,
      closed: false,
      failed: false,
      pendingAcks: [],
      flushQueued: false,
      lastWriteAt: Date.now(),
      pingSentAt: 0,
      now: 0,
      timers: [],
      awaiting: new Map(),
    };
    this.conn = c;
    c.parser.on('packet', (p: Packet) => this.onPacket(c, p));
    c.parser.on('error', (err: Error) => this.drop(c, `protocol error from the broker: ${err.message}`));
    stream.on('data', (chunk: Buffer) => this.onData(c, chunk));
    stream.on('error', (err: Error) => {
      if (!c.closed) this.status = `error: ${err.message}`;
      log.debug({ clientId, err: err.message }, 'mqtt socket error');
    });
    stream.on('close', () => this.onClose(c));

    const u = new URL(this.opts.url);
    const connect: IConnectPacket = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      // A persistent session: what arrives while ingest is down waits in the broker [MQTT-3.1.2-4].
      clean: false,
      clientId,
      keepalive: this.keepaliveMs / 1000,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: Buffer.from(decodeURIComponent(u.password)) } : {}),
      ...(this.opts.presence ? { will: { topic: this.opts.presence.topic, payload: Buffer.from(this.opts.presence.offline), qos: 1 as const, retain: true } } : {}),
    };
    this.write(c, mqttPacket.generate(connect));
    c.timers.push(
      setTimeout(() => {
        if (!c.connacked) this.drop(c, `no CONNACK within ${CONNECT_TIMEOUT_MS / 1000} s`);
      }, CONNECT_TIMEOUT_MS),
      setInterval(() => this.keepalive(c), this.keepaliveMs / 2),
    );
  }

  private keepalive(c: Connection): void {
    if (c.closed) return;
    const now = Date.now();
    if (now - c.lastWriteAt >= this.keepaliveMs / 2) {
      this.write(c, PINGREQ);
      if (c.pingSentAt === 0) c.pingSentAt = now;
    }
    // While paused nothing is read, so silence proves nothing; resume() restarts the count.
    if (c.pingSentAt !== 0 && !c.paused && now - c.pingSentAt > this.keepaliveMs) {
      this.drop(c, `no answer from the broker within the keepalive of ${this.keepaliveMs / 1000} s`);
    }
  }

  private onClose(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    for (const t of c.timers) clearTimeout(t); // clears the keepalive interval too
    for (const done of c.awaiting.values()) done();
    c.awaiting.clear();
    c.parser.removeAllListeners('packet');
    const { log, clientId } = this.opts;
    if (c.connacked && !this.stopped) log.warn({ clientId, unacknowledged: c.inflight.length - c.head }, 'mqtt connection closed; the broker redelivers what was not acknowledged');
    if (this.conn === c) this.conn = null;
    if (this.stopped) {
      this.status = 'stopped';
      return;
    }
    if (!this.status.startsWith('error')) this.status = 'disconnected';
    this.opts.onStatus?.(false, this.status);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(this.opts.reconnectMaxMs ?? 5000, (this.opts.reconnectMinMs ?? 250) * 2 ** this.attempts);
    this.attempts++;
    // Health keeps saying why the last attempt failed while the next one is under way.
    const why = this.status.startsWith('error: ') ? ` (${this.status.slice(7)})` : '';
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.status = `reconnecting${why}`;
      this.open();
    }, delay);
  }

  /** Closes the connection without DISCONNECT: the broker keeps the session and its unacknowledged messages. */
  private drop(c: Connection, why: string): void {
    if (c.closed) return;
    this.opts.log.warn({ clientId: this.opts.clientId, why }, 'dropping the mqtt connection');
    this.status = `error: ${why}`;
    c.stream.destroy();
  }

  /** A refusal while starting rejects start(); later ones are logged and retried. */
  private fail(why: string, fatal: boolean): void {
    if (fatal && this.firstConnect) {
      const first = this.firstConnect;
      this.firstConnect = null;
      this.stopped = true;
      if (this.conn) this.conn.stream.destroy();
      first.reject(new Error(why));
      return;
    }
    this.status = `error: ${why}`;
    this.opts.log.error({ clientId: this.opts.clientId }, why);
  }

  // ---- reading ----------------------------------------------------------------------------------

  private onData(c: Connection, chunk: Buffer): void {
    c.held = c.held === null ? chunk : Buffer.concat([c.held, chunk]);
    this.pump(c);
  }

  /** Frames and decodes held bytes until they run out or the window is full. */
  private pump(c: Connection): void {
    const buf = c.held;
    if (buf === null) return;
    c.now = Date.now();
    let at = 0;
    while (at < buf.length && !c.closed) {
      // Once stopping, packets are still read (for the PUBACK of `offline`), publishes are not taken.
      if (!this.stopped && (c.failed || c.inflight.length - c.head >= this.opts.window)) {
        if (!c.paused) {
          c.paused = true;
          c.stream.pause();
        }
        break;
      }
      const n = framedLength(buf, at);
      if (n === -2) return this.drop(c, 'malformed remaining length from the broker (more than 4 bytes)');
      if (n < 0) break;
      // PUBLISH, nearly every packet, is decoded here (no copy, no parser state); the rest by mqtt-packet.
      if (buf[at]! >> 4 === 3) {
        const p = decodePublish(buf, at, n);
        if (typeof p === 'string') return this.drop(c, `malformed PUBLISH from the broker: ${p}`);
        this.onPublish(c, p);
      } else {
        c.parser.parse(buf.subarray(at, at + n));
      }
      at += n;
    }
    c.held = at >= buf.length ? null : buf.subarray(at);
  }

  private onPacket(c: Connection, p: Packet): void {
    c.pingSentAt = 0;
    switch (p.cmd) {
      case 'publish':
        // Only from mqtt-packet if pump() did not frame it; never expected.
        return this.drop(c, 'PUBLISH reached the generic parser');
      case 'connack':
        return this.onConnack(c, p.returnCode ?? 0, p.sessionPresent);
      case 'suback':
        if (p.messageId === c.subscribeId) this.onSuback(c, p.granted);
        return;
      case 'puback': {
        const done = c.awaiting.get(p.messageId ?? -1);
        if (done) {
          c.awaiting.delete(p.messageId!);
          done();
        }
        return;
      }
      case 'pingresp':
        return;
      default:
        this.opts.log.debug({ cmd: p.cmd }, 'unexpected packet from the broker, ignored');
    }
  }

  private onPublish(c: Connection, p: DecodedPublish): void {
    c.pingSentAt = 0;
    // Not taken while stopping: unacknowledged, it comes again on the next session.
    if (this.stopped) return;
    if (p.qos === 2) {
      // Cannot happen with a conforming broker: the subscription granted QoS 1 at most [MQTT-3.8.4-6].
      return this.drop(c, `the broker sent a QoS 2 message on ${p.topic.slice(0, 200)} although the subscription granted QoS 1`);
    }
    const entry: Inflight = { id: p.id, qos: p.qos, done: false };
    c.inflight.push(entry);
    this.opts.onMessage(p.topic, p.payload, c.now, (err) => this.settle(c, entry, err), p.retain);
  }

  private onConnack(c: Connection, returnCode: number, sessionPresent: boolean): void {
    const { log, clientId, url, filters } = this.opts;
    if (returnCode !== 0) {
      const why = `the MQTT broker at ${redact(url)} refused the connection (${this.opts.setting ?? 'MQTT_URL'}): ${CONNACK_REASON[returnCode] ?? `return code ${returnCode}`}`;
      this.fail(why, REFUSED_CREDENTIALS.has(returnCode));
      c.stream.destroy();
      return;
    }
    c.connacked = true;
    this.attempts = 0;
    log.info({ url: redact(url), clientId, sessionPresent }, 'mqtt connected');
    // Subscribe on every connect: cheap, and it repairs a session the broker lost. Ready once the
    // broker confirmed it: a message published before that would not reach a new session.
    c.subscribeId = this.packetId();
    this.write(c, mqttPacket.generate({ cmd: 'subscribe', messageId: c.subscribeId, subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })) }));
  }

  private onSuback(c: Connection, granted: Array<number | object>): void {
    const refused = granted.some((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos) === 0x80);
    if (refused) this.fail(`the broker refused the subscription to ${this.opts.filters.join(', ')} (check the ACL of this account)`, false);
    else this.status = 'connected';
    this.storeFailureLogged = false;
    const { presence } = this.opts;
    if (presence) void this.publishOn(c, presence.topic, presence.online);
    this.opts.onStatus?.(true, this.status);
    const first = this.firstConnect;
    this.firstConnect = null;
    first?.resolve();
  }

  // ---- acknowledging ----------------------------------------------------------------------------

  private settle(c: Connection, entry: Inflight, err: Error | undefined): void {
    // A connection that has dropped acknowledges nothing: its messages come again on the next one.
    if (c.closed || c.failed) return;
    if (err) return this.storeFailed(c, err);
    entry.done = true;
    const q = c.inflight;
    while (c.head < q.length && q[c.head]!.done) {
      const e = q[c.head++]!;
      if (e.qos === 1) c.pendingAcks.push(e.id);
    }
    if (c.head === q.length) {
      q.length = 0;
      c.head = 0;
    } else if (c.head > 4096) {
      q.splice(0, c.head);
      c.head = 0;
    }
    if (!c.flushQueued) {
      c.flushQueued = true;
      // Every settle of a batch runs in the same synchronous pass: one write for all its PUBACKs.
      queueMicrotask(() => this.flushAcks(c));
    }
  }

  private flushAcks(c: Connection): void {
    c.flushQueued = false;
    if (c.closed) return;
    const ids = c.pendingAcks;
    if (ids.length > 0) {
      c.pendingAcks = [];
      const buf = Buffer.allocUnsafe(ids.length * 4);
      for (let i = 0, o = 0; i < ids.length; i++, o += 4) {
        // PUBACK: type 4, remaining length 2, packet identifier [MQTT-3.4].
        buf[o] = 0x40;
        buf[o + 1] = 0x02;
        buf.writeUInt16BE(ids[i]!, o + 2);
      }
      this.write(c, buf);
    }
    if (c.paused && !c.failed && c.inflight.length - c.head < this.opts.window) this.resume(c);
  }

  private resume(c: Connection): void {
    c.paused = false;
    if (c.pingSentAt !== 0) c.pingSentAt = Date.now();
    this.pump(c);
    if (!c.paused && !c.closed) c.stream.resume();
  }

  private storeFailed(c: Connection, err: Error): void {
    c.failed = true;
    if (!c.paused) {
      c.paused = true;
      c.stream.pause();
    }
    const retryMs = this.opts.storeRetryMs ?? 5000;
    if (!this.storeFailureLogged) {
      this.storeFailureLogged = true;
      this.opts.log.error({ clientId: this.opts.clientId, err: err.message }, `store write failed: messages stay unacknowledged, reconnecting in ${retryMs / 1000} s for redelivery`);
    }
    c.timers.push(setTimeout(() => c.stream.destroy(), retryMs));
  }

  // ---- writing ----------------------------------------------------------------------------------

  private write(c: Connection, buf: Buffer): void {
    c.lastWriteAt = Date.now();
    c.stream.write(buf);
  }

  private packetId(): number {
    this.nextPacketId = (this.nextPacketId % 65535) + 1;
    return this.nextPacketId;
  }

  /** A retained QoS 1 publish on this connection; resolves on its PUBACK or when the connection closes. */
  private publishOn(c: Connection, topic: string, payload: string): Promise<void> {
    const messageId = this.packetId();
    return new Promise<void>((resolve) => {
      c.awaiting.set(messageId, resolve);
      this.write(c, mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false, messageId }));
    });
  }

  /**
   * Stops reading, gives ingest up to `graceMs` to settle what it holds (so fewer messages come back
   * as redeliveries), publishes the retained `offline`, and disconnects cleanly (no Last Will).
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const first = this.firstConnect;
    this.firstConnect = null;
    first?.reject(new Error(`stopped before the MQTT broker at ${redact(this.opts.url)} accepted the connection`));
    const c = this.conn;
    if (!c || c.closed) {
      this.status = 'stopped';
      return;
    }
    if (!c.paused) {
      c.paused = true;
      c.stream.pause();
    }
    const deadline = Date.now() + graceMs;
    while (c.connacked && !c.closed && !c.failed && c.inflight.length - c.head > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Let a queued PUBACK write go out first.
    await new Promise((r) => setImmediate(r));
    if (c.connacked && !c.closed && this.opts.presence) {
      const sent = this.publishOn(c, this.opts.presence.topic, this.opts.presence.offline);
      // A paused socket cannot read the PUBACK.
      c.stream.resume();
      await Promise.race([sent, new Promise((r) => setTimeout(r, graceMs))]);
    }
    if (!c.closed) {
      const closed = new Promise<void>((resolve) => c.stream.once('close', () => resolve()));
      c.stream.end(DISCONNECT);
      await Promise.race([closed, new Promise((r) => setTimeout(r, graceMs))]);
      c.stream.destroy();
    }
    this.status = 'stopped';
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
