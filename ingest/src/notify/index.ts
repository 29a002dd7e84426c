/** Notifications: webhook delivery with retries, and the record of every attempt (see notifier.ts). */
export { Notifier, DEFAULT_NOTIFIER_OPTIONS, NOTIFY_CHANGES } from './notifier.ts';
export type { NotificationAttempt, NotifierOptions, NotifySite, HandOff, AttemptStatus } from './notifier.ts';
export { pickFormat, describeAlert, buildBody, redactTarget, robotError } from './format.ts';
export type { WebhookFormat, FormatSetting, AlertText, SiteNames } from './format.ts';
