/** Web Push subscriptions (validation, the real SQLite table) and the VAPID key file. */
import { createECDH, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../store/db.ts';
import { parsePushSubscription, pushHostProblem, SqlitePushSubscriptions } from './push-subscriptions.ts';
import { pushSubscriptionSuite } from './push-subscriptions.suite.ts';
import { loadVapidKeys, VAPID_FILE, VapidKeyError } from './vapid-keys.ts';

function browserKeys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-push-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('parsePushSubscription', () => {
  const keys = browserKeys();
  const good = { endpoint: 'https://fcm.googleapis.com/fcm/send/abc:def', expirationTime: null, keys };
  it('accepts what PushSubscription.toJSON() gives', () => {
    expect(parsePushSubscription(good)).toEqual({ ok: true, value: good });
  });
  it.each([
    [null, /the body must be a PushSubscription JSON object/],
    [{ ...good, endpoint: undefined }, /^endpoint: required/],
    [{ ...good, endpoint: 'not a url' }, /^endpoint: not a URL/],
    [{ ...good, endpoint: 'http://push.example.com/x' }, /^endpoint: must be an https:\/\/ URL/],
    [{ ...good, endpoint: 'https://u:p@push.example.com/x' }, /^endpoint: must not carry a user name/],
    [{ ...good, endpoint: `https://push.example.com/${'x'.repeat(2100)}` }, /^endpoint: at most 2048/],
    [{ ...good, expirationTime: 'soon' }, /^expirationTime:/],
    [{ ...good, keys: undefined }, /^keys: required/],
    [{ ...good, keys: { ...keys, p256dh: 'AAAA' } }, /^keys.p256dh: must be a base64url uncompressed P-256 public key/],
    // 65 bytes, 0x04 first, but not a point on the curve
    [{ ...good, keys: { ...keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url') } }, /^keys.p256dh: not a point on the P-256 curve/],
    [{ ...good, keys: { ...keys, auth: randomBytes(8).toString('base64url') } }, /^keys.auth: must be a base64url 16-byte secret/],
  ])('refuses %#, naming the field', (input, error) => {
    const r = parsePushSubscription(input);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error).toMatch(error);
  });
  it('allows plain http only to a push relay on this machine', () => {
    expect(parsePushSubscription({ ...good, endpoint: 'http://127.0.0.1:8080/push/1' }).ok).toBe(true);
    expect(parsePushSubscription({ ...good, endpoint: 'http://10.0.0.5:8080/push/1' }).ok).toBe(false);
  });
});

describe('SqlitePushSubscriptions on a real SQLite file', () => {
  // The repository's rules are the behaviour suite (push-subscriptions.suite.ts), run on a real file.
  pushSubscriptionSuite(async () => {
    const file = mkdtempSync(join(tmpdir(), 'parkops-push-suite-'));
    let open = openDatabase(file);
    return {
      repo: new SqlitePushSubscriptions(open),
      reopen: async () => {
        open.close();
        open = openDatabase(file);
        return new SqlitePushSubscriptions(open);
      },
      close: async () => {
        open.close();
        rmSync(file, { recursive: true, force: true });
      },
    };
  });
});

describe('push hosts', () => {
  it('allows the browsers\' push services and what the administrator adds, and nothing else', () => {
    expect(pushHostProblem('https://fcm.googleapis.com/fcm/send/abc')).toBeNull();
    expect(pushHostProblem('https://updates.push.services.mozilla.com/wpush/v2/x')).toBeNull();
    expect(pushHostProblem('https://web.push.apple.com/QOS5')).toBeNull();
    expect(pushHostProblem('https://wns2-par02p.notify.windows.com/w/?token=x')).toBeNull();
    expect(pushHostProblem('https://notify.windows.com/x')).toMatch(/not a known browser push service/);
    expect(pushHostProblem('https://fcm.googleapis.com.evil.example/x')).toMatch(/^endpoint: fcm\.googleapis\.com\.evil\.example is not a known browser push service.*PARKOPS_PUSH_ALLOW_HOSTS$/);
    expect(pushHostProblem('https://169.254.169.254/latest/meta-data')).not.toBeNull();
    expect(pushHostProblem('http://127.0.0.1:8080/push/1')).not.toBeNull();
    expect(pushHostProblem('http://127.0.0.1:8080/push/1', ['127.0.0.1'])).toBeNull();
    expect(pushHostProblem('https://relay.ops.example/p', ['*.ops.example'])).toBeNull();
    expect(pushHostProblem('https://ops.example/p', ['*.ops.example'])).not.toBeNull();
  });
});

describe('VAPID keys', () => {
  const config = (env: Record<string, string> = {}) => loadConfig({ PARKOPS_DATA_DIR: dir, ...env }, { dotenv: false });

  it('generates a pair once, keeps it in the data folder (owner-only) and reuses it', () => {
    const first = loadVapidKeys(config());
    expect(first.source).toBe('generated');
    expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65);
    expect(statSync(join(dir, VAPID_FILE)).mode & 0o777).toBe(0o600);
    const again = loadVapidKeys(config());
    expect(again).toMatchObject({ source: 'data folder', publicKey: first.publicKey, privateKey: first.privateKey });
  });

  it('uses the settings when given, and checks that they are one pair', () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const env = { PARKOPS_VAPID_PUBLIC_KEY: ecdh.getPublicKey('base64url'), PARKOPS_VAPID_PRIVATE_KEY: ecdh.getPrivateKey('base64url'), PARKOPS_VAPID_SUBJECT: 'mailto:ops@jining-valley.example' };
    expect(loadVapidKeys(config(env))).toEqual({ publicKey: env.PARKOPS_VAPID_PUBLIC_KEY, privateKey: env.PARKOPS_VAPID_PRIVATE_KEY, subject: 'mailto:ops@jining-valley.example', source: 'settings' });
    const other = createECDH('prime256v1');
    other.generateKeys();
    expect(() => config({ ...env, PARKOPS_VAPID_PUBLIC_KEY: other.getPublicKey('base64url') })).toThrow(/PARKOPS_VAPID_PUBLIC_KEY: is not the public key of PARKOPS_VAPID_PRIVATE_KEY/);
    expect(() => config({ PARKOPS_VAPID_PRIVATE_KEY: env.PARKOPS_VAPID_PRIVATE_KEY })).toThrow(/PARKOPS_VAPID_PUBLIC_KEY: set it too/);
    expect(() => config({ ...env, PARKOPS_VAPID_PUBLIC_KEY: 'short' })).toThrow(ConfigError);
    expect(() => config({ PARKOPS_VAPID_SUBJECT: 'ops@example.com' })).toThrow(/PARKOPS_VAPID_SUBJECT: must be a mailto: address or an https:\/\/ URL/);
  });

  it('refuses a damaged key file with a reason instead of replacing it (that would cut every phone off)', () => {
    writeFileSync(join(dir, VAPID_FILE), '{"publicKey": "x"');
    expect(() => loadVapidKeys(config())).toThrow(VapidKeyError);
    expect(() => loadVapidKeys(config())).toThrow(/not JSON; restore it from a backup, or delete it/);
    writeFileSync(join(dir, VAPID_FILE), JSON.stringify({ publicKey: browserKeys().p256dh, privateKey: randomBytes(32).toString('base64url') }));
    expect(() => loadVapidKeys(config())).toThrow(/"publicKey" is not the public key of "privateKey"/);
    expect(readFileSync(join(dir, VAPID_FILE), 'utf8')).toContain('privateKey');
  });

  it('names an unreadable key file', () => {
    // A directory where the file should be: unreadable for root too (EISDIR).
    mkdirSync(join(dir, VAPID_FILE));
    expect(() => loadVapidKeys(config())).toThrow(new RegExp(`${VAPID_FILE}: cannot be read \\(EISDIR\\)`));
  });
});
