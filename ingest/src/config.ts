/**
 * Settings (docs/api.md, settings and extensions), parsed and validated once at start-up. Nothing else
 * reads process.env. A bad value stops start-up with a message naming the setting and what is allowed.
 */
import { createECDH } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CHIRPSTACK_UPLINK_FILTER, filterProblem, ID_PATTERN, TTS_UPLINK_FILTER } from '@parkops/contract/topics.ts';

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

/** An MQTT subscription filter, or `off` (null) to read nothing from that network server. */
const uplinkFilter = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((v) => v === 'off' || filterProblem(v) === null, 'must be an MQTT topic filter (e.g. application/+/device/+/event/up) or off')
    .transform((v) => (v === 'off' ? null : v));

/** A number of days: 0 (keep for good) or `min`..36500. */
const retentionDays = (min: number, fallback: number) =>
  z.coerce
    .number({ message: `must be 0 (keep for good) or a whole number of days ${min}..36500` })
    .int(`must be 0 (keep for good) or a whole number of days ${min}..36500`)
    .refine((v) => v === 0 || (v >= min && v <= 36_500), `must be 0 (keep for good) or a whole number of days ${min}..36500`)
    .default(fallback);

const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  MQTT_URL: url(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']).optional(),
  MQTT_PORT: port.default(1883),
  /** Embedded broker's address; default 127.0.0.1, or 0.0.0.0 when MQTT_PASSWORD_FILE makes it authenticated (see loadConfig). */
  MQTT_BIND: z.string().trim().min(1).optional(),
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
  /**
   * PostgreSQL for everything relational (and the time series unless PARKOPS_STORE=influxdb); several
   * processes on one database and one broker form one system with one leader (docs/scale-out.md).
   */
  PARKOPS_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  INFLUX_URL: url(['http:', 'https:']).optional(),
  INFLUX_DATABASE: z.string().trim().min(1).optional(),
  INFLUX_TOKEN: z.string().trim().optional(),
  PARKOPS_SIMULATE: bool.default(false),
  PARKOPS_SIM_SPEED: z.coerce.number({ message: 'must be a positive number' }).positive('must be a positive number').default(1),
  /**
   * With PARKOPS_SIM_SPEED above 1, the simulated clock starts this many hours in the past and runs at
   * that speed until it reaches now, then live: readings may never be stamped ahead of the wall clock.
   * 4 hours is the storm scenario's length, so speed 60 plays a whole storm in about four minutes.
   */
  PARKOPS_SIM_CATCH_UP_HOURS: z.coerce.number({ message: 'must be a number of hours 0.1..744' }).min(0.1, 'must be a number of hours 0.1..744').max(744, 'must be a number of hours 0.1..744').default(4),
  PARKOPS_SIM_SEED: z.coerce.number({ message: 'must be a whole number' }).int('must be a whole number').optional(),
  PARKOPS_SIM_SCENARIOS: z.string().trim().optional(),
  PARKOPS_ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').optional(),
  /** `auto`: Secure cookies when the request came over HTTPS (directly or X-Forwarded-Proto behind a trusted proxy). */
  PARKOPS_SECURE_COOKIES: z.enum(['auto', 'always', 'never']).default('auto'),
  PARKOPS_TRUST_PROXY: bool.default(false),
  /**
   * Sliding sessions: each use renews a session, which ends after this many days unused, and in any
   * case PARKOPS_SESSION_MAX_DAYS after sign-in. A responder's phone must still be signed in on the
   * night of a flood weeks after its last use (docs/security.md, "Sessions").
   */
  PARKOPS_SESSION_IDLE_DAYS: z.coerce.number({ message: 'must be a number of days 0.01..400' }).min(0.01, 'must be a number of days 0.01..400').max(400, 'must be a number of days 0.01..400').default(30),
  PARKOPS_SESSION_MAX_DAYS: z.coerce.number({ message: 'must be a number of days 0.01..400' }).min(0.01, 'must be a number of days 0.01..400').max(400, 'must be a number of days 0.01..400').default(90),
  /** Admin sessions end sooner when unused: the admin role runs code through the Node-RED editor. */
  PARKOPS_ADMIN_SESSION_IDLE_HOURS: z.coerce.number({ message: 'must be a number of hours 0.1..9600' }).min(0.1, 'must be a number of hours 0.1..9600').max(9600, 'must be a number of hours 0.1..9600').default(12),
  /** Replaced by the three settings above; set, it stops start-up (see loadConfig) rather than being ignored. */
  PARKOPS_SESSION_HOURS: z.string().optional(),
  PARKOPS_NODE_RED: bool.default(true),
  PARKOPS_WEBHOOK_URL: url(['http:', 'https:']).optional(),
  PARKOPS_WEBHOOK_FORMAT: z.enum(['auto', 'wecom', 'dingtalk', 'json']).default('auto'),
  /**
   * Official weather warnings: a URL polled for CAP 1.2 (one document, or an RSS/Atom feed linking to
   * CAP documents; docs/warnings.md), and how often. Unset: warnings come only by HTTP and MQTT.
   */
  PARKOPS_CAP_FEED_URL: url(['http:', 'https:']).optional(),
  PARKOPS_CAP_FEED_INTERVAL_SEC: z.coerce
    .number({ message: 'must be a number of seconds 15..86400' })
    .int('must be a whole number of seconds 15..86400')
    .min(15, 'must be a number of seconds 15..86400')
    .max(86_400, 'must be a number of seconds 15..86400')
    .default(120),
  /**
   * The monthly PDF's Chinese font: a .ttf/.otf file, or `file.ttc#PostScriptName` for a collection.
   * Unset: Debian's fonts-noto-cjk (or another known system path) is used.
   */
  PARKOPS_PDF_FONT: z.string().trim().min(1).optional(),
  /** Deadline of every Modbus TCP connect and request; a peer that misses it is retried with backoff. */
  PARKOPS_MODBUS_TIMEOUT_MS: z.coerce.number({ message: 'must be a number of milliseconds 50..60000' }).int('must be a whole number of milliseconds').min(50, 'must be a number of milliseconds 50..60000').max(60_000, 'must be a number of milliseconds 50..60000').default(1000),
  /** Cap of the exponential backoff (1 s, 2 s, 4 s, ...) between retries of a Modbus peer that stopped answering. */
  PARKOPS_MODBUS_RETRY_MAX_SEC: z.coerce.number({ message: 'must be a number of seconds 1..3600' }).min(1, 'must be a number of seconds 1..3600').max(3600, 'must be a number of seconds 1..3600').default(30),
  /**
   * LoRaWAN network servers (docs/api.md, LoRaWAN). Unset: uplinks are read on ParkOps' own broker.
   * Set: from this broker instead (a network server usually runs its own Mosquitto), with a persistent
   * session of its own and the same acknowledge-after-commit as device messages.
   */
  LORAWAN_MQTT_URL: url(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']).optional(),
  LORAWAN_MQTT_CLIENT_ID: z.string().trim().regex(ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}').default('parkops-lorawan'),
  LORAWAN_CHIRPSTACK_TOPIC: uplinkFilter(CHIRPSTACK_UPLINK_FILTER),
  LORAWAN_TTS_TOPIC: uplinkFilter(TTS_UPLINK_FILTER),
  /** `chirpstack`: the simulated park's LoRaWAN devices speak as a ChirpStack v4 network server (docs/devices.md). */
  PARKOPS_SIM_LORAWAN: z.enum(['off', 'chirpstack'], { message: 'must be off or chirpstack' }).default('off'),
  // Group robots with their own channel (notify/channels/): each gets every alert change the core sends,
  // signed at send time when a secret is set. WeCom's webhook key URL has no signing option.
  PARKOPS_WECOM_URL: url(['http:', 'https:']).optional(),
  PARKOPS_DINGTALK_URL: url(['http:', 'https:']).optional(),
  PARKOPS_DINGTALK_SECRET: z.string().trim().min(1).optional(),
  PARKOPS_FEISHU_URL: url(['http:', 'https:']).optional(),
  PARKOPS_FEISHU_SECRET: z.string().trim().min(1).optional(),
  /** Web Push (VAPID, RFC 8292). Unset keys: a pair is generated once and kept in the data folder. */
  PARKOPS_VAPID_PUBLIC_KEY: z.string().trim().optional(),
  PARKOPS_VAPID_PRIVATE_KEY: z.string().trim().optional(),
  PARKOPS_VAPID_SUBJECT: z
    .string()
    .trim()
    .refine((v) => /^mailto:[^@\s]+@[^@\s]+$/.test(v) || /^https:\/\/[^\s/]+/.test(v), 'must be a mailto: address or an https:// URL (push services use it to contact the operator)')
    .default('mailto:parkops-admin@example.com'),
  /**
   * Retention (docs/operations.md). Raw readings are kept this many days (0: for good); the report
   * rollups are kept for good whatever this says, so long reports keep working after raw rows go.
   */
  PARKOPS_RETENTION_DAYS: retentionDays(2, 400),
  /** Resolved and acknowledged alerts, ended incidents, the audit log and notification attempts (0: for good). */
  PARKOPS_RETENTION_EVENTS_DAYS: retentionDays(30, 1825),
  /** Bodies of sent or given-up notifications are emptied after this many days; the attempt rows stay (0: never). */
  PARKOPS_RETENTION_NOTIFY_BODY_DAYS: retentionDays(1, 30),
  /**
   * TEST ONLY, never in a deployment: SIGKILL the process right after its n-th ingest commit, before
   * that batch is acknowledged, to prove redelivery after a crash between commit and PUBACK.
   */
  PARKOPS_TEST_CRASH_AFTER_COMMIT: z.coerce.number({ message: 'must be a whole number >= 1 (test only)' }).int('must be a whole number >= 1 (test only)').min(1, 'must be a whole number >= 1 (test only)').optional(),
  /**
   * Hosts that phone push subscriptions may point at besides the browsers' push services (FCM, Mozilla,
   * Apple, Windows): comma-separated names or `*.domain` patterns, e.g. a push relay on this machine
   * (127.0.0.1). Anything else is refused, so a responder account cannot make ParkOps POST anywhere.
   */
  PARKOPS_PUSH_ALLOW_HOSTS: z
    .string()
    .trim()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''))
    .refine((hosts) => hosts.every((h) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h) || isIPv4(h) || /^\[[0-9a-f:.]+\]$/.test(h)), 'must be comma-separated host names, *.domain patterns or IP addresses (IPv6 in brackets)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = Omit<z.infer<typeof schema>, 'MQTT_BIND' | 'PARKOPS_SESSION_HOURS'> & { MQTT_BIND: string; dataDir: string };

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form), localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

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
  if (c.PARKOPS_DATABASE_URL !== undefined && c.MQTT_URL === undefined) {
    // Every process would run its own embedded broker, and devices publish to one: the others would
    // never see a message. Processes on one database share one external broker.
    throw new ConfigError('bad setting: MQTT_URL: required when PARKOPS_DATABASE_URL is set (the processes on one database share one broker)');
  }
  if ((c.MQTT_PASSWORD_FILE || c.MQTT_ACL_FILE) && c.MQTT_URL) {
    throw new ConfigError('bad setting: MQTT_PASSWORD_FILE/MQTT_ACL_FILE configure the embedded broker; with MQTT_URL set, configure your broker instead');
  }
  for (const [secret, target] of [
    ['PARKOPS_DINGTALK_SECRET', 'PARKOPS_DINGTALK_URL'],
    ['PARKOPS_FEISHU_SECRET', 'PARKOPS_FEISHU_URL'],
  ] as const) {
    if (c[secret] !== undefined && c[target] === undefined) throw new ConfigError(`bad setting: ${secret}: set ${target} too (the secret signs messages to that robot)`);
  }
  if (c.PARKOPS_SESSION_HOURS !== undefined) {
    // Silently ignoring it could turn a short session someone chose into a 30-day one.
    throw new ConfigError(
      'bad setting: PARKOPS_SESSION_HOURS: sessions now slide; it was replaced by PARKOPS_SESSION_IDLE_DAYS (default 30), PARKOPS_SESSION_MAX_DAYS (default 90) and PARKOPS_ADMIN_SESSION_IDLE_HOURS (default 12); remove it and set those instead',
    );
  }
  if (c.PARKOPS_SESSION_IDLE_DAYS > c.PARKOPS_SESSION_MAX_DAYS) {
    throw new ConfigError(`bad setting: PARKOPS_SESSION_IDLE_DAYS: ${c.PARKOPS_SESSION_IDLE_DAYS} is longer than PARKOPS_SESSION_MAX_DAYS (${c.PARKOPS_SESSION_MAX_DAYS}); a session cannot stay idle longer than it may live`);
  }
  const vapidProblem = checkVapidPair(c.PARKOPS_VAPID_PUBLIC_KEY, c.PARKOPS_VAPID_PRIVATE_KEY);
  if (vapidProblem) throw new ConfigError(`bad setting: ${vapidProblem}`);
  for (const key of ['LORAWAN_CHIRPSTACK_TOPIC', 'LORAWAN_TTS_TOPIC'] as const) {
    const first = c[key]?.split('/')[0];
    // Uplink topics must not reach into ParkOps' own tree: those are parsed as device messages.
    if (first === '#' || first === '+' || (first !== undefined && first === c.MQTT_TOPIC_PREFIX.split('/')[0])) {
      throw new ConfigError(`bad setting: ${key}: must not cover ParkOps' own topics under ${c.MQTT_TOPIC_PREFIX}/; start it with the network server's first topic level`);
    }
  }
  if (c.LORAWAN_MQTT_URL !== undefined && c.LORAWAN_MQTT_URL === c.MQTT_URL && c.LORAWAN_MQTT_CLIENT_ID === c.MQTT_CLIENT_ID) {
    throw new ConfigError('bad setting: LORAWAN_MQTT_CLIENT_ID: must differ from MQTT_CLIENT_ID when both connect to the same broker');
  }
  // The embedded broker without a password file takes anonymous publishes: anyone who reaches it can
  // mark sensors offline or publish a water level. So it listens beyond this machine only with passwords.
  const bind = c.MQTT_BIND ?? (c.MQTT_PASSWORD_FILE ? '0.0.0.0' : '127.0.0.1');
  if (!c.MQTT_URL && !c.MQTT_PASSWORD_FILE && !isLoopback(bind)) {
    throw new ConfigError(
      `bad setting: MQTT_BIND: ${bind} is not a loopback address, and without MQTT_PASSWORD_FILE the embedded broker lets anyone on the network publish; set MQTT_PASSWORD_FILE (a mosquitto_passwd file, ideally with MQTT_ACL_FILE) or leave MQTT_BIND unset to listen on 127.0.0.1 only`,
    );
  }
  return { ...c, MQTT_BIND: bind, dataDir: resolve(c.PARKOPS_DATA_DIR) };
}

