/**
 * The notifications module: turns alert changes into stored deliveries, decides where each goes, and
 * says so plainly when an alert change reached nobody outside the dashboard.
 *
 * Routes (docs/node-red.md explains the choice):
 * - The settings webhook (PARKOPS_WEBHOOK_URL). While the Node-RED flow route is attached (the default
 *   flow runs `parkops-alert` -> format -> `parkops-notify`), flows decide what goes there and hand each
 *   message to `handOff`. Without Node-RED the Notifier sends every change itself. Either way a critical
 *   change that no flow handed off within `handoffGraceMs` is sent by the core anyway: a broken or
 *   deleted flow cannot silence a flood alarm.
 * - Escalation contacts (site `notifications.escalationContacts`): always sent by the core on `escalated`.
 * - Channels (channels/: WeCom, signed DingTalk and Feishu robots, Web Push): always sent by the core,
 *   whatever the flows do; each channel signs or encrypts at send time (`Channel.send`). A flow may hand a
 *   message of its own to a robot channel (`HandOff.channel`): it is signed the same way.
 *
 * A delivery is stored (repository.ts) before any HTTP happens, so a restart resumes pending retries;
 * the queue (queue.ts) tries it and records each try. An alert change that asks for action (opened,
 * worsened, renotified, escalated) and went nowhere is recorded too (channel `none`): the incident
 * timeline and the dashboard say "nobody outside the dashboard was told". Nothing here blocks the bus:
 * the listener only queues work.
 */
import type { Router } from 'express';
import type { Alert } from '@parkops/contract/api.ts';
import { NO_CHANNEL, type AttemptStatus, type ChannelSummary, type DeliveryErrorCode, type NotificationAttempt, type NotificationStats } from '@parkops/contract/notifications.ts';
import type { EventBus, AlertChanged } from '../bus.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module } from '../module.ts';
import type { Db } from '../store/db.ts';
import { buildBody, MessageWriter, pickFormat, redactTarget, type SiteNames, type WebhookFormat } from './format.ts';
import { DeliveryQueue, SerialWrites, type QueueOptions } from './queue.ts';
import { SqliteNotificationRepository, type NotificationRepository } from './repository.ts';
import { notificationsRouter } from './routes.ts';
import type { Channel, ChannelDelivery } from './channels/types.ts';

export type { AttemptStatus, NotificationAttempt } from '@parkops/contract/notifications.ts';

export interface NotifySite extends SiteNames {
  notifications: { escalationContacts: string[] };
}

export interface NotifierOptions extends QueueOptions {
  /** How long a critical change may wait for a flow's hand-off before the core sends it. */
  handoffGraceMs: number;
  /** The alert changes worth a message; others (`updated`) are not sent by the core. */
  changes: string[];
  /** Send critical changes no flow handed off (true). False trusts the flows completely. */
  criticalFallback: boolean;
}

/** Alert changes that notify people (alerts/types.ts AlertChange, without `updated`). */
export const NOTIFY_CHANGES = ['opened', 'worsened', 'acknowledged', 'renotified', 'escalated', 'resolved'];

/** Changes that ask someone to act: when one reaches nobody outside the dashboard, that is recorded. */
export const ACTION_CHANGES: readonly string[] = ['opened', 'worsened', 'renotified', 'escalated'];

export const DEFAULT_NOTIFIER_OPTIONS: NotifierOptions = {
  timeoutMs: 10_000,
  maxAttempts: 6,
  baseDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  jitter: 0.2,
  concurrency: 4,
  handoffGraceMs: 15_000,
  changes: NOTIFY_CHANGES,
  criticalFallback: true,
};

/** Robot channels a flow may hand a message to, and the setting that configures each. */
const HANDOFF_CHANNELS: Record<string, string> = { wecom: 'PARKOPS_WECOM_URL', dingtalk: 'PARKOPS_DINGTALK_URL', feishu: 'PARKOPS_FEISHU_URL' };

/** What a flow hands to the Notifier (`parkops-notify` node). */
export interface HandOff {
  /** Empty for a message that is not about one alert. */
  alertId?: string | undefined;
  /** Missing: `message`. */
  change?: string | undefined;
  /** Empty or missing: the settings webhook. */
  target?: string | undefined;
  /**
   * A robot channel of the core (`wecom`, `dingtalk`, `feishu`) instead of a URL: sent to the robot the
   * settings name, signed at send time as the core signs its own messages.
   */
  channel?: string | undefined;
  /** The request body; a string is sent as is, anything else as JSON. */
  body: unknown;
}

/** How often the channel summary (for /api/health) is worked out again. */
const SUMMARY_EVERY_MS = 60_000;

