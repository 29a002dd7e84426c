/**
 * A local Web Push service on a free loopback port that does what a real push service and the browser
 * behind it do with a push message, and refuses what they would refuse:
 *
 * - RFC 8030 (Generic Event Delivery Using HTTP Push): POST to the subscription's push resource; `TTL`
 *   is required (section 5.2, 400 without it); `Urgency` is very-low | low | normal | high (5.3); `Topic`
 *   is at most 32 base64url characters (5.4); an unknown or expired subscription answers 404 / 410 (7.3);
 *   an accepted message answers 201 Created with a Location (5).
 * - RFC 8292 (VAPID): `Authorization: vapid t=<JWT>, k=<public key>` (section 3). `k` must be the
 *   application server key the subscription was made with, else 403 (4.2). The JWT must be ES256 (3.1)
 *   with a valid signature by `k`, `aud` the origin of the push resource, `exp` in the future and no more
 *   than 24 hours ahead (2), and a `sub` that is a mailto: or https: URI (2.1); else 401 (4.1).
 * - RFC 8291 (Message Encryption for Web Push) over RFC 8188 (aes128gcm): `Content-Encoding: aes128gcm`,
 *   the header's keyid is the sender's ephemeral P-256 key (8291 section 4), one record (4), at most 4096
 *   bytes; decrypted with the user agent's private key and auth secret (ECDH P-256, HKDF-SHA-256,
 *   AES-128-GCM) exactly as a browser does. Anything that does not decrypt is refused with 400.
 *
 * Written for these tests with node:crypto only; it shares no code with the `web-push` package.
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface BrowserSubscription {
  /** what the browser gives the page: PushSubscription.toJSON() */
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  id: string;
  /** the user agent's key pair and auth secret: only the "browser" knows them */
  uaPrivate: Buffer;
  uaPublic: Buffer;
  auth: Buffer;
  /** the VAPID public key given to PushManager.subscribe */
  applicationServerKey: string;
  gone: boolean;
}

export interface PushDelivered {
  subscriptionId: string;
  headers: { ttl: number; urgency: string; topic: string | undefined };
  jwt: { header: Record<string, unknown>; claims: Record<string, unknown> };
  /** the decrypted payload, as the service worker's `event.data.text()` gives it */
  plaintext: string;
  at: number;
  /** performance.now() when the request reached this service (the first byte, before reading the body) */
  arrivedAt: number;
}

export interface PushRefused {
  subscriptionId: string | null;
  status: number;
  reason: string;
  at: number;
}

const b64u = (b: Buffer) => b.toString('base64url');

/** RFC 8291 section 3.4 and RFC 8188 section 2: the whole decryption a user agent performs. */
export function decryptPushMessage(body: Buffer, ua: { privateKey: Buffer; publicKey: Buffer; auth: Buffer }): { plaintext: Buffer; asPublic: Buffer; recordSize: number } {
  // RFC 8188 2.1: salt (16) | rs (uint32) | idlen (1) | keyid (idlen)
  if (body.length < 21) throw new Error('shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (rs < 18) throw new Error(`record size ${rs} below the minimum of 18`);
  // RFC 8291 section 4: keyid is the application server's uncompressed P-256 public key.
  if (idlen !== 65) throw new Error(`keyid is ${idlen} bytes, not a 65-byte P-256 key`);
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (ciphertext.length > rs) throw new Error('more than one record: RFC 8291 allows a single record');
  if (ciphertext.length < 17) throw new Error('record shorter than the tag and the padding delimiter');

  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(ua.privateKey);
  const ecdhSecret = ecdh.computeSecret(asPublic);
  // RFC 8291 3.3/3.4: IKM = HKDF(salt=auth_secret, ikm=ecdh_secret, info="WebPush: info" 0x00 ua_public as_public, L=32)
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'ascii'), ua.publicKey, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, ua.auth, keyInfo, 32));
  // RFC 8188 2.2/2.3: CEK and NONCE from HKDF(salt, IKM)
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0', 'ascii'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0', 'ascii'), 12));
  // The first (and only) record: sequence number 0, so the nonce is used as derived.
  const tag = ciphertext.subarray(ciphertext.length - 16);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(tag);
  let padded: Buffer;
  try {
    padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  } catch {
    throw new Error('AES-128-GCM authentication failed: not encrypted for this subscription');
  }
  // RFC 8188 2: the last record ends with 0x02 then zero or more 0x00 padding octets.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error('the last record does not end with the 0x02 padding delimiter');
  return { plaintext: padded.subarray(0, end), asPublic, recordSize: rs };
}

/** RFC 8292 section 3: `vapid t=..., k=...`, parameters in any order. */
function parseVapid(header: string | undefined): { t: string; k: string } | null {
  if (!header) return null;
  const m = /^vapid\s+(.*)$/i.exec(header.trim());
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const part of m[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    params[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return params.t && params.k ? { t: params.t, k: params.k } : null;
}

/** RFC 8292 section 2 and 3.1; returns the reason it is invalid, or the decoded token. */
function checkJwt(token: string, key: Buffer, audience: string, nowSec: number): { ok: true; header: Record<string, unknown>; claims: Record<string, unknown> } | { ok: false; reason: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'JWT must have three parts' };
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'JWT header or claims are not JSON' };
  }
  if (header.alg !== 'ES256') return { ok: false, reason: `JWT alg ${String(header.alg)}, VAPID requires ES256` };
  const signature = Buffer.from(parts[2]!, 'base64url');
  if (signature.length !== 64) return { ok: false, reason: 'ES256 signature must be 64 bytes (r || s)' };
  const jwk = { kty: 'EC', crv: 'P-256', x: b64u(key.subarray(1, 33)), y: b64u(key.subarray(33, 65)) };
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  const signedOk = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!signedOk) return { ok: false, reason: 'JWT signature does not verify with k' };
  if (claims.aud !== audience) return { ok: false, reason: `aud ${String(claims.aud)} is not the push resource origin ${audience}` };
  if (typeof claims.exp !== 'number') return { ok: false, reason: 'exp missing' };
  if (claims.exp <= nowSec) return { ok: false, reason: 'exp is in the past' };
  if (claims.exp > nowSec + 24 * 3600) return { ok: false, reason: 'exp more than 24 hours ahead' };
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) return { ok: false, reason: 'sub must be a mailto: or https: URI' };
  return { ok: true, header, claims };
}

