/**
 * The local push service checks what it claims to: it decrypts RFC 8291's own worked example, and it
 * refuses each thing a real push service or browser refuses (a forged or stale VAPID token, another
 * server's key, a message encrypted for someone else, a missing TTL). Without these, a passing
 * notify-push test would prove nothing.
 */
import { createECDH, createPrivateKey, sign } from 'node:crypto';
import webpush from 'web-push';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptPushMessage, PushService, type BrowserSubscription } from './push-service.ts';

const b = (s: string) => Buffer.from(s, 'base64url');

describe('decryptPushMessage', () => {
  // RFC 8291 Appendix A: the worked example's user agent keys, auth secret and encrypted message.
  const uaPrivate = b('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94');
  const uaPublic = b('BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4');
  const auth = b('BTBZMqHH6r4Tts7J_aSIgg');
  const message = b(
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
  );

  it('decrypts the RFC 8291 Appendix A example to its plaintext', () => {
    const r = decryptPushMessage(message, { privateKey: uaPrivate, publicKey: uaPublic, auth });
    expect(r.plaintext.toString('utf8')).toBe('When I grow up, I want to be a watermelon');
    expect(r.recordSize).toBe(4096);
    expect(r.asPublic.toString('base64url')).toBe('BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8');
  });

  it('refuses a flipped ciphertext bit and a wrong auth secret', () => {
    const flipped = Buffer.from(message);
    flipped[100] = flipped[100]! ^ 1;
    expect(() => decryptPushMessage(flipped, { privateKey: uaPrivate, publicKey: uaPublic, auth })).toThrow(/authentication failed/);
    expect(() => decryptPushMessage(message, { privateKey: uaPrivate, publicKey: uaPublic, auth: Buffer.alloc(16) })).toThrow(/authentication failed/);
  });
});

describe('PushService refusals', () => {
  let service: PushService;
  const vapid = webpush.generateVAPIDKeys();
  const subject = 'mailto:ops@jining-valley.example';
  let sub: BrowserSubscription;

  beforeEach(async () => {
    service = new PushService();
    await service.start();
    sub = service.subscribe(vapid.publicKey);
  });
  afterEach(() => service.stop());

  /** A request as web-push makes it for this subscription, with `edit` applied to its headers. */
  async function post(opts: { edit?: (h: Record<string, string>) => void; target?: BrowserSubscription; keys?: { p256dh: string; auth: string } } = {}): Promise<number> {
    const target = opts.target ?? sub;
    const details = webpush.generateRequestDetails({ endpoint: target.json.endpoint, keys: opts.keys ?? target.json.keys }, '{"hello":"水位"}', {
      vapidDetails: { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      TTL: 60,
      urgency: 'high',
      topic: 'alert-1',
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
    opts.edit?.(headers);
    const res = await fetch(details.endpoint, { method: 'POST', headers, body: new Uint8Array(details.body) });
    return res.status;
  }

  /** An ES256 JWT signed with `privateKey` (base64url scalar), for `k` = publicKey. */
  function jwt(claims: Record<string, unknown>, keyPair: { publicKey: string; privateKey: string }): string {
    const pub = b(keyPair.publicKey);
    const key = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: keyPair.privateKey, x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url') }, format: 'jwk' });
    const input = `${Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
  const nowSec = () => Math.floor(Date.now() / 1000);

  it('accepts a correct message and decrypts it', async () => {
    expect(await post()).toBe(201);
    expect(service.payloads()).toEqual([{ hello: '水位' }]);
    expect(service.delivered[0]?.headers).toEqual({ ttl: 60, urgency: 'high', topic: 'alert-1' });
  });

  it('refuses a token signed by another key than k (401)', async () => {
    const other = webpush.generateVAPIDKeys();
    const forged = jwt({ aud: service.origin, exp: nowSec() + 3600, sub: subject }, { publicKey: vapid.publicKey, privateKey: other.privateKey });
    expect(await post({ edit: (h) => (h.Authorization = `vapid t=${forged}, k=${vapid.publicKey}`) })).toBe(401);
    expect(service.refused.at(-1)?.reason).toBe('JWT signature does not verify with k');
  });

  it('refuses another server\'s key (403), a wrong audience, a token valid for more than 24 h, or no sub (401)', async () => {
    const other = webpush.generateVAPIDKeys();
    const otherToken = jwt({ aud: service.origin, exp: nowSec() + 3600, sub: subject }, other);
    expect(await post({ edit: (h) => (h.Authorization = `vapid t=${otherToken}, k=${other.publicKey}`) })).toBe(403);
    for (const [claims, reason] of [
      [{ aud: 'https://push.example.com', exp: nowSec() + 3600, sub: subject }, /^aud https:\/\/push.example.com is not the push resource origin/],
      [{ aud: service.origin, exp: nowSec() + 25 * 3600, sub: subject }, /^exp more than 24 hours ahead/],
      [{ aud: service.origin, exp: nowSec() - 10, sub: subject }, /^exp is in the past/],
      [{ aud: service.origin, exp: nowSec() + 3600 }, /^sub must be/],
    ] as const) {
      const token = jwt(claims, vapid);
      expect(await post({ edit: (h) => (h.Authorization = `vapid k=${vapid.publicKey}, t=${token}`) })).toBe(401);
      expect(service.refused.at(-1)?.reason).toMatch(reason);
    }
  });

  it('refuses a message encrypted for other keys than this browser holds (400)', async () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    expect(await post({ keys: { p256dh: ecdh.getPublicKey('base64url'), auth: sub.json.keys.auth } })).toBe(400);
    expect(service.refused.at(-1)?.reason).toMatch(/^cannot decrypt: AES-128-GCM authentication failed/);
  });

  it('refuses a missing TTL, a bad Urgency or Topic, another content coding, no VAPID (400/401)', async () => {
    expect(await post({ edit: (h) => delete h.TTL })).toBe(400);
    expect(await post({ edit: (h) => (h.Urgency = 'urgent') })).toBe(400);
    expect(await post({ edit: (h) => (h.Topic = 'x'.repeat(33)) })).toBe(400);
    expect(await post({ edit: (h) => (h['Content-Encoding'] = 'aesgcm') })).toBe(400);
    expect(await post({ edit: (h) => delete h.Authorization })).toBe(401);
    expect(service.delivered).toHaveLength(0);
  });

  it('answers 410 for an expired subscription and 404 for an unknown one', async () => {
    service.expire(sub);
    expect(await post()).toBe(410);
    const stranger = { ...sub, json: { ...sub.json, endpoint: `${service.origin}/push/00000000-0000-0000-0000-000000000000` } };
    expect(await post({ target: stranger })).toBe(404);
  });
});
