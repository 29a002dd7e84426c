/**
 * The flood alarm in this tab: which alerts the banner shows, the audible alarm (WebAudio, mutable
 * per alert) and browser notifications. It is driven only by the live store's alerts, so an
 * acknowledgement made anywhere quietens every tab as soon as the stream delivers it.
 *
 * Notifications go through the service worker (`registration.showNotification`): Android Chrome
 * refuses `new Notification()`. They use the same tag as ParkOps' Web Push for the alert, so a phone
 * shows one notification per alert whether the push or the open tab raised it.
 */
import type { Alert } from '@parkops/contract';
import { isFloodAlert, needsAck } from './live.svelte.ts';
import { bySeverity } from './alerts.ts';
import { localNotification, type ShownNotification } from './push/notification.ts';

/** Alerts that hold the banner: flood alerts of warning or critical severity nobody acknowledged yet. */
export function bannerAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts
    .filter((a) => isFloodAlert(a) && a.severity !== 'info' && needsAck(a))
    .sort(bySeverity);
}

const MUTED_KEY = 'parkops.mutedAlerts';

export class Alarm {
  /** ids of alerts whose sound this tab muted */
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
  private current: Alert[] = [];

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

  isMuted(id: string): boolean {
    return this.muted.includes(id);
  }

  toggleMute(id: string): void {
    this.muted = this.isMuted(id) ? this.muted.filter((m) => m !== id) : [...this.muted, id];
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
    if (describe && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      for (const a of alerts) {
        if (this.notified.has(a.id)) continue;
        this.notified.add(a.id);
        const { title, body } = describe(a);
        const n = localNotification(a, title, body);
        this.queueNotify(() => this.showNotification(n));
      }
    }
    const audible = alerts.filter((a) => !this.isMuted(a.id));
    const critical = audible.some((a) => a.severity === 'critical');
    if (audible.length === 0) this.silence();
    else this.sound(critical ? 1000 : 4000);
  }

  private queueNotify(op: () => Promise<void>): void {
    // Both operations catch their own errors, so the chain never breaks.
    this.notifyQueue = this.notifyQueue.then(op);
  }

  private async showNotification(n: ShownNotification): Promise<void> {
    try {
      const reg = await navigator.serviceWorker?.getRegistration();
      if (!reg) throw new Error('no service worker is registered for this page');
      await reg.showNotification(n.title, n.options);
      this.notifyError = null;
    } catch (e) {
      // The banner stays either way; say why no notification appeared.
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