/** The settings and docs that configure a channel: the start-up line and the dashboard notice name them. */
export const NO_CHANNEL_HINT =
  'no notification channel is configured: alerts reach only people looking at the dashboard. Set PARKOPS_WEBHOOK_URL, PARKOPS_WECOM_URL, PARKOPS_DINGTALK_URL or PARKOPS_FEISHU_URL, or let responders turn on phone notifications; see docs/notifications.md';

export class Notifier implements Module {
  readonly name = 'notify';
  readonly options: NotifierOptions;
  private readonly repo: NotificationRepository;
  private readonly bus: EventBus;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly site: NotifySite | undefined;
  private readonly writer: MessageWriter;
  private readonly writes = new SerialWrites();
  private readonly queue: DeliveryQueue;
  private readonly channels = new Map<string, Channel>();

  private unsubscribe: (() => void) | null = null;
  private running = false;
  /** Alert changes are routed one after another, in the order the bus gave them. */
  private routing: Promise<void> = Promise.resolve();
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  private summaryTimer: NodeJS.Timeout | null = null;
  private summary: ChannelSummary = { channels: 0, webhook: false, robots: [], escalationContacts: 0, pushSubscriptions: 0, flows: false };
  /** alertId + change -> when a flow last handed it off (epoch ms). */
  private readonly handOffs = new Map<string, number>();
  private flowRoute = false;

  constructor(deps: { db?: Db; repo?: NotificationRepository; bus: EventBus; config: Config; log: Logger; clock?: Clock; site?: NotifySite; options?: Partial<NotifierOptions>; channels?: Channel[] }) {
    if (!deps.repo && !deps.db) throw new Error('Notifier needs a repository or a database');
    this.repo = deps.repo ?? new SqliteNotificationRepository(deps.db!);
    this.bus = deps.bus;
    this.config = deps.config;
    this.log = deps.log.child({ module: 'notify' });
    this.clock = deps.clock ?? systemClock;
    this.site = deps.site;
    this.writer = new MessageWriter(deps.site);
    this.options = { ...DEFAULT_NOTIFIER_OPTIONS, ...deps.options };
    for (const c of deps.channels ?? []) this.channels.set(c.name, c);
    this.queue = new DeliveryQueue({ repo: this.repo, writes: this.writes, channels: this.channels, options: this.options, clock: this.clock, log: this.log });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.bus.on('alert.changed', (e) => this.onAlertChanged(e));
    const resumed = await this.queue.start();
    if (resumed > 0) this.log.info({ pending: resumed }, 'resuming pending notifications');
    await this.refreshSummary();
    if (this.summary.channels === 0) this.log.warn({ settings: Object.values(HANDOFF_CHANNELS).concat('PARKOPS_WEBHOOK_URL'), docs: 'docs/notifications.md' }, NO_CHANNEL_HINT);
    this.summaryTimer = setInterval(() => void this.refreshSummary(), SUMMARY_EVERY_MS);
    this.summaryTimer.unref();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    this.summaryTimer = null;
    await this.routing;
    await this.queue.stop();
  }

  /** Node-RED calls this once its flows run (and detaches on stop): flows then route the settings webhook. */
  attachFlowRoute(): void {
    this.flowRoute = true;
    this.summary = { ...this.summary, flows: true };
  }
  detachFlowRoute(): void {
    this.flowRoute = false;
    this.summary = { ...this.summary, flows: false };
  }

  /** The settings webhook and its format, for the default flow's formatting step. */
  settingsWebhook(): { url: string | null; format: WebhookFormat } {
    const url = this.config.PARKOPS_WEBHOOK_URL ?? null;
    return { url, format: url ? pickFormat(url, this.config.PARKOPS_WEBHOOK_FORMAT) : 'json' };
  }

  /** The words of notifications (the site's language first), for the default flow's `msg.text`. */
  get messages(): MessageWriter {
    return this.writer;
  }

