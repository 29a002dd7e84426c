/**
 * Drives a simulation against a sink (the MQTT publisher, or a counter) in one of three paces:
 * - `max`: back-fill, as fast as the sink takes it;
 * - a number: accelerated (1 = live), simulated ms per real ms.
 * Whatever the pace, the simulated clock never runs ahead of the wall clock: the contract rejects
 * readings stamped more than 5 minutes in the future, so a back-fill that reaches "now" carries on
 * live, and an accelerated run that catches up with the wall clock slows to real time.
 */
import type { Simulation } from './simulation.ts';
import type { SimMessage } from './types.ts';

export type Pace = number | 'max';

export interface Progress {
  /** Simulated clock, epoch ms. */
  simNow: number;
  sent: number;
  /** Messages per second since the previous progress report. */
  rate: number;
  /** Share of the run done, 0..1, when it has an end. */
  done: number | null;
  elapsedMs: number;
}

export interface RunOptions {
  sim: Simulation;
  /** Receives every message in order; a returned promise is awaited before the next (back-pressure). */
  sink: (msg: SimMessage) => Promise<void> | undefined | void;
  pace: Pace;
  /** Simulated end, epoch ms; Infinity (default) runs until stopped. */
  until?: number;
  /** Wall clock. */
  now?: () => number;
  onProgress?: (p: Progress) => void;
  progressEveryMs?: number;
  /** Real ms between checks of the clock when live. */
  tickMs?: number;
}

export interface RunSummary {
  from: number;
  to: number;
  sent: number;
  elapsedMs: number;
  ratePerSec: number;
  stoppedEarly: boolean;
}

/** Simulated time advanced per slice when running flat out: small enough to keep the event loop responsive. */
const SLICE_MS = 60_000;

export class SimulationRunner {
  private stopped = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  sent = 0;

  constructor(private readonly opts: RunOptions) {}

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  async run(): Promise<RunSummary> {
    const { sim, pace } = this.opts;
    const now = this.opts.now ?? Date.now;
    const until = this.opts.until ?? Infinity;
    const tickMs = this.opts.tickMs ?? 100;
    const every = this.opts.progressEveryMs ?? 1000;
    const from = sim.now;
    const realStart = now();
    let lastReportAt = realStart;
    let lastReportSent = 0;
    let slices = 0;

    const report = (t: number): void => {
      if (this.opts.onProgress === undefined) return;
      const dt = t - lastReportAt;
      this.opts.onProgress({
        simNow: sim.now,
        sent: this.sent,
        rate: dt > 0 ? ((this.sent - lastReportSent) * 1000) / dt : 0,
        done: Number.isFinite(until) ? Math.min(1, (sim.now - from) / Math.max(1, until - from)) : null,
        elapsedMs: t - realStart,
      });
      lastReportAt = t;
      lastReportSent = this.sent;
    };

    // The snapshot (every device's state at the start) goes out first, at once.
    await this.drain(sim.advanceTo(sim.now));

    while (!this.stopped && sim.now < until) {
      const wall = now();
      const paced = pace === 'max' ? wall : from + (wall - realStart) * pace;
      const target = Math.min(paced, wall, until);
      if (target > sim.now) {
        await this.drain(sim.advanceTo(Math.min(target, sim.now + SLICE_MS)));
        // Let timers and sockets run between slices of a back-fill.
        if (++slices % 8 === 0) await new Promise((r) => setImmediate(r));
      } else {
        await this.sleep(tickMs);
      }
      const t = now();
      if (t - lastReportAt >= every) report(t);
    }
    const end = now();
    report(end);
    const elapsedMs = end - realStart;
    return { from, to: sim.now, sent: this.sent, elapsedMs, ratePerSec: elapsedMs > 0 ? (this.sent * 1000) / elapsedMs : 0, stoppedEarly: this.stopped && sim.now < until };
  }

  private async drain(msgs: SimMessage[]): Promise<void> {
    const sink = this.opts.sink;
    for (const m of msgs) {
      const wait = sink(m);
      this.sent++;
      if (wait) await wait;
    }
  }
}
