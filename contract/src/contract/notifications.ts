/**
 * Notification attempts as GET /api/notifications and the incident timeline show them
 * (docs/notifications.md). The dashboard words `errorCode` in the reader's language; `error` is the
 * English detail for the log and the admin.
 */
/** Why an attempt did not deliver, as a stable code. */
export const DELIVERY_ERROR_CODES = [
  /** no answer within the timeout */
  'timeout',
  /** connection refused */
  'refused',
  /** the host name does not resolve */
  'dns',
  /** the receiver closed the connection */
  'reset',
  /** another network failure */
  'network',
  /** an HTTP error status (`httpStatus` says which) */
  'http',
  /** a robot answered 200 with a refusal (errcode / code) */
  'receiver',
  /** a redirect, which is not followed */
  'redirect',
  /** ParkOps was shutting down; it is tried again after the restart */
  'interrupted',
  /** the push service no longer knows the subscription: removed */
  'gone',
  /** the push service refused the VAPID key or signature */
  'auth',
  /** the payload is too large for the receiver */
  'too-large',
  /** the target is not an allowed push service (PARKOPS_PUSH_ALLOW_HOSTS) */
  'not-allowed',
  /** the stored delivery cannot be sent (removed subscription, bad payload) */
  'invalid',
  /** no delivery channel is configured: nobody outside the dashboard was told */
  'unconfigured',
  /** channels are configured, but none sends this alert change: nobody outside the dashboard was told */
  'filtered',
] as const;
export type DeliveryErrorCode = (typeof DELIVERY_ERROR_CODES)[number];

export const ATTEMPT_STATUSES = ['sent', 'retrying', 'failed'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/**
 * The channel of a record that says nothing was sent at all (`errorCode` `unconfigured` or
 * `filtered`): the incident timeline shows "nobody outside the dashboard was told".
 */
export const NO_CHANNEL = 'none';

/** One delivery attempt, as the dashboard and the incident timeline show it. */
export interface NotificationAttempt {
  id: number;
  deliveryId: number;
  alertId: string;
  change: string;
  /**
   * `webhook` (core, settings URL), `node-red` (handed off by a flow), `escalation`, `fallback` (core,
   * after no flow handed off a critical change), a channel's name (`wecom`, `dingtalk`, `feishu`,
   * `webpush`), or `none` (nothing was sent: see errorCode).
   */
  channel: string;
  /** The URL with its secrets masked. */
  target: string;
  attempt: number;
  status: AttemptStatus;
  httpStatus: number | null;
  /** English detail; never a push service's answer text */
  error: string | null;
  errorCode: DeliveryErrorCode | null;
  at: string;
  durationMs: number;
}

/** `GET /api/notifications/stats` */
export interface NotificationStats {
  pending: number;
  failedLast24h: number;
  /** alert changes that reached nobody outside the dashboard in the last 24 h */
  unsentLast24h: number;
  lastFailure: NotificationAttempt | null;
}

/**
 * `GET /api/notifications/channels` and `notifications` in GET /api/health: what would carry an alert
 * outside the dashboard now. `channels` 0 means: nobody outside the dashboard is told.
 */
export interface ChannelSummary {
  channels: number;
  webhook: boolean;
  robots: string[];
  escalationContacts: number;
  /** push subscriptions of responders and above */
  pushSubscriptions: number;
  /** the Node-RED flows route the settings webhook */
  flows: boolean;
}
