/**
 * Named scenarios. Each adds to a plan; names combine with `+` or `,` (`weekday+storm`) where they
 * make sense together. Times of the scenario's happenings are relative to `eventsAt` (default: five
 * simulated minutes after the start), so a test or a demo sees them soon after it starts.
 */
import { MINUTE_MS } from './local-time.ts';
import type { Weather } from './models/flood-room.ts';

export interface ScenarioInfo {
  name: string;
  summary: string;
}

export const SCENARIOS: readonly ScenarioInfo[] = [
  { name: 'weekday', summary: 'every day is a working day: commuter waves at 07:30-09:30 and 17:00-19:00, midday visitors, culture-plaza group visits' },
  { name: 'weekend', summary: 'every day is a weekend day: few commuters, afternoon visitors, no group visits' },
  { name: 'storm', summary: 'the summer rainstorm: backflow floods the B1 power room over about four hours; the level passes warn, alarm and critical, the duty pump runs, the standby joins, the water recedes; ahead of it a CAP rainstorm warning, and the pumps\' run log of the last two weeks shows the standby pump idle for 8 days' },
  { name: 'pump-failure', summary: 'during rain the duty pump is called but never starts (running:false); the standby pump takes over at its higher start level' },
  { name: 'pump-jam', summary: 'during rain the duty pump runs with a jammed impeller: running:true, current far above its band, no water moved' },
  { name: 'sensor-dropout', summary: 'the room\'s last level sensor goes silent; its Last Will (offline) fires 90 s later; it comes back after 30 minutes' },
  { name: 'gate-rush', summary: 'the weekday morning commuter wave at twice its normal volume: the lot fills and latecomers scan in and turn back' },
  { name: 'bad-devices', summary: 'a known share of bay sensors (default 2 %, at least 4) send malformed, out-of-range, future-dated or unknown-id payloads; every such message is flagged `bad`' },
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

export interface WeatherEvent {
  kind: 'storm' | 'rain';
  startAt: number;
}

/**
 * The pump controllers' run log sent (back-dated) with the first messages: `days` of history, in which
 * the pump of role `idle.role` last ran `idle.days` days ago. The storm scenario uses it so the
 * readiness checklist has a pump to flag before the rain.
 */
export interface PumpRunLog {
  days: number;
  idle: { role: 'duty' | 'standby'; days: number } | null;
}

export interface ScenarioPlan {
  names: string[];
  dayType: 'weekday' | 'weekend' | 'calendar';
  rushFactor: number;
  weather: WeatherEvent[];
  dutyFault: { kind: 'fail-to-start' | 'jam'; from: number } | null;
  dropout: { from: number; forMs: number } | null;
  badShare: number;
  pumpLog: PumpRunLog | null;
}

export class ScenarioError extends Error {}

/** Splits `weekday+storm`, `weekday,storm` and lists of those into names. */
export function splitScenarioNames(input: string | readonly string[] | undefined): string[] {
  const parts = typeof input === 'string' ? [input] : [...(input ?? [])];
  return parts.flatMap((p) => p.split(/[+,\s]+/)).map((s) => s.trim()).filter((s) => s.length > 0);
}

export function planScenarios(input: string | readonly string[] | undefined, eventsAt: number, badShare = 0.02): ScenarioPlan {
  const names = [...new Set(splitScenarioNames(input))];
  for (const n of names) {
    if (!SCENARIO_NAMES.includes(n)) throw new ScenarioError(`unknown scenario "${n}"; known: ${SCENARIO_NAMES.join(', ')}`);
  }
  const has = (n: string): boolean => names.includes(n);
  if (has('weekday') && has('weekend')) throw new ScenarioError('weekday and weekend cannot be combined: pick one (or neither, to follow the calendar)');
  if (has('pump-failure') && has('pump-jam')) throw new ScenarioError('pump-failure and pump-jam both act on the duty pump: pick one');
  if (!(badShare > 0 && badShare <= 1)) throw new ScenarioError('the bad-devices share must be above 0 and at most 1');

  const weather: WeatherEvent[] = [];
  if (has('storm')) weather.push({ kind: 'storm', startAt: eventsAt });
  // A pump fault only shows when the pumps have work to do: bring rain unless the storm already does.
  if ((has('pump-failure') || has('pump-jam')) && !has('storm')) weather.push({ kind: 'rain', startAt: eventsAt });
  return {
    names,
    dayType: has('weekday') ? 'weekday' : has('weekend') ? 'weekend' : 'calendar',
    rushFactor: has('gate-rush') ? 2 : 1,
    weather,
    dutyFault: has('pump-failure') ? { kind: 'fail-to-start', from: eventsAt } : has('pump-jam') ? { kind: 'jam', from: eventsAt } : null,
    dropout: has('sensor-dropout') ? { from: eventsAt + 2 * MINUTE_MS, forMs: 30 * MINUTE_MS } : null,
    badShare: has('bad-devices') ? badShare : 0,
    pumpLog: has('storm') ? { days: 14, idle: { role: 'standby', days: 8 } } : null,
  };
}

/** 0 before `a`, 1 after `b`, a smooth S in between. */
function smooth(t: number, a: number, b: number): number {
  if (t <= a) return 0;
  if (t >= b) return 1;
  const x = (t - a) / (b - a);
  return x * x * (3 - 2 * x);
}

/** Rises from 0 to 1 over [a, b], holds to c, falls back to 0 by d. */
function plateau(t: number, a: number, b: number, c: number, d: number): number {
  return smooth(t, a, b) * (1 - smooth(t, c, d));
}

/** Dry weather: no rain, the sewer well below the pit floor. */
export const DRY_SEWER_HEAD_MM = -600;

/**
 * Weather profiles, minutes after the start of the event. The storm's peak sewer head (1000 mm above
 * the pit floor) against two 600 L/min pumps settles the level near 760 mm: above critical (700),
 * below the room floor (900). Moderate rain peaks at 500 mm of head: one pump holds it near 435 mm,
 * between warn (300) and the standby's start (450).
 */
export const WEATHER_PROFILES = {
  storm: { rainPeakMmH: 55, rain: [0, 30, 100, 160], headPeakMm: 1000, head: [10, 85, 125, 240] },
  rain: { rainPeakMmH: 20, rain: [0, 20, 100, 140], headPeakMm: 500, head: [5, 60, 100, 180] },
} as const;

export function weatherAt(events: readonly WeatherEvent[], t: number): Weather {
  let rainMmH = 0;
  let sewerHeadMm = DRY_SEWER_HEAD_MM;
  for (const e of events) {
    const p = WEATHER_PROFILES[e.kind];
    const m = (t - e.startAt) / MINUTE_MS;
    if (m < 0 || m > p.head[3] + 1) continue;
    rainMmH = Math.max(rainMmH, p.rainPeakMmH * plateau(m, p.rain[0], p.rain[1], p.rain[2], p.rain[3]));
    const f = plateau(m, p.head[0], p.head[1], p.head[2], p.head[3]);
    sewerHeadMm = Math.max(sewerHeadMm, DRY_SEWER_HEAD_MM + (p.headPeakMm - DRY_SEWER_HEAD_MM) * f);
  }
  return { rainMmH, sewerHeadMm };
}

/** When the last weather event is over (the water may still be receding). */
export function weatherEndsAt(events: readonly WeatherEvent[]): number {
  return Math.max(-Infinity, ...events.map((e) => e.startAt + WEATHER_PROFILES[e.kind].head[3] * MINUTE_MS));
}
