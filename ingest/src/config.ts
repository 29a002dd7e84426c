/**
 * Settings (CONTRACT.md section 5 and extensions), parsed and validated once at start-up. Nothing else
 * reads process.env. A bad value stops start-up with a message naming the setting and what is allowed.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ID_PATTERN } from './contract/topics.ts';

/** MQTT_INGEST_WINDOW's default: half the shipped mosquitto.conf's max_inflight_messages (docs/reliability.md says why). */
export const DEFAULT_INGEST_WINDOW = 4000;

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(v), 'must be true or false')
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const port = z.coerce.number({ message: 'must be a port number 1..65535' }).int('must be a whole number').min(1, 'must be a port number 1..65535').max(65535, 'must be a port number 1..65535');
const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  MQTT_URL: url(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']).optional(),
  MQTT_PORT: port.default(1883),
  MQTT_BIND: z.string().trim().min(1).default('0.0.0.0'),
  MQTT_TOPIC_PREFIX: z.string().trim().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'must be one or more topic levels of [A-Za-z0-9_-], without wildcards or a trailing slash').default('park'),
  /**
   * Connections in a `$share` group for an external broker (1 = a plain subscription, the default).
   * More connections raise the ingest rate, but Mosquitto 2.0.11 was seen to lose shared-subscription
   * messages queued for offline sessions across a broker restart (test/chaos/shared-subscription.test.ts),
   * so only use it where a broker restart may not lose acknowledged readings.
   */
  MQTT_CONNECTIONS: z.coerce.number({ message: 'must be a whole number 1..16' }).int('must be a whole number 1..16').min(1, 'must be a whole number 1..16').max(16, 'must be a whole number 1..16').default(1),
  /**
   * QoS 1 messages the ingest holds unacknowledged per connection, to commit them together. Beyond it
   * the ingest stops reading and the broker keeps the rest. The broker's max_inflight_messages should
   * be twice this (the shipped mosquitto.conf: 8000), so it sends the next window while one commits.
   */
  MQTT_INGEST_WINDOW: z.coerce
    .number({ message: 'must be a whole number 1..65535' })
    .int('must be a whole number 1..65535')
    .min(1, 'must be a whole number 1..65535')
    .max(65535, 'must be a whole number 1..65535 (MQTT packet ids are 16-bit)')
    .default(DEFAULT_INGEST_WINDOW),
  MQTT_CLIENT_ID: z.string().trim().regex(ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}').default('parkops-ingest'),
  /** Embedded broker only: mosquitto-style password file and ACL file; when set, the embedded broker enforces them. */
  MQTT_PASSWORD_FILE: z.string().trim().min(1).optional(),
  MQTT_ACL_FILE: z.string().trim().min(1).optional(),
  PARKOPS_SITE: z.string().trim().min(1).optional(),
  PARKOPS_DATA_DIR: z.string().trim().min(1).default('./data'),
  PARKOPS_STORE: z.enum(['sqlite', 'influxdb'], { message: 'must be sqlite or influxdb' }).default('sqlite'),
  /**
   * `full` (the default) fsyncs the WAL at every commit, so an acknowledged reading survives power
   * loss too; `normal` only survives a crash of the process. With batched commits FULL measured at
   * the rate of NORMAL (docs/benchmarks.md), so the stronger promise is the default.
   */
  PARKOPS_SQLITE_SYNC: z.enum(['normal', 'full'], { message: 'must be normal or full' }).default('full'),
  INFLUX_URL: url(['http:', 'https:']).optional(),
  INFLUX_DATABASE: z.string().trim().min(1).optional(),
  INFLUX_TOKEN: z.string().trim().optional(),
  PARKOPS_SIMULATE: bool.default(false),
  PARKOPS_SIM_SPEED: z.coerce.number({ message: 'must be a positive number' }).positive('must be a positive number').default(1),
  PARKOPS_SIM_SEED: z.coerce.number({ message: 'must be a whole number' }).int('must be a whole number').optional(),
  PARKOPS_SIM_SCENARIOS: z.string().trim().optional(),
  PARKOPS_ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').optional(),
  /** `auto`: Secure cookies when the request came over HTTPS (directly or X-Forwarded-Proto behind a trusted proxy). */
  PARKOPS_SECURE_COOKIES: z.enum(['auto', 'always', 'never']).default('auto'),
  PARKOPS_TRUST_PROXY: bool.default(false),
  PARKOPS_SESSION_HOURS: z.coerce.number({ message: 'must be a number of hours' }).positive('must be a positive number of hours').max(24 * 30).default(12),
  PARKOPS_NODE_RED: bool.default(true),
  PARKOPS_WEBHOOK_URL: url(['http:', 'https:']).optional(),
  PARKOPS_WEBHOOK_FORMAT: z.enum(['auto', 'wecom', 'dingtalk', 'json']).default('auto'),
  /**
   * TEST ONLY, never in a deployment: SIGKILL the process right after its n-th ingest commit, before
   * that batch is acknowledged, to prove redelivery after a crash between commit and PUBACK.
   */
  PARKOPS_TEST_CRASH_AFTER_COMMIT: z.coerce.number({ message: 'must be a whole number >= 1 (test only)' }).int('must be a whole number >= 1 (test only)').min(1, 'must be a whole number >= 1 (test only)').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & { dataDir: string };

export class ConfigError extends Error {}

/** Reads `.env` from the working directory (without overriding the environment), then validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { dotenv?: boolean } = {}): Config {
  if (opts.dotenv !== false && existsSync('.env')) {
    try {
      process.loadEnvFile('.env');
    } catch (err) {
      throw new ConfigError(`.env: cannot be read (${(err as Error).message})`);
    }
  }
  // Empty strings mean "unset", as in docker-compose files with `FOO=`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const msgs = parsed.error.issues.map((i) => `${String(i.path[0] ?? 'setting')}: ${i.message}`);
    throw new ConfigError(`bad setting: ${msgs.join('; ')}`);
  }
  const c = parsed.data;
  if (c.PARKOPS_STORE === 'influxdb') {
    const missing = (['INFLUX_URL', 'INFLUX_DATABASE'] as const).filter((k) => c[k] === undefined);
    if (missing.length > 0) throw new ConfigError(`bad setting: ${missing.join(', ')}: required when PARKOPS_STORE=influxdb`);
  }
  if ((c.MQTT_PASSWORD_FILE || c.MQTT_ACL_FILE) && c.MQTT_URL) {
    throw new ConfigError('bad setting: MQTT_PASSWORD_FILE/MQTT_ACL_FILE configure the embedded broker; with MQTT_URL set, configure your broker instead');
  }
  return { ...c, dataDir: resolve(c.PARKOPS_DATA_DIR) };
}
