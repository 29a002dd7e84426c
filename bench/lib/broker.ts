/**
 * Mosquitto's limits as the shipped mosquitto.conf sets them (max_inflight_messages and the queue
 * sizes), so every benchmark runs the broker as deployed and follows the file when it changes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CONF = fileURLToPath(new URL('../../mosquitto.conf', import.meta.url));
const KEYS = ['max_inflight_messages', 'max_queued_messages', 'max_queued_bytes'];

/** The lines of mosquitto.conf that set those limits, for `startMosquitto({ extraConfig })`. */
export function deploymentBrokerSettings(): string {
  const lines = readFileSync(CONF, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => KEYS.includes(l.split(/\s+/)[0] ?? ''));
  for (const k of KEYS) if (!lines.some((l) => l.startsWith(`${k} `))) throw new Error(`mosquitto.conf does not set ${k}`);
  return lines.join('\n');
}

/** The shipped max_inflight_messages, for the bench text. */
export function deploymentMaxInflight(): number {
  return Number(/^max_inflight_messages (\d+)/m.exec(deploymentBrokerSettings())?.[1]);
}
