/**
 * Notifications on this device: the service worker registration, the notification permission, and the
 * Web Push subscription that lets ParkOps wake a responder's phone with the screen locked.
 *
 * - Responders and up: "Enable notifications" asks for permission, subscribes through PushManager with
 *   ParkOps' VAPID key and stores the subscription on the server (`POST /api/push/subscriptions`).
 * - Viewers (wall screens, facilities staff): permission only; the open dashboard shows its own alert
 *   notifications through the service worker.
 * Every step that fails says why (`error`): a blocked permission, no HTTPS, a browser without push, the
 * server's refusal. Nothing is swallowed, and the button is not offered again as if nothing happened.
 */
import type { PushKeyResponse, PushSubscriptionView } from '@parkops/contract';
import { ApiError, apiFetch } from './api.ts';
import type { MessageKey } from './i18n/messages.ts';

export type PushState =
  /** not checked yet (server render, first tick) */
  | 'unknown'
  /** this browser cannot: no service worker, no Notification, or not a secure context */
  | 'unsupported'
  /** the user or the browser blocked notifications for this site */
  | 'denied'
  /** nothing asked yet, or permission given but no push subscription (for a responder) */
  | 'off'
  /** viewer: permission given, notifications while the dashboard is open */
  | 'local'
  /** responder: subscribed, this device gets alert pushes */
  | 'on';

export interface PushError {
  key: MessageKey;
  detail?: string | undefined;
}

/** What the browser offers; injectable so the flow can be tested without a browser that crashes on subscribe. */
export interface PushPlatform {
  secure: boolean;
  serviceWorker: Pick<ServiceWorkerContainer, 'ready' | 'getRegistration'> | undefined;
  notification: { permission: NotificationPermission; requestPermission(): Promise<NotificationPermission> } | undefined;
  fetchJson: <T>(path: string, init?: RequestInit) => Promise<T>;
}

export function browserPlatform(): PushPlatform {
  return {
    secure: typeof window !== 'undefined' && window.isSecureContext,
    serviceWorker: typeof navigator !== 'undefined' && 'serviceWorker' in navigator ? navigator.serviceWorker : undefined,
    notification: typeof Notification === 'undefined' ? undefined : Notification,
    fetchJson: (path, init) => apiFetch(path, init),
  };
}

/** base64url -> bytes, for PushManager.subscribe({applicationServerKey}). */
export function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameKey(sub: PushSubscription, key: Uint8Array): boolean {
  const have = sub.options.applicationServerKey;
  if (!have) return false;
  const a = new Uint8Array(have);
  return a.length === key.length && a.every((v, i) => v === key[i]);
}

/** A browser failure as something to show: its name and message, never a stack. */
function browserError(e: unknown): PushError {
  if (e instanceof ApiError) return { key: 'push.failed', detail: e.detail ?? undefined };
  const err = e as { name?: string; message?: string } | null;
  const detail = [err?.name, err?.message].filter(Boolean).join(': ').slice(0, 300);
  return { key: 'push.failed', detail: detail || undefined };
}

export class PushSetup {
  state = $state<PushState>('unknown');
  busy = $state(false);
  error = $state<PushError | null>(null);
  /** a test notification was queued */
  testQueued = $state(false);
  private canSubscribe = false;

  constructor(private readonly platform: () => PushPlatform = browserPlatform) {}

  /** The message for `error` in the user's language. */
  errorText(t: (key: MessageKey, params?: Record<string, string | number>) => string): string | null {
    if (!this.error) return null;
    const { key, detail } = this.error;
    if (key === 'push.failed') return t('push.failed', { reason: detail ?? t('error.unexpected') });
    return t(key);
  }

