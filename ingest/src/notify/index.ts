/** Notifications: stored deliveries with retries, the record of every attempt, and the channels (see notifier.ts). */
export { Notifier, DEFAULT_NOTIFIER_OPTIONS, NOTIFY_CHANGES, ACTION_CHANGES, NO_CHANNEL_HINT } from './notifier.ts';
export type { NotificationAttempt, NotifierOptions, NotifySite, HandOff, AttemptStatus } from './notifier.ts';
export { SqliteNotificationRepository, type NotificationRepository } from './repository.ts';
export { pickFormat, describeAlert, buildBody, redactTarget, robotError, MessageWriter } from './format.ts';
export type { WebhookFormat, FormatSetting, MessageText, SiteNames } from './format.ts';
