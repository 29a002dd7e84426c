/** Publishes a message list at QoS 1 as fast as the broker takes it, with a cap on messages in flight (16-bit ids). */
import mqtt from 'mqtt';
import type { Message } from './stream.ts';

export async function publishAll(url: string, messages: Message[], opts: { inFlight?: number; clientId?: string } = {}): Promise<{ ms: number }> {
  const client = mqtt.connect(url, { protocolVersion: 4, clientId: opts.clientId ?? `bench-pub-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, clean: true, reconnectPeriod: 500 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const cap = opts.inFlight ?? 1000;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let acked = 0;
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < cap && next < messages.length) {
        const m = messages[next++]!;
        inFlight++;
        client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
          inFlight--;
          if (err) return reject(err);
          if (++acked === messages.length) resolve();
          else if (inFlight < cap / 2) pump();
        });
      }
    };
    pump();
  });
  const ms = performance.now() - t0;
  await client.endAsync();
  return { ms };
}
