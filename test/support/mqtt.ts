/** MQTT helpers for tests: a QoS 1 publisher that caps in-flight messages, and a collecting subscriber. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';

const exec = promisify(execFile);

export async function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 200, connectTimeout: 5000, ...opts });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

export async function publish(client: MqttClient, topic: string, payload: string | object | Buffer, qos: 0 | 1 = 1, retain = false): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  await client.publishAsync(topic, body, { qos, retain });
}

/** Publishes with Mosquitto's own command-line client. */
export async function mosquittoPub(url: string, topic: string, message: string, extra: string[] = []): Promise<void> {
  const u = new URL(url);
  const args = ['-h', u.hostname, '-p', u.port, '-q', '1', '-t', topic, '-m', message, ...extra];
  if (u.username) args.push('-u', decodeURIComponent(u.username), '-P', decodeURIComponent(u.password));
  await exec('mosquitto_pub', args);
}

export interface Collector {
  client: MqttClient;
  messages: Array<{ topic: string; payload: string; retain: boolean }>;
  waitFor(pred: (m: { topic: string; payload: string; retain: boolean }) => boolean, timeoutMs?: number): Promise<{ topic: string; payload: string; retain: boolean }>;
  close(): Promise<void>;
}

export async function collect(url: string, filter: string, opts: mqtt.IClientOptions = {}): Promise<Collector> {
  const client = await connect(url, opts);
  const messages: Collector['messages'] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain });
    for (const w of waiters) w();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    messages,
    waitFor(pred, timeoutMs = 10_000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = messages.find(pred);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message on ${filter} within ${timeoutMs} ms; got ${messages.length}: ${messages.slice(-5).map((m) => m.topic).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () => client.endAsync(),
  };
}

/** Polls until `fn` returns a truthy value. For waiting on asynchronous effects, not for timing. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
