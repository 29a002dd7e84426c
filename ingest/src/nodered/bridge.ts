/**
 * The in-process bridge between ParkOps and its Node-RED nodes (`nodes/*.js`). Node-RED hands it to the
 * nodes as `RED.settings.parkops`; nothing goes over HTTP, and function nodes cannot reach it.
 *
 * Isolation: bus listeners here only copy the event and defer it with `setImmediate`, so no node code
 * ever runs inside `EventBus.emit`, that is inside ingest or alert evaluation. Every node gets its own
 * deep copy, so a flow that mutates `msg.payload` cannot change an alert the engine holds.
 */
import type { Alert } from '@parkops/contract/api.ts';
import type { EventBus, ReadingAccepted } from '../bus.ts';
import type { Logger } from '../log.ts';
import { MessageWriter, pickFormat, type MessageText, type SiteNames, type WebhookFormat } from '../notify/format.ts';
import type { HandOff } from '../notify/notifier.ts';

export interface AlertEvent {
  alert: Alert;
  change: string;
  /** The text in the site's language and the other one, ready for a robot message. */
  text: MessageText;
  /** The settings webhook's format (PARKOPS_WEBHOOK_FORMAT, or picked by its host). */
  format: WebhookFormat;
}

export interface AlertsPort {
  acknowledge(id: string, by: { username: string }, note?: string): unknown;
  list(q: { state: 'active' | 'all' }): unknown[] | Promise<unknown[]>;
}

/** What the Notifier offers flows (see notify/notifier.ts). */
export interface NotifyPort {
  handOff(h: HandOff): Promise<number>;
  settingsWebhook(): { url: string | null; format: WebhookFormat };
}

/** The object the nodes see. Plain JS calls it, so every method checks its input. */
export interface ParkOpsBridge {
  onAlert(listener: (e: AlertEvent) => void): () => void;
  onReading(listener: (e: ReadingAccepted) => void): () => void;
  acknowledge(id: unknown, by: unknown, note: unknown): Promise<unknown>;
  listAlerts(state: 'active' | 'all'): Promise<unknown[]>;
  handOff(h: HandOff): Promise<number>;
  hasNotifier(): boolean;
  settingsWebhook(): { url: string | null; format: WebhookFormat };
}

export class Bridge implements ParkOpsBridge {
  private readonly alertListeners = new Set<(e: AlertEvent) => void>();
  private readonly readingListeners = new Set<(e: ReadingAccepted) => void>();
  private offs: (() => void)[] = [];
  private readonly writer: MessageWriter;

  constructor(
    private readonly deps: { bus: EventBus; alerts: AlertsPort; notifier?: NotifyPort | undefined; site?: SiteNames | undefined; webhookUrl?: string | undefined; webhookFormat: WebhookFormat | 'auto'; log: Logger },
  ) {
    this.writer = new MessageWriter(deps.site);
  }

  attach(): void {
    this.offs.push(
      this.deps.bus.on('alert.changed', ({ alert, change }) => {
        if (this.alertListeners.size === 0) return;
        const copy = structuredClone(alert);
        setImmediate(() => this.dispatchAlert(copy, change));
      }),
      // Once per committed batch: one copy and one deferral for all its readings, in order.
      this.deps.bus.on('readings.accepted', ({ readings }) => {
        if (this.readingListeners.size === 0) return;
        const copy = structuredClone(readings);
        setImmediate(() => {
          for (const e of copy) for (const l of this.readingListeners) this.safely(() => l(structuredClone(e)), 'parkops-reading');
        });
      }),
    );
  }

  detach(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.alertListeners.clear();
    this.readingListeners.clear();
  }

  private dispatchAlert(alert: Alert, change: string): void {
    const { format } = this.settingsWebhook();
    let text: MessageText;
    try {
      text = this.writer.describe(alert, change);
    } catch (err) {
      this.deps.log.error({ err, alertId: alert.id }, 'cannot describe alert for Node-RED');
      return;
    }
    for (const l of this.alertListeners) {
      this.safely(() => l({ alert: structuredClone(alert), change, text: { ...text }, format }), 'parkops-alert');
    }
  }

  private safely(fn: () => void, what: string): void {
    try {
      fn();
    } catch (err) {
      this.deps.log.error({ err, node: what }, 'Node-RED node failed to take a message');
    }
  }

  onAlert(listener: (e: AlertEvent) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  onReading(listener: (e: ReadingAccepted) => void): () => void {
    this.readingListeners.add(listener);
    return () => this.readingListeners.delete(listener);
  }

  async acknowledge(id: unknown, by: unknown, note: unknown): Promise<unknown> {
    if (typeof id !== 'string' || id.trim() === '') throw new Error('msg.payload.id must be the alert id');
    if (typeof by !== 'string' || by.trim() === '') throw new Error('msg.payload.by must name who acknowledged (or set it on the node)');
    if (note !== undefined && note !== null && typeof note !== 'string') throw new Error('msg.payload.note must be text');
    const username = by.trim().slice(0, 64);
    const trimmedNote = typeof note === 'string' && note.trim() !== '' ? note.trim().slice(0, 1000) : undefined;
    this.deps.log.info({ alertId: id, by: username }, 'alert acknowledged from a Node-RED flow');
    return await this.deps.alerts.acknowledge(id.trim(), { username }, trimmedNote);
  }

  async listAlerts(state: 'active' | 'all'): Promise<unknown[]> {
    return structuredClone(await this.deps.alerts.list({ state }));
  }

  hasNotifier(): boolean {
    return this.deps.notifier !== undefined;
  }

  async handOff(h: HandOff): Promise<number> {
    if (!this.deps.notifier) throw new Error('ParkOps notifications are not running');
    return this.deps.notifier.handOff(h);
  }

  settingsWebhook(): { url: string | null; format: WebhookFormat } {
    if (this.deps.notifier) return this.deps.notifier.settingsWebhook();
    const url = this.deps.webhookUrl ?? null;
    return { url, format: url ? pickFormat(url, this.deps.webhookFormat) : 'json' };
  }
}
