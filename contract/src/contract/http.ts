/**
 * Query parameters, request bodies and answers of the routes whose shapes have no home module of their
 * own in the contract (api.ts: the base contract's answers; auth.ts, reports.ts, storm.ts: theirs), as
 * zod schemas for the OpenAPI document (`/api/openapi.json`, docs/api.md).
 */
import { z } from 'zod';
import { AlertDetailsSchema, AlertSchema, isoTime, USAGE_EVERIES } from './api.ts';
import type { RoomAckResponse } from './acknowledge.ts';
import { ATTEMPT_STATUSES, DELIVERY_ERROR_CODES, type NotificationAttempt, type NotificationStats } from './notifications.ts';

/**
 * A query time: ISO 8601 with a zone offset (or Z), or epoch milliseconds; parsed to epoch ms. The
 * routers validate with these schemas, so the document and the checks cannot disagree.
 */
const queryTime = () =>
  z
    .string()
    .trim()
    .transform((s, ctx) => {
      const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(s) ? Date.parse(s) : NaN;
      if (!Number.isFinite(ms)) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time with a zone offset (e.g. 2026-07-01T08:00:00Z) or epoch milliseconds' });
        return z.NEVER;
      }
      return ms;
    })
    .describe('ISO 8601 with a zone offset (e.g. 2026-07-01T08:00:00Z) or epoch milliseconds');
const siteId = (what: string) => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, `must be a ${what} id`);
const format = () => z.enum(['json', 'csv'], { message: 'must be json or csv' }).default('json').describe('csv: the same data as a UTF-8 CSV file (with a BOM, spreadsheet formulas neutralised)');
const activeOrAll = (active: string) => z.enum(['active', 'all'], { message: 'must be active or all' }).default('active').describe(active);

// ---- query parameters ----

const rangeShape = {
  from: queryTime().optional().describe("start of the range; default: `to` minus the route's default span"),
  to: queryTime().optional().describe('end of the range; default: now'),
};
/** `from` must not be after `to`. (Typed on its own: the generic shape below hides the two fields from TypeScript.) */
const ordered = (q: object): boolean => {
  const { from, to } = q as { from?: number; to?: number };
  return from === undefined || to === undefined || from <= to;
};
/** A query with `from`/`to` and the route's own fields. */
const rangeQuery = <T extends z.ZodRawShape>(more: T) => z.object({ ...more, ...rangeShape }).refine(ordered, { message: 'from must not be after to', path: ['from'] });

export const RangeQuerySchema = rangeQuery({});
export const AlertsQuerySchema = rangeQuery({ state: activeOrAll('active: not resolved, or resolved but never acknowledged') });
export const UsageQuerySchema = rangeQuery({
  subject: z.string().describe('parking, parking/{zoneId} or venues/{venueId}'),
  every: z.enum(USAGE_EVERIES).default('1h'),
  format: format(),
});
export const IncidentsQuerySchema = rangeQuery({ room: siteId('room').optional() });
export const IncidentQuerySchema = z.object({
  format: format(),
  lang: z.enum(['en', 'zh-CN'], { message: 'must be en or zh-CN' }).optional().describe('with format=csv: the language of the headings and words; default en'),
});
const wholeNumber = 'must be a whole number 1..1000';
export const WarningsQuerySchema = z.object({
  state: activeOrAll('active: in force for the site now'),
  limit: z.coerce.number({ message: wholeNumber }).int(wholeNumber).min(1, wholeNumber).max(1000, wholeNumber).default(200),
});
export const BindingsImportQuerySchema = z.object({ dryRun: z.enum(['true', 'false', '1', '0']).optional().describe('true: check the file, change nothing') });
const reportShape = {
  format: format(),
  table: z.string().optional().describe('with format=csv: which table of the report (e.g. days, occupancy, hours, heatmap)'),
  every: z.enum(USAGE_EVERIES).optional(),
};
export const ParkingReportQuerySchema = rangeQuery({ ...reportShape, zone: siteId('zone').optional() });
export const VenuesReportQuerySchema = rangeQuery({ ...reportShape, venue: siteId('venue').optional() });
export const FloodReportQuerySchema = rangeQuery({ ...reportShape, room: siteId('room').optional() });
export const HeatmapQuerySchema = rangeQuery({ subject: z.string().default('parking'), format: format() });