export class PushService {
  readonly delivered: PushDelivered[] = [];
  readonly refused: PushRefused[] = [];
  private readonly subs = new Map<string, BrowserSubscription>();
  private server: Server | null = null;
  private waiters: { cond: () => boolean; resolve: () => void }[] = [];
  /** answer this status instead, for the next requests (a busy push service) */
  failNext: number[] = [];
  port = 0;

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What PushManager.subscribe() does: a key pair and auth secret for this "browser", bound to the server key. */
  subscribe(applicationServerKey: string): BrowserSubscription {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const id = randomUUID();
    const auth = randomBytes(16);
    const sub: BrowserSubscription = {
      id,
      uaPrivate: ecdh.getPrivateKey(),
      uaPublic: ecdh.getPublicKey(),
      auth,
      applicationServerKey,
      gone: false,
      json: { endpoint: `${this.origin}/push/${id}`, expirationTime: null, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } },
    };
    this.subs.set(id, sub);
    return sub;
  }

  /** The browser unsubscribed or the push service expired it: 410 from now on. */
  expire(sub: BrowserSubscription): void {
    sub.gone = true;
  }

  payloads(subscriptionId?: string): unknown[] {
    return this.delivered.filter((d) => subscriptionId === undefined || d.subscriptionId === subscriptionId).map((d) => JSON.parse(d.plaintext) as unknown);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const arrivedAt = performance.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res, arrivedAt));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('push service: no TCP address');
    this.port = addr.port;
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse, arrivedAt: number): void {
    const now = Date.now();
    const id = /^\/push\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1] ?? null;
    const refuse = (status: number, reason: string): void => {
      this.refused.push({ subscriptionId: id, status, reason, at: now });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(reason);
      this.wake();
    };
    const sub = id ? this.subs.get(id) : undefined;
    if (req.method !== 'POST') return refuse(405, 'push messages are POSTed');
    if (!sub) return refuse(404, 'no such subscription');
    if (sub.gone) return refuse(410, 'subscription expired or unsubscribed');
    const forced = this.failNext.shift();
    if (forced !== undefined) return refuse(forced, `forced ${forced}`);

    const ttlHeader = req.headers.ttl;
    if (typeof ttlHeader !== 'string' || !/^\d+$/.test(ttlHeader)) return refuse(400, 'TTL header required (RFC 8030 section 5.2)');
    const urgency = (req.headers.urgency as string | undefined) ?? 'normal';
    if (!['very-low', 'low', 'normal', 'high'].includes(urgency)) return refuse(400, `Urgency ${urgency} is not very-low, low, normal or high`);
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return refuse(400, 'Topic must be at most 32 base64url characters (RFC 8030 section 5.4)');

    const vapid = parseVapid(req.headers.authorization);
    if (!vapid) return refuse(401, 'Authorization: vapid t=<JWT>, k=<key> required (RFC 8292 section 3)');
    if (vapid.k !== sub.applicationServerKey) return refuse(403, 'k is not the application server key this subscription was made with');
    const key = Buffer.from(vapid.k, 'base64url');
    if (key.length !== 65 || key[0] !== 4) return refuse(401, 'k is not an uncompressed P-256 key');
    const jwt = checkJwt(vapid.t, key, this.origin, Math.floor(now / 1000));
    if (!jwt.ok) return refuse(401, jwt.reason);

    if (req.headers['content-encoding'] !== 'aes128gcm') return refuse(400, 'Content-Encoding must be aes128gcm (RFC 8291 section 4)');
    if (body.length > 4096) return refuse(413, 'push message over 4096 bytes');
    let plaintext: Buffer;
    try {
      plaintext = decryptPushMessage(body, { privateKey: sub.uaPrivate, publicKey: sub.uaPublic, auth: sub.auth }).plaintext;
    } catch (err) {
      return refuse(400, `cannot decrypt: ${(err as Error).message}`);
    }
    this.delivered.push({ subscriptionId: sub.id, headers: { ttl: Number(ttlHeader), urgency, topic }, jwt: { header: jwt.header, claims: jwt.claims }, plaintext: plaintext.toString('utf8'), at: now, arrivedAt });
    res.writeHead(201, { location: `${this.origin}/message/${randomUUID()}` });
    res.end();
    this.wake();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.cond()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `cond` holds after a request; fails after `timeoutMs` naming `what`. */
  until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`push service: not within ${timeoutMs} ms: ${what} (delivered ${this.delivered.length}, refused ${this.refused.map((r) => `${r.status} ${r.reason}`).join('; ') || 'none'})`)), timeoutMs);
      this.waiters.push({ cond, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
