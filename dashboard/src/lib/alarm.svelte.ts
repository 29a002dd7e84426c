/**
 * The flood alarm in this tab: which alerts the banner shows, the audible alarm (WebAudio) and browser
 * notifications. It is driven only by the live store's alerts, so an acknowledgement made anywhere
 * quietens every tab as soon as the stream delivers it.
 *
 * Sound: only live alerts sound. A cleared (resolved) alert stays in the banner until someone
 * acknowledges it, but it never makes a sound: a wall screen that cannot acknowledge must not beep all
 * night for water that is gone. One mute silences every alert the banner holds now; an alert that
 * arrives later sounds again (it is news).
 *
 * Notifications go through the service worker (`registration.showNotification`): Android Chrome
 * refuses `new Notification()`. They use the same tag as ParkOps' Web Push for the alert, so a phone
 * shows one notification per alert whether the push or the open tab raised it.
 */
import type { Alert } from '@parkops/contract';
import { isFloodAlert, needsAck } from './live.svelte.ts';
import { byUrgency } from './alerts.ts';
import { localNotification, type ShownNotification } from './push/notification.ts';

/** Alerts that hold the banner: flood alerts of warning or critical severity nobody acknowledged yet, live ones first. */
export function bannerAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts
    .filter((a) => isFloodAlert(a) && a.severity !== 'info' && needsAck(a))
    .sort(byUrgency);
}

/** The alerts that may sound: live (not cleared) and not muted. */
export function audibleAlerts(shown: readonly Alert[], muted: readonly string[]): Alert[] {
  return shown.filter((a) => a.state !== 'resolved' && !muted.includes(a.id));
}

const MUTED_KEY = 'parkops.mutedAlerts';

/** How long a notification waits for the service worker to become active before the banner says why not. */
const READY_WAIT_MS = 10_000;