  /**
   * A flow's message for a webhook or a robot channel. Stored before it resolves, delivered later with
   * retries; rejects (with a message for the flow's debug panel) when there is nowhere to send it.
   */
  async handOff(h: HandOff): Promise<number> {
    const alertId = typeof h.alertId === 'string' ? h.alertId : '';
    const change = typeof h.change === 'string' && h.change !== '' ? h.change : 'message';
    const body = typeof h.body === 'string' ? h.body : JSON.stringify(h.body ?? null);
    if (h.channel !== undefined && h.channel !== '') {
      const setting = HANDOFF_CHANNELS[h.channel];
      if (setting === undefined) throw new Error(`unknown channel "${h.channel}": use wecom, dingtalk or feishu, or give a URL`);
      const channel = this.channels.get(h.channel);
      const target = channel?.handOffTarget?.();
      if (!channel || !target) throw new Error(`the ${h.channel} channel is not configured: set ${setting}`);
      if (!isJsonObject(body)) throw new Error(`a ${h.channel} message must be a JSON object (msg.payload)`);
      if (alertId) this.noteHandOff(alertId, change);
      return this.enqueue(alertId, change, channel.name, target, body);
    }
    const target = h.target && h.target.trim() !== '' ? h.target.trim() : this.config.PARKOPS_WEBHOOK_URL;
    if (!target) throw new Error('no webhook URL: set PARKOPS_WEBHOOK_URL or give the node a URL');
    let protocol: string;
    try {
      protocol = new URL(target).protocol;
    } catch {
      throw new Error(`not a URL: ${redactTarget(target)}`);
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error('the webhook URL must start with http:// or https://');
    // A flow may send things that are not about one alert (a reading tap, a daily summary).
    if (alertId) this.noteHandOff(alertId, change);
    return this.enqueue(alertId, change, 'node-red', target, body);
  }

  /** Queues deliveries a channel made outside an alert change (a test push). Resolves to the delivery ids. */
  async queueChannel(channel: string, alertId: string, change: string, deliveries: ChannelDelivery[]): Promise<number[]> {
    if (!this.channels.has(channel)) throw new Error(`no channel ${channel}`);
    return Promise.all(deliveries.map((d) => this.enqueue(alertId, change, channel, d.target, d.body)));
  }

  /** Resolves once every alert change seen so far is routed and its deliveries are stored. */
  async settled(): Promise<void> {
    await this.routing;
    await this.writes.idle();
  }

  /** Newest attempts first. */
  async recent(limit = 100, opts: { status?: AttemptStatus | undefined } = {}): Promise<NotificationAttempt[]> {
    await this.settled();
    return this.repo.recent(Math.max(1, Math.min(1000, Math.floor(limit))), opts.status);
  }

  /** Every attempt for these alerts, oldest first: the incident timeline's notification lines. */
  async forAlerts(alertIds: string[]): Promise<NotificationAttempt[]> {
    await this.settled();
    return alertIds.length === 0 ? [] : this.repo.forAlerts(alertIds);
  }

  /** Every attempt for one alert, oldest first. */
  forAlert(alertId: string): Promise<NotificationAttempt[]> {
    return this.forAlerts([alertId]);
  }

  /** For health and the dashboard: deliveries still retrying, failures and unsent changes in the last 24 h. */
  async stats(): Promise<NotificationStats> {
    await this.settled();
    const s = await this.repo.stats(new Date(this.clock.now() - 24 * 3600_000).toISOString());
    return { pending: s.pending, failedLast24h: s.failedSince, unsentLast24h: s.unsentSince, lastFailure: s.lastFailure };
  }

  /** What would carry an alert outside the dashboard, as last worked out (at most a minute old). */
  channelSummary(): ChannelSummary {
    return this.summary;
  }

  /** Works the channel summary out now (after a phone subscribed or unsubscribed, and every minute). */
  async refreshSummary(): Promise<ChannelSummary> {
    const robots: string[] = [];
    let pushSubscriptions = 0;
    for (const c of this.channels.values()) {
      try {
        if (c.name === 'webpush') pushSubscriptions = await c.reach();
        else if ((await c.reach()) > 0) robots.push(c.name);
      } catch (err) {
        this.log.warn({ err, channel: c.name }, 'could not count the reach of a channel');
      }
    }
    const webhook = Boolean(this.config.PARKOPS_WEBHOOK_URL);
    const escalationContacts = this.site?.notifications.escalationContacts.length ?? 0;
    this.summary = { channels: (webhook ? 1 : 0) + robots.length + escalationContacts + pushSubscriptions, webhook, robots, escalationContacts, pushSubscriptions, flows: this.flowRoute };
    return this.summary;
  }

  /**
   * For the human start-up output: how to set a channel when none is, or null. Read after start.
   */
  startupNotice(): string | null {
    return this.summary.channels === 0 ? `Notifications: ${NO_CHANNEL_HINT}.` : null;
  }

  /** Called after every recorded attempt (for the live stream: a failed delivery shows on the dashboard at once). */
  onAttempt(listener: (a: NotificationAttempt) => void): () => void {
    return this.queue.onAttempt(listener);
  }

  /** `GET /` attempts, `GET /stats`, `GET /channels`. Mount behind requireRole('viewer'). */
  router(): Router {
    return notificationsRouter(this);
  }

  // --- internals ---

  private onAlertChanged({ alert, change }: AlertChanged): void {
    // `updated` (value moved, every 10 s at most per alert) is for dashboards, not for phones.
    if (!this.options.changes.includes(change)) return;
    const snapshot = structuredClone(alert);
    const at = this.clock.now();
    this.routing = this.routing.then(() => this.route(snapshot, change, at)).catch((err: unknown) => this.log.error({ err, alertId: alert.id, change }, 'could not queue the notifications of an alert change'));
  }

  private async route(alert: Alert, change: string, at: number): Promise<void> {
    const queued: Promise<number>[] = [];
    let later = false;
    const url = this.config.PARKOPS_WEBHOOK_URL;
    if (url) {
      if (!this.flowRoute) queued.push(this.enqueueFormatted(alert, change, 'webhook', url, this.config.PARKOPS_WEBHOOK_FORMAT));
      else if (alert.severity === 'critical' && this.options.criticalFallback) {
        this.watchHandOff(alert, change, url, at);
        later = true;
      }
    }
    if (change === 'escalated') {
      for (const contact of this.site?.notifications.escalationContacts ?? []) queued.push(this.enqueueFormatted(alert, change, 'escalation', contact, 'auto'));
    }
    for (const channel of this.channels.values()) {
      try {
        for (const d of await channel.deliveriesFor(alert, change)) queued.push(this.enqueue(alert.id, change, channel.name, d.target, d.body));
      } catch (err) {
        // One channel's fault (a bad subscription row, a formatting bug) must not cost the others their message.
        this.log.error({ err, channel: channel.name, alertId: alert.id, change }, 'could not queue a notification');
      }
    }
    await Promise.allSettled(queued);
    if (queued.length > 0 || later || !ACTION_CHANGES.includes(change)) return;
    // Nothing was queued. With the flow route attached a flow may still hand it off; wait for that.
    if (this.flowRoute) this.afterGrace(() => this.unsentUnlessHandedOff(alert, change, at));
    else await this.recordUnsent(alert, change);
  }

  private handOffKey(alertId: string, change: string): string {
    return `${alertId}\u0000${change}`;
  }

  private noteHandOff(alertId: string, change: string): void {
    const now = this.clock.now();
    this.handOffs.set(this.handOffKey(alertId, change), now);
    if (this.handOffs.size > 1000) {
      for (const [k, at] of this.handOffs) if (at < now - 3600_000) this.handOffs.delete(k);
    }
  }

  private handedOffSince(alertId: string, change: string, since: number): boolean {
    const handedAt = this.handOffs.get(this.handOffKey(alertId, change));
    return handedAt !== undefined && handedAt >= since;
  }

  private afterGrace(fn: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.graceTimers.delete(timer);
      if (!this.running) return;
      this.routing = this.routing.then(fn).catch((err: unknown) => this.log.error({ err }, 'notification hand-off check failed'));
    }, this.options.handoffGraceMs);
    this.graceTimers.add(timer);
  }

  /** Critical changes reach the settings webhook even when the flow is broken, deleted or filters them out by mistake. */
  private watchHandOff(alert: Alert, change: string, url: string, since: number): void {
    this.afterGrace(async () => {
      if (this.handedOffSince(alert.id, change, since)) return;
      this.log.warn({ alertId: alert.id, change, graceMs: this.options.handoffGraceMs }, 'no Node-RED flow handed off a critical alert change: the core sends it');
      await this.enqueueFormatted(alert, change, 'fallback', url, this.config.PARKOPS_WEBHOOK_FORMAT);
    });
  }

  private async unsentUnlessHandedOff(alert: Alert, change: string, since: number): Promise<void> {
    if (!this.handedOffSince(alert.id, change, since)) await this.recordUnsent(alert, change);
  }

  private async recordUnsent(alert: Alert, change: string): Promise<void> {
    const summary = await this.refreshSummary();
    const errorCode: DeliveryErrorCode = summary.channels === 0 ? 'unconfigured' : 'filtered';
    const error =
      errorCode === 'unconfigured'
        ? 'nobody outside the dashboard was told: no notification channel is configured (docs/notifications.md)'
        : `nobody outside the dashboard was told: no configured channel sends ${alert.severity} ${change} changes`;
    const at = new Date(this.clock.now()).toISOString();
    const recorded = await this.writes.run(() => this.repo.recordUnsent({ alertId: alert.id, change, channel: NO_CHANNEL, error, errorCode, at }));
    this.log.warn({ alertId: alert.id, change, severity: alert.severity, errorCode }, error);
    this.queue.announce(recorded);
  }

  private enqueueFormatted(alert: Alert, change: string, channel: string, target: string, format: WebhookFormat | 'auto'): Promise<number> {
    const text = this.writer.describe(alert, change, this.clock.now());
    const body = buildBody(pickFormat(target, format), alert, change, text);
    return this.enqueue(alert.id, change, channel, target, JSON.stringify(body));
  }

  private enqueue(alertId: string, change: string, channel: string, target: string, body: string): Promise<number> {
    const nextAt = this.clock.now();
    return this.writes.run(async () => {
      const id = await this.repo.createDelivery({ alertId, change, channel, target, body, nextAt });
      this.queue.schedule(id, nextAt);
      return id;
    });
  }
}

function isJsonObject(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}