  /** Reads the current state without asking the user anything. `canSubscribe`: the user is a responder or above. */
  async init(canSubscribe: boolean): Promise<void> {
    this.canSubscribe = canSubscribe;
    const p = this.platform();
    if (!p.secure) return this.fail('unsupported', 'push.insecure');
    if (!p.serviceWorker || !p.notification) return this.fail('unsupported', 'push.unsupported');
    if (p.notification.permission === 'denied') return this.fail('denied', 'push.denied');
    if (p.notification.permission !== 'granted') {
      this.state = 'off';
      return;
    }
    if (!canSubscribe) {
      this.state = 'local';
      return;
    }
    try {
      const reg = await p.serviceWorker.ready;
      const sub = reg.pushManager ? await reg.pushManager.getSubscription() : null;
      if (!sub) {
        this.state = 'off';
        return;
      }
      // Keep the server's copy current (it may have dropped it after a key change or a 410).
      const { publicKey } = await p.fetchJson<PushKeyResponse>('/api/push/key');
      const key = keyBytes(publicKey);
      const current = sameKey(sub, key) ? sub : await this.resubscribe(reg, sub, key);
      await this.store(p, current);
      this.state = 'on';
      this.error = null;
    } catch (e) {
      this.state = 'off';
      this.error = browserError(e);
    }
  }

  /** The "Enable notifications" button. */
  async enable(): Promise<void> {
    const p = this.platform();
    if (!p.secure) return this.fail('unsupported', 'push.insecure');
    if (!p.serviceWorker || !p.notification) return this.fail('unsupported', 'push.unsupported');
    this.busy = true;
    this.error = null;
    try {
      const permission = p.notification.permission === 'granted' ? 'granted' : await p.notification.requestPermission();
      if (permission === 'denied') return this.fail('denied', 'push.denied');
      if (permission !== 'granted') return this.fail('off', 'push.dismissed');
      if (!this.canSubscribe) {
        this.state = 'local';
        return;
      }
      const reg = await p.serviceWorker.ready;
      if (!reg.pushManager) return this.fail('local', 'push.noPushManager');
      const { publicKey } = await p.fetchJson<PushKeyResponse>('/api/push/key');
      const key = keyBytes(publicKey);
      const existing = await reg.pushManager.getSubscription();
      const sub = existing && sameKey(existing, key) ? existing : await this.resubscribe(reg, existing, key);
      await this.store(p, sub);
      this.state = 'on';
    } catch (e) {
      this.state = p.notification.permission === 'granted' && !this.canSubscribe ? 'local' : 'off';
      this.error = browserError(e);
    } finally {
      this.busy = false;
    }
  }

  /** Stops pushes to this device (the permission stays with the browser). */
  async disable(): Promise<void> {
    const p = this.platform();
    this.busy = true;
    this.error = null;
    try {
      const reg = await p.serviceWorker?.getRegistration();
      const sub = reg?.pushManager ? await reg.pushManager.getSubscription() : null;
      if (sub) {
        await p.fetchJson<void>('/api/push/subscriptions', { method: 'DELETE', body: JSON.stringify({ endpoint: sub.endpoint }) }).catch((e: unknown) => {
          // Already gone on the server: unsubscribing locally is all that is left.
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        });
        await sub.unsubscribe();
      }
      this.state = 'off';
    } catch (e) {
      this.error = browserError(e);
    } finally {
      this.busy = false;
    }
  }

  /** Queues a test notification to this user's devices. */
  async sendTest(): Promise<void> {
    this.busy = true;
    this.error = null;
    this.testQueued = false;
    try {
      await this.platform().fetchJson<{ queued: number }>('/api/push/test', { method: 'POST', body: '{}' });
      this.testQueued = true;
    } catch (e) {
      this.error = browserError(e);
    } finally {
      this.busy = false;
    }
  }

  private async resubscribe(reg: ServiceWorkerRegistration, old: PushSubscription | null, key: Uint8Array<ArrayBuffer>): Promise<PushSubscription> {
    // A subscription for another key (the server's keys changed) cannot be reused: browsers refuse to re-key it.
    if (old) await old.unsubscribe();
    return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  }

  private async store(p: PushPlatform, sub: PushSubscription): Promise<void> {
    await p.fetchJson<PushSubscriptionView>('/api/push/subscriptions', { method: 'POST', body: JSON.stringify(sub.toJSON()) });
  }

  private fail(state: PushState, key: MessageKey): void {
    this.state = state;
    this.error = { key };
    this.busy = false;
  }
}

export const pushSetup = new PushSetup();