/** The registration once its worker is active; bounded, so a worker that never activates cannot stall the queue. */
function activeRegistration(sw: ServiceWorkerContainer): Promise<ServiceWorkerRegistration> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service worker did not become active')), READY_WAIT_MS);
    sw.ready.then((reg) => { clearTimeout(timer); resolve(reg); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}

export class Alarm {
  /** ids of the alerts that were in the banner when this tab was muted */
  muted = $state.raw<string[]>([]);
  /** the browser blocked sound until the user interacts with the page */
  soundBlocked = $state(false);
  sounding = $state(false);
  /** why the last notification could not be shown (the banner says it), or null */
  notifyError = $state<string | null>(null);

  private ctx: AudioContext | null = null;
  private beepTimer: ReturnType<typeof setInterval> | null = null;
  /** ids of alerts this tab raised a notification for */
  private notified = new Set<string>();
  /**
   * Showing and closing run one after another, in the order asked: a close that overtook a later show
   * of the same tag would leave an alert in the banner with no notification.
   */
  private notifyQueue: Promise<void> = Promise.resolve();
  private current = $state.raw<Alert[]>([]);

  init(): void {
    try {
      this.muted = JSON.parse(sessionStorage.getItem(MUTED_KEY) ?? '[]') as string[];
    } catch {
      this.muted = [];
    }
    // Browsers start audio only after a user gesture; resume on the first one.
    const unlock = (): void => {
      void this.ctx?.resume().then(() => (this.soundBlocked = this.ctx?.state !== 'running'));
    };
    window.addEventListener('pointerdown', unlock);
    window.addEventListener('keydown', unlock);
  }

  /** Every live alert in the banner is muted (or none is live): the one mute button shows "unmute". */
  get allMuted(): boolean {
    const live = this.current.filter((a) => a.state !== 'resolved');
    return live.length > 0 && live.every((a) => this.muted.includes(a.id));
  }

  /** One mute for all: silences every alert the banner holds now. */
  muteAll(): void {
    this.setMuted(this.current.map((a) => a.id));
  }

  unmuteAll(): void {
    this.setMuted([]);
  }

  private setMuted(ids: string[]): void {
    this.muted = ids;
    try {
      sessionStorage.setItem(MUTED_KEY, JSON.stringify(this.muted));
    } catch {
      // private mode: mute lasts for this page only
    }
    this.update(this.current, null);
  }

  /** Re-evaluate after the alerts changed. `describe` gives the notification text. */
  update(alerts: Alert[], describe: ((a: Alert) => { title: string; body: string }) | null): void {
    this.current = alerts;
    const ids = new Set(alerts.map((a) => a.id));
    // Quieten: close notifications of alerts no longer in the banner (acknowledged anywhere).
    for (const id of [...this.notified]) {
      if (!ids.has(id)) {
        this.notified.delete(id);
        this.queueNotify(() => this.closeNotification(`alert-${id}`));
      }
    }
    // Forget mutes of alerts that left the banner, so the list does not grow all night.
    if (this.muted.some((id) => !ids.has(id))) this.muted = this.muted.filter((id) => ids.has(id));
    if (describe && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      for (const a of alerts) {
        // A cleared alert is not news: no notification for it (one raised while it was live stays).
        if (this.notified.has(a.id) || a.state === 'resolved') continue;
        this.notified.add(a.id);
        const { title, body } = describe(a);
        const n = localNotification(a, title, body);
        this.queueNotify(() => this.showNotification(a.id, n));
      }
    }
    const audible = audibleAlerts(alerts, this.muted);
    const critical = audible.some((a) => a.severity === 'critical');
    if (audible.length === 0) this.silence();
    else this.sound(critical ? 1000 : 4000);
  }

  private queueNotify(op: () => Promise<void>): void {
    // Both operations catch their own errors, so the chain never breaks.
    this.notifyQueue = this.notifyQueue.then(op);
  }

  private async showNotification(alertId: string, n: ShownNotification): Promise<void> {
    try {
      // `ready`, not getRegistration(): while the worker is still installing or activating (first visit,
      // a new version taking over) the registration has no active worker and showNotification throws.
      const sw = navigator.serviceWorker;
      if (!sw) throw new Error('this browser has no service workers');
      const reg = await activeRegistration(sw);
      await reg.showNotification(n.title, n.options);
      this.notifyError = null;
    } catch (e) {
      // The banner stays either way; say why no notification appeared, and try again at the next
      // change instead of leaving this alert without one for good.
      this.notified.delete(alertId);
      const err = e as { name?: string; message?: string };
      this.notifyError = [err.name, err.message].filter(Boolean).join(': ') || String(e);
    }
  }

  private async closeNotification(tag: string): Promise<void> {
    try {
      const reg = await navigator.serviceWorker?.getRegistration();
      for (const n of (await reg?.getNotifications({ tag })) ?? []) n.close();
    } catch {
      // nothing to close in this context: a notification that stays open is harmless
    }
  }

  private sound(everyMs: number): void {
    this.sounding = true;
    if (!this.ctx) {
      const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
      if (!Ctx) return;
      this.ctx = new Ctx();
    }
    this.soundBlocked = this.ctx.state !== 'running';
    if (this.soundBlocked) void this.ctx.resume().then(() => (this.soundBlocked = this.ctx?.state !== 'running'), () => {});
    if (this.beepTimer) clearInterval(this.beepTimer);
    this.beep();
    this.beepTimer = setInterval(() => this.beep(), everyMs);
  }

  private beep(): void {
    const ctx = this.ctx;
    if (!ctx || ctx.state !== 'running') return;
    // Two-tone 880/660 Hz, 0.4 s: distinct from phone notification sounds.
    const t0 = ctx.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.2);
      gain.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.2 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.2 + 0.19);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + i * 0.2);
      osc.stop(t0 + i * 0.2 + 0.2);
    }
  }

  private silence(): void {
    this.sounding = false;
    if (this.beepTimer) clearInterval(this.beepTimer);
    this.beepTimer = null;
  }

  destroy(): void {
    this.silence();
    // Notifications outlive the tab on purpose: on a phone they are the alarm once the page is gone.
    this.notified.clear();
    void this.ctx?.close();
    this.ctx = null;
  }
}

export const alarm = new Alarm();
