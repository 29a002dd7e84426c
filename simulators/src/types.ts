/** Shapes shared by the engine, its models and the publisher. */
import type { Topics } from '@parkops/contract';
import type { LocalTime } from './local-time.ts';

/** Device readings, device statuses, and CAP weather warnings (the storm scenario's weather service). */
export type MessageKind = 'bay' | 'gate' | 'level' | 'pump' | 'venue' | 'status' | 'warning';

/** How a `bad-devices` message is broken on purpose, and the rejection ParkOps must answer with. */
export type BadKind = 'malformed' | 'out_of_range' | 'future' | 'unknown_id';
export const BAD_KINDS: readonly BadKind[] = ['malformed', 'out_of_range', 'future', 'unknown_id'];
export const EXPECTED_REJECTION: Record<BadKind, string> = {
  malformed: 'invalid_json',
  out_of_range: 'out_of_range',
  future: 'future_time',
  unknown_id: 'unknown_id',
};

/** One MQTT message the simulated devices send, due at simulated time `at` (epoch ms). */
export interface SimMessage {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
  /** Simulated time the device sends it, epoch ms; equals the payload's `ts` unless `bad` is `future` or it is a `backfill`. */
  at: number;
  kind: MessageKind;
  /** The sending device's id as the site knows it (the misconfigured id for `unknown_id`); for a warning, its source. */
  device: string;
  /** Set on messages broken on purpose by the `bad-devices` scenario. */
  bad?: BadKind;
  /**
   * Set on the `offline` status the broker sends as a device's Last Will. With one connection per
   * device the publisher drops that device's socket instead of publishing it, so the broker does it.
   */
  will?: boolean;
  /** A reading of the past sent now (a pump controller's run log): its payload `ts` is before `at`. */
  backfill?: boolean;
}

/** What a model sees of the engine. */
export interface SimContext {
  readonly topics: Topics;
  readonly local: LocalTime;
  /** Simulated clock, epoch ms. */
  readonly now: number;
  /** True while the engine warms up to its start time: models update state but nothing is sent. */
  readonly silent: boolean;
  /** Weekday or weekend for the local day containing `ms` (the calendar, unless a scenario forces one). */
  dayType(ms: number): 'weekday' | 'weekend';
  /** Wall clock, for future-dated bad payloads only (injected in tests). */
  realNow(): number;
  schedule(at: number, event: SimEvent): void;
  emit(msg: SimMessage): void;
  /** The `ts` JSON value for a time: epoch ms, or a quoted ISO string with the site's offset. */
  stamp(ms: number): string;
}

/** A scheduled happening; models keep one object per recurring event to spare the allocator. */
export interface SimEvent {
  /** Called when the event is due; `ctx.now` is its time. */
  fire(ctx: SimContext): void;
}

