/** One ticking clock for every age on screen (one timer per tab, not one per value). */
class Clock {
  now = $state(Date.now());
  private timer: ReturnType<typeof setInterval> | null = null;
  /** server time minus client time, set from the stream snapshot */
  offsetMs = $state(0);
  get serverNow(): number {
    return this.now + this.offsetMs;
  }
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => (this.now = Date.now()), 1000);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
export const clock = new Clock();
