/**
 * Incident timelines from GET /api/incidents[/{id}]. The reader is lenient about field names
 * (`at`/`t`/`ts`, `kind`/`type`, `detail`/`message`) so the page survives small API changes.
 */
export interface IncidentSummary {
  id: string;
  room: string;
  roomName: string;
  alertCount: number | null;
  startedAt: string;
  endedAt?: string | null;
  peakMm?: number | null;
  peakAt?: string | null;
}
import type { AlertDetails } from '@parkops/contract';

export interface TimelineEntry {
  at: string;
  kind: string;
  subject: string | null;
  value: number | null;
  detail: string | null;
  actor: string | null;
  note: string | null;
  state: string | null;
  /** structured, so the entry is worded in the reader's language */
  change: string | null;
  details: AlertDetails | null;
  channel: string | null;
  errorCode: string | null;
  rule: string | null;
}
export interface IncidentDetail extends IncidentSummary {
  timeline: TimelineEntry[];
  pumpRunSec: Record<string, number>;
  notificationsSent: number | null;
  notificationsFailed: number | null;
}

type Loose = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? new Date(v).toISOString() : null);
/** A string or number field as text; anything else (an object, null) is not a name. */
const text = (v: unknown, otherwise: string): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : otherwise);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function readIncident(raw: Loose): IncidentSummary {
  return {
    id: String(raw.id),
    room: text(raw.room ?? raw.roomId, ''),
    roomName: text(raw.roomName ?? raw.room, ''),
    alertCount: num(raw.alertCount),
    startedAt: str(raw.startedAt ?? raw.started_at) ?? '',
    endedAt: str(raw.endedAt ?? raw.ended_at),
    peakMm: num(raw.peakMm ?? raw.peak_mm),
    peakAt: str(raw.peakAt ?? raw.peak_at),
  };
}

export function readTimeline(raw: Loose): TimelineEntry[] {
  const list = (raw.timeline ?? raw.events ?? []) as Loose[];
  if (!Array.isArray(list)) return [];
  return list
    .map((e) => ({
      at: str(e.at ?? e.t ?? e.ts ?? e.time) ?? '',
      kind: text(e.kind ?? e.type, 'event'),
      subject: str(e.subject),
      value: num(e.value),
      detail: str(e.detail ?? e.message ?? e.text),
      actor: str(e.actor),
      note: str(e.note),
      state: str(e.state),
      change: str(e.change),
      details: e.details && typeof e.details === 'object' ? (e.details as AlertDetails) : null,
      channel: str(e.channel),
      errorCode: str(e.errorCode),
      rule: str(e.rule),
    }))
    .sort((a, b) => a.at.localeCompare(b.at));
}

export function readIncidentDetail(raw: Loose): IncidentDetail {
  const base = (raw.incident && typeof raw.incident === 'object' ? raw.incident : raw) as Loose;
  const runs = (raw.pumpRunSec ?? base.pumpRunSec) as Record<string, unknown> | undefined;
  return {
    ...readIncident(base),
    timeline: readTimeline(raw.timeline || raw.events ? raw : base),
    pumpRunSec: Object.fromEntries(Object.entries(runs ?? {}).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
    notificationsSent: num(raw.notificationsSent),
    notificationsFailed: num(raw.notificationsFailed),
  };
}