// ---- request bodies ----

export const BindingBodySchema = z.object({
  devEui: z.string().regex(/^[0-9A-Fa-f]{16}$/).describe('16 hex digits, any case'),
  codec: z.string().describe('a codec name from GET /api/devices/codecs'),
  params: z.record(z.string(), z.unknown()).optional(),
});
export const PushSubscriptionBodySchema = z.object({
  endpoint: z.string().url(),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: z.string(), auth: z.string() }),
}).describe("the browser's PushSubscription.toJSON()");
export const PushUnsubscribeBodySchema = z.object({ endpoint: z.string().min(1) });

// ---- extension responses ----

export const IncidentSummarySchema = z
  .object({
    id: z.string(),
    room: z.string(),
    roomName: z.string(),
    state: z.enum(['open', 'closed']),
    startedAt: isoTime(),
    endedAt: isoTime().optional(),
    peakMm: z.number().optional().describe('highest level during the incident, mm above the pit floor'),
    peakAt: isoTime().optional(),
    alertCount: z.number().int(),
  })
  .meta({ id: 'IncidentSummary' });
export const TimelineEntrySchema = z
  .object({
    at: isoTime(),
    kind: z.string().describe('alert-opened, alert-acknowledged, alert-worsened, level-peak, pump-start, pump-stop, notification, incident-start, incident-end, ...'),
    subject: z.string().optional(),
    alertId: z.string().optional(),
    rule: z.string().optional(),
    severity: z.string().optional(),
    state: z.string().optional(),
    value: z.number().optional(),
    actor: z.string().optional(),
    note: z.string().optional(),
    detail: z.string().optional().describe("in the site's language (an alert's message) or English (pump and notification lines): for the CSV"),
    // Structured, so that readers word the entry in their own language:
    change: z.string().optional().describe('alert-* and notification entries: the alert change'),
    details: AlertDetailsSchema.optional().describe('alert-* entries: what the rule found at this change'),
    channel: z.string().optional().describe('notification entries: the channel (webhook, wecom, webpush, ... none: nobody was told)'),
    errorCode: z.string().optional().describe('notification entries that did not deliver: why, as a code'),
  })
  .meta({ id: 'TimelineEntry' });
export const IncidentDetailSchema = IncidentSummarySchema.extend({
  alerts: z.array(AlertSchema),
  pumpRunSec: z.record(z.string(), z.number()).describe('pump id -> seconds run during the incident'),
  notificationsSent: z.number().int(),
  notificationsFailed: z.number().int(),
  timeline: z.array(TimelineEntrySchema),
}).meta({ id: 'IncidentDetail' });

export const NotificationAttemptSchema = z
  .object({
    id: z.number().int(),
    deliveryId: z.number().int(),
    alertId: z.string(),
    change: z.string(),
    channel: z.string().describe('webhook, node-red, escalation, fallback, wecom, dingtalk, feishu, webpush, or none (nothing was sent: see errorCode)'),
    target: z.string().describe('the URL with its secrets masked'),
    attempt: z.number().int(),
    status: z.enum(ATTEMPT_STATUSES),
    httpStatus: z.number().int().nullable(),
    error: z.string().nullable().describe("English detail; never a push service's answer text"),
    errorCode: z.enum(DELIVERY_ERROR_CODES).nullable().describe('why it did not deliver, as a stable code the dashboard words'),
    at: isoTime(),
    durationMs: z.number(),
  })
  .meta({ id: 'NotificationAttempt' }) satisfies z.ZodType<NotificationAttempt>;
