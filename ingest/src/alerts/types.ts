/**
 * Shapes shared by the alert rules and the alert engine. Rules decide *whether* a condition holds (with
 * their own hysteresis and hold timers); the engine owns the lifecycle (docs/api.md, the alert object).
 */
import type { AlertDetails, AlertSeverity } from '@parkops/contract/api.ts';

/** Alert rule names (`Alert.rule`). Stable: dashboards, Node-RED filters and webhooks key on them. */
export const RULES = {
  level: 'flood.level',
  rise: 'flood.rise',
  /** A flood room in storm mode (an official rainstorm or flood warning in force): info, opens at onset, resolves at its end. */
  stormMode: 'flood.storm-mode',
  disagree: 'flood.sensors-disagree',
  pumpFailedStart: 'pump.failed-start',
  pumpNoEffect: 'pump.no-effect',
  pumpCurrent: 'pump.current',
  pumpShortCycle: 'pump.short-cycling',
  deviceStale: 'device.stale',
  parkingFull: 'parking.full',
  venueOverCapacity: 'venue.over-capacity',
  lowBattery: 'parking.low-battery',
} as const;
export type RuleName = (typeof RULES)[keyof typeof RULES];

/** Changes recorded in alert_events and carried by `alert.changed` (notify/format.ts knows these names). */
export type AlertChange = 'opened' | 'updated' | 'worsened' | 'acknowledged' | 'renotified' | 'escalated' | 'resolved';

/** What a rule asserts about one subject while its condition holds. */
export interface Condition {
  severity: AlertSeverity;
  /** What the rule found; the engine words it (messages.ts). */
  details: AlertDetails;
  value?: number | undefined;
  etaMin?: number | undefined;
  etaTarget?: string | undefined;
  room?: string | undefined;
  /**
   * How bad it is (band 1..3, rise grade, dry run < jam). A higher grade than the alert carries sends an
   * acknowledged alert back to firing at once ("re-escalates when things get worse").
   */
  grade: number;
}

/** How rules reach the engine. */
export interface AlertSink {
  raise(rule: RuleName, subject: string, cond: Condition, now: number): void;
  clear(rule: RuleName, subject: string, now: number): void;
  isOpen(rule: RuleName, subject: string): boolean;
}

/** Rule state kept in SQLite so that a restart resumes hold timers, pump start times and counters. */
export interface StateStore {
  load<T>(key: string): T | undefined;
  /** Marks the state dirty; the engine writes dirty state every tick and on stop. */
  save(key: string, value: unknown): void;
}