/**
 * VAPID keys as `web-push generate-vapid-keys` prints them: base64url, the public key an uncompressed
 * P-256 point (65 bytes, 0x04 first), the private key the 32-byte scalar. Both or neither, and the
 * public key must be the private key's, or every push service refuses the signature.
 */
function checkVapidPair(publicKey: string | undefined, privateKey: string | undefined): string | null {
  if (publicKey === undefined && privateKey === undefined) return null;
  if (publicKey === undefined) return 'PARKOPS_VAPID_PUBLIC_KEY: set it too, or unset PARKOPS_VAPID_PRIVATE_KEY to let ParkOps keep a generated pair in the data folder';
  if (privateKey === undefined) return 'PARKOPS_VAPID_PRIVATE_KEY: set it too, or unset PARKOPS_VAPID_PUBLIC_KEY to let ParkOps keep a generated pair in the data folder';
  const b64url = /^[A-Za-z0-9_-]+$/;
  const pub = b64url.test(publicKey) ? Buffer.from(publicKey, 'base64url') : Buffer.alloc(0);
  if (pub.length !== 65 || pub[0] !== 4) return 'PARKOPS_VAPID_PUBLIC_KEY: must be a base64url uncompressed P-256 public key (65 bytes, 87 characters)';
  const priv = b64url.test(privateKey) ? Buffer.from(privateKey, 'base64url') : Buffer.alloc(0);
  if (priv.length !== 32) return 'PARKOPS_VAPID_PRIVATE_KEY: must be a base64url P-256 private key (32 bytes, 43 characters)';
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    if (!ecdh.getPublicKey().equals(pub)) return 'PARKOPS_VAPID_PUBLIC_KEY: is not the public key of PARKOPS_VAPID_PRIVATE_KEY';
  } catch {
    return 'PARKOPS_VAPID_PRIVATE_KEY: is not a valid P-256 private key';
  }
  return null;
}
