/**
 * What the flood rule families of one room share: the room, its judge (levels, band, device freshness),
 * the alert sink, the persisted rule state and a few helpers about the pumps. Each family (level bands,
 * rise and time to threshold, pumps, device staleness, sensor disagreement) is one file next to this one.
 */
import type { RoomJudge } from '../../flood/room-judge.ts';
import type { FloodRoom, Pump } from '@parkops/contract/site/index.ts';
import type { AlertSink } from '../types.ts';
import type { EffectiveRules } from './storm.ts';

export interface PumpRuleState {
  aboveStartSince: number | null;
  currentBadSince: number | null;
  currentKind: 'dry' | 'jam' | null;
  currentOkSince: number | null;
  /** The start these fields describe (DeviceRecord.startedAt), the level and rate of rise then, the lowest level since. */
  startSeen?: number | null;
  startLevel?: number | null;
  rateAtStart?: number | null;
  minSinceStart?: number | null;
  noEffectClearSince?: number | null;
  failedClearSince?: number | null;
}

/** Persisted per room under `room:{id}` (the band lives with the judge, under `band:{id}`). */
export interface RoomRuleState {
  /** The room's combined level at each new reading: [receipt ms, mm], oldest first, for the rate of rise and pump effect. */
  levelSamples: [number, number][];
  riseGrade: number;
  /** The rise stopped (robust rate under half the warning rate) since then. */
  riseClearSince: number | null;
  disagreeSince: number | null;
  disagreeClearSince: number | null;
  pumps: Record<string, PumpRuleState>;
  /** When the rules last saw storm mode begin (null while it is off); storm.ts uses it for the clear-hold guard. */
  stormSince: number | null;
}

export interface RoomContext {
  readonly room: FloodRoom;
  readonly judge: RoomJudge;
  readonly sink: AlertSink;
  readonly state: RoomRuleState;
  /** `flood/{room}/levels`: the subject of the room's level, rise and disagreement alerts. */
  readonly levelSubject: string;
  /** The rise rate and window and the band holds in use now: normal, or the room's storm settings (storm.ts). */
  readonly settings: EffectiveRules;
  /** The clear hold for a wait that began at `since` (storm mode may have shortened it since, storm.ts). */
  clearHoldFor(since: number | null): number;
  levelSensorSubject(sensorId: string): string;
  pumpSubject(pumpId: string): string;
  /** Robust rate of rise of the combined level in mm/min over (from, now], or null without enough data. */
  slopeSince(from: number, now: number): number | null;
  /** Running and not diagnosed as failing to move water. */
  effectivePumps(): Pump[];
  /** Not offline and not diagnosed as failing in any way. */
  isHealthy(p: Pump): boolean;
  /** Diagnosed as jammed or dry running. */
  isJammedOrDry(p: Pump): boolean;
  /** Whether any pump of the room is diagnosed faulty (the band clear hold is longer then). */
  anyPumpFaulty(): boolean;
}

/** Below this slope (mm/min) a level counts as not rising: sensor noise over minutes is far smaller. */
export const RISING_MM_PER_MIN = 0.5;

export const round = (x: number, step: 1 | 0.1 = 1): number => (step === 1 ? Math.round(x) : Math.round(x * 10) / 10);
export const iso = (ms: number): string => new Date(ms).toISOString();
