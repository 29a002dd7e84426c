/**
 * The "Enable notifications" flow and what the service worker shows. Debian's headless Chromium exits
 * on PushManager.subscribe() (it has no push service to register with), so the flow runs here against
 * a hand-driven stand-in for the browser's permission, service worker and push manager, as
 * live.test.ts does for EventSource; the service worker itself is tested in Chromium (test/e2e/push.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from './api.ts';
import { translate } from './i18n/index.svelte.ts';
import { clickTarget, localNotification, notificationFor, safePath } from './push/notification.ts';
import { keyBytes, PushSetup, type PushPlatform } from './push.svelte.ts';

const SERVER_KEY = 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8';

class FakeSubscription {
  unsubscribed = false;
  constructor(
    readonly endpoint: string,
    readonly options: { applicationServerKey: ArrayBuffer | null },
  ) {}
  toJSON() {
    return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } };
  }
  async unsubscribe(): Promise<boolean> {
    this.unsubscribed = true;
    return true;
  }
}

function fake(opts: { permission?: NotificationPermission; answer?: NotificationPermission; subscribeError?: Error; existing?: FakeSubscription; secure?: boolean; serverError?: ApiError } = {}) {
  const calls: { path: string; method: string; body: unknown }[] = [];
  let current: FakeSubscription | null = opts.existing ?? null;
  const subscribed: { applicationServerKey: Uint8Array }[] = [];
  const notification = {
    permission: opts.permission ?? ('default'),
    async requestPermission() {
      this.permission = opts.answer ?? 'granted';
      return this.permission;
    },
  };
  const registration = {
    pushManager: {
      async getSubscription() {
        return current;
      },
      async subscribe(o: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) {
        if (!o.userVisibleOnly) throw new Error('userVisibleOnly must be true');
        if (opts.subscribeError) throw opts.subscribeError;
        subscribed.push(o);
        current = new FakeSubscription('https://fcm.googleapis.com/fcm/send/xyz', { applicationServerKey: o.applicationServerKey.buffer as ArrayBuffer });
        return current;
      },
    },
  };
  const platform: PushPlatform = {
    secure: opts.secure ?? true,
    notification,
    serviceWorker: { ready: Promise.resolve(registration as unknown as ServiceWorkerRegistration), getRegistration: async () => registration as unknown as ServiceWorkerRegistration },
    fetchJson: async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      calls.push({ path, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined });
      if (path === '/api/push/key') return { publicKey: SERVER_KEY, canSubscribe: true } as T;
      if (opts.serverError && init.method === 'POST') throw opts.serverError;
      return {} as T;
    },
  };
  return { platform, calls, subscribed, notification, current: () => current };
}

const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) => translate('en', key, params);

describe('PushSetup', () => {
  it('asks for permission, subscribes with the server key and stores the subscription for a responder', async () => {
    const f = fake();
    const push = new PushSetup(() => f.platform);
    await push.init(true);
    expect(push.state).toBe('off');
    await push.enable();
    expect(push.error).toBeNull();
    expect(push.state).toBe('on');
    expect([...f.subscribed[0]!.applicationServerKey]).toEqual([...keyBytes(SERVER_KEY)]);
    expect(f.calls.at(-1)).toEqual({ path: '/api/push/subscriptions', method: 'POST', body: { endpoint: 'https://fcm.googleapis.com/fcm/send/xyz', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } } });
  });

  it('says why when the user blocks notifications, and does not offer the button again as if nothing happened', async () => {
    const f = fake({ answer: 'denied' });
    const push = new PushSetup(() => f.platform);
    await push.init(true);
    await push.enable();
    expect(push.state).toBe('denied');
    expect(push.errorText(t)).toBe("Notifications are blocked for this site. Allow them in the browser's site settings, then reload.");
    expect(f.subscribed).toEqual([]);
  });

  it('shows the browser\'s reason when subscribing fails (no push service), and the server\'s when it refuses', async () => {
    const noService = fake({ subscribeError: Object.assign(new Error('Registration failed - push service not available'), { name: 'AbortError' }) });
    const a = new PushSetup(() => noService.platform);
    await a.init(true);
    await a.enable();
    expect(a.state).toBe('off');
    expect(a.errorText(t)).toBe('Notifications could not be turned on: AbortError: Registration failed - push service not available');

    const refused = fake({ serverError: new ApiError(400, 'error.badRequest', 'keys.auth: must be a base64url 16-byte secret') });
    const b = new PushSetup(() => refused.platform);
    await b.init(true);
    await b.enable();
    expect(b.errorText(t)).toBe('Notifications could not be turned on: keys.auth: must be a base64url 16-byte secret');
  });

  it('needs HTTPS, and a browser with notifications', async () => {
    const insecure = new PushSetup(() => fake({ secure: false }).platform);
    await insecure.init(true);
    expect(insecure.state).toBe('unsupported');
    expect(insecure.errorText(t)).toMatch(/^Notifications need a secure connection/);
    const bare = new PushSetup(() => ({ ...fake().platform, notification: undefined }));
    await bare.init(true);
    expect(bare.errorText(t)).toBe('This browser cannot show notifications from a web page.');
  });

  it('gives a viewer notifications while the dashboard is open, without a push subscription', async () => {
    const f = fake();
    const push = new PushSetup(() => f.platform);
    await push.init(false);
    await push.enable();
    expect(push.state).toBe('local');
    expect(f.subscribed).toEqual([]);
  });

  it('re-subscribes a subscription made for an old server key and refreshes the server\'s copy on load', async () => {
    const old = new FakeSubscription('https://fcm.googleapis.com/fcm/send/old', { applicationServerKey: new Uint8Array(65).fill(4).buffer });
    const f = fake({ permission: 'granted', existing: old });
    const push = new PushSetup(() => f.platform);
    await push.init(true);
    expect(push.state).toBe('on');
    expect(old.unsubscribed).toBe(true);
    expect(f.current()?.endpoint).toBe('https://fcm.googleapis.com/fcm/send/xyz');
    expect(f.calls.filter((c) => c.method === 'POST').map((c) => (c.body as { endpoint: string }).endpoint)).toEqual(['https://fcm.googleapis.com/fcm/send/xyz']);
  });

  it('turns off: the server forgets the subscription and the browser unsubscribes', async () => {
    const f = fake({ permission: 'granted' });
    const push = new PushSetup(() => f.platform);
    await push.init(true);
    await push.enable();
    const sub = f.current()!;
    await push.disable();
    expect(push.state).toBe('off');
    expect(sub.unsubscribed).toBe(true);
    expect(f.calls.at(-1)).toEqual({ path: '/api/push/subscriptions', method: 'DELETE', body: { endpoint: sub.endpoint } });
  });
});

describe('notificationFor (the service worker)', () => {
  const payload = {
    v: 1,
    kind: 'alert',
    alertId: 'al-1',
    change: 'opened',
    severity: 'critical',
    state: 'firing',
    room: 'b1-power',
    title: '【严重】新告警：创启大厦B1配电室 水位 720 mm',
    body: 'water at 720 mm',
    url: '/flood?alert=al-1',
    tag: 'alert-al-1',
    urgent: true,
    at: '2026-07-14T03:12:06.000Z',
  };
  it('shows a critical alert that stays, sounds again when it replaces an older one, and opens the alert', () => {
    const n = notificationFor(JSON.stringify(payload));
    expect(n.title).toBe(payload.title);
    expect(n.options).toMatchObject({ body: 'water at 720 mm', tag: 'alert-al-1', requireInteraction: true, renotify: true, silent: false, data: { url: '/flood?alert=al-1', alertId: 'al-1' }, timestamp: Date.parse(payload.at) });
  });
  it('replaces it silently on acknowledgement', () => {
    expect(notificationFor(JSON.stringify({ ...payload, change: 'acknowledged', urgent: false })).options).toMatchObject({ requireInteraction: false, renotify: false, silent: true });
  });
  it('still shows something for an unreadable push, and never sends a tap off this origin', () => {
    expect(notificationFor('not json')).toMatchObject({ title: '园区运维 ParkOps', options: { data: { url: '/flood' } } });
    expect(notificationFor(null).options.requireInteraction).toBe(true);
    expect(notificationFor(JSON.stringify({ ...payload, url: 'https://evil.example/' })).options.data).toMatchObject({ url: '/flood' });
    expect(safePath('//evil.example/x')).toBe('/flood');
    expect(clickTarget({ url: '/flood?alert=al-1' }, 'https://parkops.example')).toBe('https://parkops.example/flood?alert=al-1');
  });
  it('gives the open tab\'s notification the same tag as the push, so a phone shows one per alert', () => {
    expect(localNotification({ id: 'al-1', severity: 'critical', subject: 'flood/b1-power/level', room: 'b1-power' }, 'T', 'B').options).toMatchObject({ tag: 'alert-al-1', requireInteraction: true, data: { url: '/flood?alert=al-1' } });
  });
});
