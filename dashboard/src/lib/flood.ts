/**
 * Flood-room helpers shared by the gauge, the room card and tests. The room's level and band come from
 * the server (`FloodRoomView.level`, `band`: the alert engine's judgement); nothing here works out a
 * level or a band.
 */
import type { FloodBand } from '@parkops/contract';
import type { MessageKey } from './i18n/messages.ts';

/** The words for a band the server judged. */
export function bandLabelKey(band: FloodBand): MessageKey {
  switch (band) {
    case 'normal': return 'band.normal';
    case 'warning': return 'band.warn';
    case 'alarm': return 'band.alarm';
    case 'critical': return 'band.critical';
  }
}

/** GET /api/flood/{roomId}/history: server-downsampled buckets. */
export interface HistoryPoint { t: string; avg: number | null; min?: number | null; max?: number | null }
export interface PumpHistoryPoint { t: string; running: number | null; amps: number | null }
export interface RoomHistory {
  room: string;
  levels: Record<string, HistoryPoint[]>;
  pumps: Record<string, PumpHistoryPoint[]>;
}
