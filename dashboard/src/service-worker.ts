/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The dashboard's service worker (SvelteKit builds and registers src/service-worker.ts). It shows
 * notifications: Web Push messages from ParkOps, and the open dashboard's own alert notifications go
 * through `registration.showNotification` too, the only way Android Chrome shows them (it refuses
 * `new Notification()`). A tap opens the alert ready to acknowledge.
 *
 * It caches nothing: a flood screen must never show yesterday's water level from a cache.
 */
import { clickTarget, notificationFor } from '$lib/push/notification.ts';

const sw = self as unknown as ServiceWorkerGlobalScope;

sw.addEventListener('install', () => {
  // A new version takes over at once: notification handling must not wait for every tab to close.
  void sw.skipWaiting();
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim());
});

sw.addEventListener('push', (event) => {
  const { title, options } = notificationFor(event.data ? event.data.text() : null);
  event.waitUntil(sw.registration.showNotification(title, options));
});

/** Brings a dashboard window to the alert: an open one if there is one, else a new one. */
async function openAlert(url: string): Promise<void> {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const same = windows.filter((w) => new URL(w.url).origin === sw.location.origin);
  const exact = same.find((w) => w.url === url);
  if (exact) {
    await exact.focus();
    return;
  }
  for (const w of same) {
    // navigate() needs a window this worker controls; an uncontrolled one is skipped.
    const moved = await w.navigate(url).catch(() => null);
    if (moved) {
      await moved.focus().catch(() => undefined);
      return;
    }
  }
  await sw.clients.openWindow(url);
}

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const opening = openAlert(clickTarget(event.notification.data, sw.location.origin));
  event.waitUntil(opening);
});
