/** Command-line time arguments: spans, times and the pace they make. */
import type { Pace } from './runner.ts';

export class UsageError extends Error {}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `4h`, `2d` to ms. */
export function parseSpan(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (m === null) throw new UsageError(`${what}: "${text}" is not a time span; use e.g. 90s, 30m, 4h, 2d`);
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

/** `now`, `-30d`, `+10m`, ISO 8601 or epoch ms to epoch ms. */
export function parseTime(text: string, what: string, now: number): number {
  const t = text.trim();
  if (t === 'now') return now;
  if (/^[+-]\d/.test(t) && /[smhdw]$/.test(t)) return now + (t.startsWith('-') ? -1 : 1) * parseSpan(t.slice(1), what);
  if (/^\d{10,}$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) throw new UsageError(`${what}: "${text}" is not a time; use now, -30d, -6h, an ISO time such as 2026-07-21T08:00:00+08:00, or epoch ms`);
  return ms;
}

export interface TimePlan {
  from: number;
  until: number;
  pace: Pace;
  description: string;
}

export function planTime(v: Record<string, string | undefined>, now: number): TimePlan {
  const speed = v.speed === undefined ? undefined : Number(v.speed);
  if (speed !== undefined && !(Number.isFinite(speed) && speed > 0)) throw new UsageError(`--speed: "${v.speed}" must be a number above 0`);
  const duration = v.duration === undefined ? undefined : parseSpan(v.duration, '--duration');
  if (v.to !== undefined && duration !== undefined) throw new UsageError('give --to or --duration, not both');
  let from = v.from === undefined ? undefined : parseTime(v.from, '--from', now);
  const to = v.to === undefined ? undefined : parseTime(v.to, '--to', now);
  if (from === undefined && speed !== undefined && speed > 1) {
    if (to !== undefined || duration === undefined) {
      throw new UsageError('--speed runs the simulated clock ahead of real time, and stamps may not run ahead of the wall clock (the contract rejects them): give --from in the past, e.g. --from -6h --speed 60');
    }
    from = now - duration;
  }
  from ??= now;
  if (from > now + 1000) throw new UsageError('--from is in the future; ParkOps rejects readings stamped more than 5 minutes ahead');
  const until = to ?? (duration !== undefined ? from + duration : Infinity);
  if (until <= from) throw new UsageError('the end (--to or --duration) must come after the start');
  const pace: Pace = speed ?? (from < now - 1000 ? 'max' : 1);
  const span = Number.isFinite(until) ? `${new Date(from).toISOString()} .. ${new Date(until).toISOString()}` : `from ${new Date(from).toISOString()}, until stopped`;
  const description = pace === 'max' ? `back-fill ${span}, as fast as the broker takes it${until > now ? ', then live' : ''}` : pace === 1 ? `live ${span}` : `accelerated ×${pace} ${span}`;
  return { from, until, pace, description };
}

