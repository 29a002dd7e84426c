/**
 * Acknowledging alerts (docs/api.md, HTTP API `POST /api/alerts/{id}/ack`, and the extension
 * `POST /api/flood/{room}/ack`: one acknowledgement for a room's incident, docs/alerts.md).
 */
import { z } from 'zod';
import type { Alert } from './api.ts';

export const ackBody = z.object({ note: z.string().max(1000, 'must be at most 1000 characters').optional() });
export type AckBody = z.infer<typeof ackBody>;

/** `POST /api/flood/{room}/ack` answers this: every alert it acknowledged, and those someone had acknowledged first. */
export interface RoomAckResponse {
  room: string;
  acknowledged: Alert[];
  /** alerts of the room that needed no acknowledgement by the time this one ran (acknowledged meanwhile) */
  skipped: { id: string; by: string; at: string }[];
}