export const NotificationStatsSchema = z
  .object({
    pending: z.number().int(),
    failedLast24h: z.number().int(),
    /** alert changes that reached nobody outside the dashboard in the last 24 h */
    unsentLast24h: z.number().int(),
    lastFailure: NotificationAttemptSchema.nullable(),
  })
  .meta({ id: 'NotificationStats' }) satisfies z.ZodType<NotificationStats>;

/** `GET /api/push/key` */
export const PushKeyResponseSchema = z
  .object({
    publicKey: z.string().describe('the VAPID public key, base64url, for PushManager.subscribe({applicationServerKey})'),
    canSubscribe: z.boolean().describe('responders and up may subscribe; viewers only see notifications while the dashboard is open'),
  })
  .meta({ id: 'PushKey' });
export type PushKeyResponse = z.infer<typeof PushKeyResponseSchema>;
/** One subscription as `GET/POST /api/push/subscriptions` show it (never the keys). */
export const PushSubscriptionViewSchema = z
  .object({ id: z.number().int(), service: z.string().describe("the push service's origin, e.g. https://fcm.googleapis.com"), userAgent: z.string().nullable(), createdAt: isoTime(), lastSentAt: isoTime().nullable() })
  .meta({ id: 'PushSubscription' });
export type PushSubscriptionView = z.infer<typeof PushSubscriptionViewSchema>;
export const PushTestResponseSchema = z.object({ queued: z.number().int() });

const historyPoint = z.object({ t: isoTime(), avg: z.number(), min: z.number(), max: z.number() });
export const FloodHistorySchema = z
  .object({
    room: z.string(),
    from: isoTime(),
    to: isoTime(),
    bucketSec: z.number(),
    thresholds: z.object({ warnMm: z.number(), alarmMm: z.number(), criticalMm: z.number(), floorMm: z.number() }).loose(),
    levels: z.record(z.string(), z.array(historyPoint)).describe('sensor id -> points'),
    pumps: z.record(z.string(), z.array(z.object({ t: isoTime(), running: z.number().describe('share of the bucket running, 0..1'), amps: z.number().nullable() }))),
  })
  .meta({ id: 'FloodHistory' });

/** Reports are large; the document names their top level and keeps the rest open (docs/reports.md has every field). */
const reportBase = { from: isoTime(), to: isoTime(), timezone: z.string() };
export const ParkingReportSchema = z.looseObject({ kind: z.literal('parking'), ...reportBase, zone: z.string().nullable(), bays: z.number().int(), every: z.enum(USAGE_EVERIES), summary: z.looseObject({}), days: z.array(z.looseObject({ date: z.string() })) }).meta({ id: 'ParkingReport' });
export const VenuesReportSchema = z.looseObject({ kind: z.literal('venues'), ...reportBase, every: z.enum(USAGE_EVERIES), venues: z.array(z.looseObject({ id: z.string(), name: z.string() })) }).meta({ id: 'VenuesReport' });
export const FloodReportSchema = z.looseObject({ kind: z.literal('flood'), ...reportBase, rooms: z.array(z.looseObject({ id: z.string(), name: z.string() })) }).meta({ id: 'FloodReport' });
export const HeatmapReportSchema = z
  .looseObject({ subject: z.string(), ...reportBase, weekdays: z.array(z.string()), hours: z.array(z.number().int()), avg: z.array(z.array(z.number().nullable())), max: z.array(z.array(z.number().nullable())) })
  .meta({ id: 'HeatmapReport' });

/** `POST /api/flood/{room}/ack`: every alert it acknowledged, and those someone had acknowledged first (the zod-free `RoomAckResponse`). */
export const RoomAckResponseSchema = z
  .object({
    room: z.string(),
    acknowledged: z.array(AlertSchema),
    /** alerts of the room that needed no acknowledgement by the time this one ran (acknowledged meanwhile) */
    skipped: z.array(z.object({ id: z.string(), by: z.string(), at: isoTime() })),
  })
  .meta({ id: 'RoomAck' }) satisfies z.ZodType<RoomAckResponse>;
