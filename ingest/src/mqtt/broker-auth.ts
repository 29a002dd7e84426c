/**
 * Access control for the embedded aedes broker, from the same files Mosquitto reads: a password file
 * written by `mosquitto_passwd` and an `acl_file`. With MQTT_PASSWORD_FILE/MQTT_ACL_FILE set, the
 * embedded broker enforces the rules the deployment's Mosquitto enforces (mosquitto.conf, mosquitto/acl).
 *
 * Behaviour, checked against Mosquitto 2.0.11 (test/integration/access-mqtt.test.ts):
 * - No credentials or wrong ones: CONNACK "not authorized" (return code 5), as Mosquitto 2 answers both.
 * - A publish to a topic the account may not write is never delivered. Mosquitto (MQTT 3.1.1) still
 *   PUBACKs and drops it; aedes has no silent-drop path, so the embedded broker closes the connection,
 *   which [MQTT-3.3.5-2] allows ("either make a positive acknowledgement ... or close the Network
 *   Connection"). Either way nothing reaches a subscriber or the store.
 * - Mosquitto grants every SUBSCRIBE and filters on delivery by `read` rights; here a filter no read
 *   rule can ever match is refused in the SUBACK (0x80), and overlapping ones (`#` for a reader of
 *   `park/#`) are granted and filtered per message in `authorizeForward`, so the outcome is the same.
 * - Messages the broker itself publishes (client null: the ingest publishing in-process) are allowed.
 *
 * Password hashes: `$7$` (PBKDF2-HMAC-SHA512, mosquitto_passwd's default since 2.0) and `$6$`
 * (salted SHA-512, Mosquitto 1.6 and earlier). Files are read once, at load; restart to reload (a
 * Mosquitto reloads on SIGHUP).
 */
import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';

type AuthenticateHandler = NonNullable<AedesOptions['authenticate']>;
type AuthorizePublishHandler = NonNullable<AedesOptions['authorizePublish']>;
type AuthorizeSubscribeHandler = NonNullable<AedesOptions['authorizeSubscribe']>;
type AuthorizeForwardHandler = NonNullable<AedesOptions['authorizeForward']>;

const pbkdf2Async = promisify(pbkdf2);

export class BrokerAuthError extends Error {}

// ---------------------------------------------------------------------------------------------
// Password file

type PasswordHash =
  | { kind: 'pbkdf2-sha512'; iterations: number; salt: Buffer; hash: Buffer }
  | { kind: 'sha512'; salt: Buffer; hash: Buffer };

export function parsePasswordFile(text: string, file = 'password file'): Map<string, PasswordHash> {
  const users = new Map<string, PasswordHash>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file} line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BrokerAuthError(`${where}: expected username:hash`);
    const username = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const parts = hash.split('$');
    // "$7$101$salt$hash".split('$') -> ['', '7', '101', 'salt', 'hash']
    if (parts[0] === '' && parts[1] === '7' && parts.length === 5) {
      const iterations = Number(parts[2]);
      if (!Number.isInteger(iterations) || iterations < 1) throw new BrokerAuthError(`${where}: bad iteration count in $7$ hash`);
      users.set(username, { kind: 'pbkdf2-sha512', iterations, salt: Buffer.from(parts[3]!, 'base64'), hash: Buffer.from(parts[4]!, 'base64') });
    } else if (parts[0] === '' && parts[1] === '6' && parts.length === 4) {
      users.set(username, { kind: 'sha512', salt: Buffer.from(parts[2]!, 'base64'), hash: Buffer.from(parts[3]!, 'base64') });
    } else {
      throw new BrokerAuthError(`${where}: unsupported hash for "${username}" (expected a $7$ or $6$ hash written by mosquitto_passwd; plain-text passwords are not accepted)`);
    }
  });
  return users;
}

// A fixed entry to hash against for unknown users, so that "no such user" costs the same as a wrong password.
const DUMMY: PasswordHash = { kind: 'pbkdf2-sha512', iterations: 101, salt: Buffer.alloc(12), hash: Buffer.alloc(64) };

