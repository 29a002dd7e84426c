/**
 * Payload schemas of docs/api.md, devices to ParkOps. Unknown extra fields are ignored (devices add diagnostics):
 * zod objects strip them, they never fail a message.
 */
import { z } from 'zod';

/** ISO 8601 with a zone offset (a time without one is ambiguous and rejected), or epoch milliseconds. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

export const timeSchema = z.union([
  z.number().finite().int('epoch milliseconds must be a whole number').min(0, 'epoch milliseconds must not be negative'),
  z.string().regex(ISO_WITH_OFFSET, 'ISO 8601 time needs a zone offset, e.g. 2026-07-21T08:00:00+08:00'),
]);

export const bayPayload = z.object({
  occupied: z.boolean(),
  ts: timeSchema.optional(),
  battery: z.number().finite().min(0).max(100).optional(),
});

export const gatePayload = z.object({
  event: z.enum(['entry', 'exit']),
  pass: z.string().min(1).max(64),
  ts: timeSchema.optional(),
});

export const levelPayload = z.object({
  /** mm above the room's sump-pit floor */
  mm: z.number().finite().min(-100).max(10000),
  ts: timeSchema.optional(),
});

export const pumpPayload = z.object({
  running: z.boolean(),
  amps: z.number().finite().min(0).optional(),
  ts: timeSchema.optional(),
});

export const venuePayload = z.object({
  in: z.number().int().min(0),
  out: z.number().int().min(0),
  ts: timeSchema.optional(),
});

export const statusPayload = z.enum(['online', 'offline']);

export type BayPayload = z.infer<typeof bayPayload>;
export type GatePayload = z.infer<typeof gatePayload>;
export type LevelPayload = z.infer<typeof levelPayload>;
export type PumpPayload = z.infer<typeof pumpPayload>;
export type VenuePayload = z.infer<typeof venuePayload>;
export type DeviceStatus = z.infer<typeof statusPayload>;

/** At most 4 KiB per payload (docs/api.md, devices to ParkOps). */
export const MAX_PAYLOAD_BYTES = 4096;
/** Readings stamped further ahead than this are rejected (clock skew allowance, docs/api.md, devices to ParkOps). */
export const MAX_FUTURE_MS = 5 * 60 * 1000;
