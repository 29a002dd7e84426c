/**
 * The VAPID key pair (RFC 8292) that identifies this ParkOps to push services. From the settings
 * PARKOPS_VAPID_PUBLIC_KEY/PRIVATE_KEY (checked in config.ts) or, without them, generated once and
 * kept in the data folder: every browser subscription is bound to the public key, so a new pair on
 * each start would silently cut every phone off.
 */
import { createECDH } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import type { Config } from '../config.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
  source: 'settings' | 'data folder' | 'generated';
}

export const VAPID_FILE = 'vapid-keys.json';

export class VapidKeyError extends Error {}

/** Throws VapidKeyError naming the file and what is wrong with it; the caller keeps running without push. */
export function loadVapidKeys(config: Pick<Config, 'PARKOPS_VAPID_PUBLIC_KEY' | 'PARKOPS_VAPID_PRIVATE_KEY' | 'PARKOPS_VAPID_SUBJECT' | 'dataDir'>): VapidKeys {
  const subject = config.PARKOPS_VAPID_SUBJECT;
  if (config.PARKOPS_VAPID_PUBLIC_KEY && config.PARKOPS_VAPID_PRIVATE_KEY) {
    return { publicKey: config.PARKOPS_VAPID_PUBLIC_KEY, privateKey: config.PARKOPS_VAPID_PRIVATE_KEY, subject, source: 'settings' };
  }
  const file = join(config.dataDir, VAPID_FILE);
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new VapidKeyError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text !== null) return { ...parseKeyFile(file, text), subject, source: 'data folder' };
  const keys = webpush.generateVAPIDKeys();
  try {
    // wx: two processes starting on one data folder must not each write a different pair.
    writeFileSync(file, `${JSON.stringify({ publicKey: keys.publicKey, privateKey: keys.privateKey, createdAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { ...parseKeyFile(file, readFileSync(file, 'utf8')), subject, source: 'data folder' };
    throw new VapidKeyError(`${file}: cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { publicKey: keys.publicKey, privateKey: keys.privateKey, subject, source: 'generated' };
}

function parseKeyFile(file: string, text: string): { publicKey: string; privateKey: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new VapidKeyError(`${file}: not JSON; restore it from a backup, or delete it to generate a new pair (every phone must then enable notifications again)`);
  }
  const o = (v ?? {}) as { publicKey?: unknown; privateKey?: unknown };
  if (typeof o.publicKey !== 'string' || typeof o.privateKey !== 'string') throw new VapidKeyError(`${file}: needs "publicKey" and "privateKey" strings`);
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(o.privateKey, 'base64url'));
    if (ecdh.getPublicKey('base64url') !== o.publicKey) throw new Error('mismatch');
  } catch {
    throw new VapidKeyError(`${file}: "publicKey" is not the public key of "privateKey"`);
  }
  return { publicKey: o.publicKey, privateKey: o.privateKey };
}