export async function verifyMosquittoPassword(entry: PasswordHash, password: Buffer): Promise<boolean> {
  let computed: Buffer;
  if (entry.kind === 'pbkdf2-sha512') {
    computed = await pbkdf2Async(password, entry.salt, entry.iterations, entry.hash.length, 'sha512');
  } else {
    // Mosquitto's pw__digest for $6$: SHA-512 over the password followed by the raw salt.
    computed = createHash('sha512').update(password).update(entry.salt).digest();
  }
  return computed.length === entry.hash.length && entry.hash.length > 0 && timingSafeEqual(computed, entry.hash);
}

// ---------------------------------------------------------------------------------------------
// ACL file

type Access = 'read' | 'write' | 'readwrite' | 'deny';
interface AclRule {
  access: Access;
  topic: string;
}
export interface Acl {
  /** `topic` lines before any `user` line: anonymous clients (Mosquitto semantics). */
  anonymous: AclRule[];
  users: Map<string, AclRule[]>;
  /** `pattern` lines, for every client, with %u (username) and %c (client id) substituted. */
  patterns: AclRule[];
}

export function parseAclFile(text: string, file = 'ACL file'): Acl {
  const acl: Acl = { anonymous: [], users: new Map(), patterns: [] };
  let current: AclRule[] = acl.anonymous;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file} line ${i + 1}`;
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword === 'user') {
      const name = line.slice('user'.length).trim();
      if (name === '') throw new BrokerAuthError(`${where}: "user" needs a username`);
      current = acl.users.get(name) ?? [];
      acl.users.set(name, current);
      return;
    }
    if (keyword !== 'topic' && keyword !== 'pattern') throw new BrokerAuthError(`${where}: expected "user", "topic" or "pattern", got "${keyword}"`);
    let access: Access = 'readwrite';
    let topicParts = rest;
    if (rest[0] === 'read' || rest[0] === 'write' || rest[0] === 'readwrite' || rest[0] === 'deny') {
      access = rest[0];
      topicParts = rest.slice(1);
    }
    // Mosquitto allows spaces in topics: everything after the access word is the topic.
    const topic = topicParts.join(' ');
    if (topic === '') throw new BrokerAuthError(`${where}: "${keyword}" needs a topic`);
    (keyword === 'pattern' ? acl.patterns : current).push({ access, topic });
  });
  return acl;
}

/** MQTT topic filter matching (MQTT 3.1.1 section 4.7), including [MQTT-4.7.2-1]: wildcards at the first level do not match `$` topics. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether some topic could match both filters (a subscription that a read rule could ever serve). */
export function filtersIntersect(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  if ((a.startsWith('$') && (y[0] === '#' || y[0] === '+')) || (b.startsWith('$') && (x[0] === '#' || x[0] === '+'))) return false;
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}

function rulesFor(acl: Acl, username: string | undefined, clientId: string): AclRule[] {
  const own = username === undefined ? acl.anonymous : (acl.users.get(username) ?? []);
  const patterns = acl.patterns.map((r) => ({ access: r.access, topic: r.topic.replaceAll('%u', username ?? '').replaceAll('%c', clientId) }));
  // Mosquitto skips %u patterns for anonymous clients and for usernames with wildcards or slashes.
  const safePatterns = patterns.filter((_, i) => {
    const raw = acl.patterns[i]!.topic;
    if (raw.includes('%u') && (username === undefined || /[+#/]/.test(username))) return false;
    if (raw.includes('%c') && /[+#/]/.test(clientId)) return false;
    return true;
  });
  return [...own, ...safePatterns];
}

/** Mosquitto's order: any matching `deny` wins; then any rule granting the access. */
export function aclAllows(acl: Acl, username: string | undefined, clientId: string, topic: string, want: 'read' | 'write'): boolean {
  const rules = rulesFor(acl, username, clientId);
  if (rules.some((r) => r.access === 'deny' && topicMatches(r.topic, topic))) return false;
  return rules.some((r) => (r.access === want || r.access === 'readwrite') && topicMatches(r.topic, topic));
}

function aclMaySubscribe(acl: Acl, username: string | undefined, clientId: string, filter: string): boolean {
  const rules = rulesFor(acl, username, clientId);
  return rules.some((r) => (r.access === 'read' || r.access === 'readwrite') && filtersIntersect(r.topic, filter));
}

// ---------------------------------------------------------------------------------------------
// aedes hooks

export interface BrokerAuth {
  authenticate: AuthenticateHandler;
  authorizePublish: AuthorizePublishHandler;
  authorizeSubscribe: AuthorizeSubscribeHandler;
  /** Filters deliveries by `read` rights; pass it to aedes too, or an overlapping subscription (`#`) reads everything. */
  authorizeForward: AuthorizeForwardHandler;
  /** Accounts in the password file (for start-up logging). */
  readonly users: string[];
}

