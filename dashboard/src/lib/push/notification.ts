/**
 * What the service worker shows for a push, and where a tap goes. Plain functions (no DOM, no runes)
 * so the service worker, the dashboard tab and the unit tests share them.
 */
// The push module only (not the contract index): the service worker bundle stays small.
import { alertPath, type PushPayload } from '@parkops/contract/push.ts';

export interface ShownNotification {
  title: string;
  options: NotificationOptions & { renotify?: boolean; requireInteraction?: boolean; vibrate?: number[]; timestamp?: number };
}

/** Shown when a push carries no readable payload: a push must always show something (userVisibleOnly). */
const FALLBACK = { title: '园区运维 ParkOps', body: '有新的告警，点按查看。 · New alert: tap to open.' };

function isPayload(v: unknown): v is PushPayload {
  const p = v as Partial<PushPayload> | null;
  return !!p && p.v === 1 && typeof p.title === 'string' && typeof p.body === 'string' && typeof p.url === 'string' && typeof p.tag === 'string';
}

/** Only same-origin paths: a payload must never send a tap somewhere else. */
export function safePath(url: unknown): string {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\') ? url : '/flood';
}

/**
 * The notification for a push payload (the decrypted text). Critical changes that need a person
 * (`urgent`) stay until dismissed, sound and vibrate even when they replace an earlier one for the same
 * alert (`renotify`); an acknowledgement or a resolution replaces it silently.
 */
export function notificationFor(text: string | null): ShownNotification {
  let payload: unknown;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!isPayload(payload)) {
    return { title: FALLBACK.title, options: { body: FALLBACK.body, tag: 'parkops', icon: '/icons/icon-192.png', badge: '/icons/badge-96.png', data: { url: '/flood' }, requireInteraction: true } };
  }
  const urgent = payload.urgent === true;
  return {
    title: payload.title,
    options: {
      body: payload.body,
      tag: payload.tag,
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
      ...(Number.isFinite(Date.parse(payload.at)) ? { timestamp: Date.parse(payload.at) } : {}),
      data: { url: safePath(payload.url), alertId: payload.alertId, kind: payload.kind },
      requireInteraction: urgent && payload.severity === 'critical',
      renotify: urgent,
      silent: !urgent,
      ...(urgent ? { vibrate: [300, 150, 300, 150, 600] } : {}),
    },
  };
}

/** The notification the open dashboard shows itself for an alert in the banner (same tag as a push: one per alert). */
export function localNotification(alert: { id: string; severity: string; subject: string; room?: string | undefined }, title: string, body: string): ShownNotification {
  const url = alertPath(alert);
  return {
    title,
    options: {
      body,
      tag: `alert-${alert.id}`,
      icon: '/icons/icon-192.png',
      badge: '/icons/badge-96.png',
      data: { url, alertId: alert.id, kind: 'alert' },
      requireInteraction: alert.severity === 'critical',
    },
  };
}

/** Where a tap on a notification goes, as an absolute URL on this origin. */
export function clickTarget(data: unknown, origin: string): string {
  return new URL(safePath((data as { url?: unknown } | null)?.url), origin).href;
}
