/**
 * A TCP relay between an MQTT client and a real broker that decodes (with mqtt-packet) and records
 * every packet in both directions, and can cut the connections. Tests use it to see what the
 * ingest's subscriber writes on the wire (PUBACK order, PINGREQs, DUP redeliveries) against a real
 * Mosquitto; it changes no byte.
 */
import { createServer, connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface TappedPacket {
  /** 1 for the first connection through the tap, 2 for the next, ... */
  conn: number;
  /** `up`: client to broker; `down`: broker to client. */
  dir: 'up' | 'down';
  packet: Packet;
}

export interface Tap {
  url: string;
  packets: TappedPacket[];
  /** Connections accepted so far. */
  connections(): number;
  /** Destroys every open connection on both sides, without DISCONNECT (a network failure). */
  cut(): void;
  close(): Promise<void>;
}

export async function startTap(brokerPort: number): Promise<Tap> {
  const packets: TappedPacket[] = [];
  const open = new Set<Socket>();
  let count = 0;
  const server = createServer((client) => {
    const conn = ++count;
    const upstream = connect({ host: '127.0.0.1', port: brokerPort });
    open.add(client);
    open.add(upstream);
    const record = (dir: 'up' | 'down'): ((b: Buffer) => void) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (packet: Packet) => packets.push({ conn, dir, packet }));
      return (b) => parser.parse(b);
    };
    const up = record('up');
    const down = record('down');
    // Flow control stays end to end: when one side stops reading, the relay stops reading the other.
    client.on('data', (b: Buffer) => {
      up(b);
      if (!upstream.write(b)) client.pause();
    });
    upstream.on('data', (b: Buffer) => {
      down(b);
      if (!client.write(b)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    upstream.on('drain', () => client.resume());
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const cut = (): void => {
    for (const s of [...open]) s.destroy();
    open.clear();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    packets,
    connections: () => count,
    cut,
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