function notAuthorized(message: string): AuthenticateError {
  // AuthErrorCode.NOT_AUTHORIZED; a `const enum` cannot be read at runtime under isolatedModules.
  return Object.assign<Error, { returnCode: 5 }>(new Error(message), { returnCode: 5 });
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new BrokerAuthError(`${what} ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Builds the aedes hooks. Without a password file anyone may connect and the ACL (if any) could only
 * trust a claimed username, so an ACL file alone is refused.
 */
export function loadBrokerAuth(passwordFile?: string, aclFile?: string): BrokerAuth {
  if (aclFile !== undefined && passwordFile === undefined) {
    throw new BrokerAuthError('MQTT_ACL_FILE needs MQTT_PASSWORD_FILE: without verified usernames the ACL cannot tell clients apart');
  }
  const passwords = passwordFile === undefined ? undefined : parsePasswordFile(readText(passwordFile, 'MQTT_PASSWORD_FILE'), passwordFile);
  const acl = aclFile === undefined ? undefined : parseAclFile(readText(aclFile, 'MQTT_ACL_FILE'), aclFile);
  const usernames = new WeakMap<Client, string>();

  const authenticate: AuthenticateHandler = (client, username, password, done) => {
    if (passwords === undefined) {
      if (username !== undefined) usernames.set(client, username);
      done(null, true);
      return;
    }
    if (username === undefined || password === undefined) {
      done(notAuthorized('not authorized: credentials required'), false);
      return;
    }
    const entry = passwords.get(username);
    verifyMosquittoPassword(entry ?? DUMMY, password).then(
      (ok) => {
        if (ok && entry !== undefined) {
          usernames.set(client, username);
          done(null, true);
        } else {
          done(notAuthorized('not authorized: bad username or password'), false);
        }
      },
      () => done(notAuthorized('not authorized: password check failed'), false),
    );
  };

  const authorizePublish: AuthorizePublishHandler = (client, packet, callback) => {
    // The broker's own publishes (in-process ingest, obsolete wills) carry no client.
    if (client === null) return callback(null);
    if (packet.topic.startsWith('$SYS')) return callback(new Error('$SYS topics are reserved'));
    if (acl === undefined || aclAllows(acl, usernames.get(client), client.id, packet.topic, 'write')) return callback(null);
    callback(new Error(`not authorized to publish to ${packet.topic}`));
  };

  const authorizeSubscribe: AuthorizeSubscribeHandler = (client, sub, callback) => {
    if (acl === undefined || aclMaySubscribe(acl, usernames.get(client), client.id, sub.topic)) return callback(null, sub);
    // null negates the subscription: SUBACK 0x80 [MQTT-3.9.3], the connection stays up.
    callback(null, null);
  };

  const authorizeForward: AuthorizeForwardHandler = (client, packet) => {
    if (acl === undefined || aclAllows(acl, usernames.get(client), client.id, packet.topic, 'read')) return packet;
    return null;
  };

  return { authenticate, authorizePublish, authorizeSubscribe, authorizeForward, users: passwords ? [...passwords.keys()] : [] };
}
