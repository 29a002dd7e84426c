/**
 * What ParkOps sends through Web Push and the dashboard's service worker shows (docs/notifications.md,
 * "Phones: Web Push"). Encrypted end to end (RFC 8291); at most a few KB, as push services
 * accept 4096 bytes of encrypted payload.
 */
import type { AlertSeverity, AlertState } from './api.ts';
import { parseSubject, roomOf } from './subjects.ts';

export interface PushPayload {
  v: 1;
  /** `alert`: an alert change; `test`: the "send a test notification" button. */
  kind: 'alert' | 'test';
  /** empty for a test */
  alertId: string;
  /** opened, worsened, renotified, escalated (wake the phone); acknowledged, resolved (quiet update) */
  change: string;
  severity: AlertSeverity;
  state: AlertState;
  room?: string;
  /** in the site's language */
  title: string;
  body: string;
  /** the same-origin path a tap opens: the alert, ready to acknowledge */
  url: string;
  /** one notification per alert: a later change replaces the earlier one */
  tag: string;
  /** true: sound, vibration, and it stays until dismissed; false: a silent replacement */
  urgent: boolean;
  /** when ParkOps made it (ISO 8601) */
  at: string;
}

/** The push routes' answers, typed from their zod schemas (a type-only import: no zod in the service worker). */
export type { PushKeyResponse, PushSubscriptionView } from './http.ts';

/** Where a tap on an alert's notification goes: the flood page, scrolled to the alert ready to acknowledge, or the overview. */
export function alertPath(alert: { id: string; subject: string; room?: string | undefined }): string {
  const q = `?alert=${encodeURIComponent(alert.id)}`;
  return roomOf(parseSubject(alert.subject)) !== undefined || alert.room ? `/flood${q}` : `/${q}`;
}
