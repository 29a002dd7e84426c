/**
 * Every HTTP route ParkOps serves, in one list: method, path (express syntax), role, parameters, body,
 * answers and a summary. The OpenAPI document at /api/openapi.json is built from this list
 * (ingest/src/api/openapi.ts), and test/integration/openapi.test.ts checks it against the routes the
 * running server has mounted, both ways, so a route cannot be added or removed without its entry here.
 */
import { z } from 'zod';
import { backupRequest, backupResponse, storageResponse } from './ops.ts';
import {
  AlertSchema,
  ChannelSummarySchema,
  ChecklistItemViewSchema,
  RoomStormViewSchema,
  BindingsImportResultSchema,
  BindingViewSchema,
  CodecViewSchema,
  DeviceViewSchema,
  ErrorResponseSchema,
  FloodResponseSchema,
  HealthResponseSchema,
  ParkingResponseSchema,
  ParkingSessionSchema,
  PostWarningResponseSchema,
  UnboundDeviceViewSchema,
  UsageResponseSchema,
  VenueViewSchema,
  WarningViewSchema,
} from './api.ts';
import {
  AlertsQuerySchema,
  BindingBodySchema,
  BindingsImportQuerySchema,
  FloodHistorySchema,
  FloodReportQuerySchema,
  FloodReportSchema,
  HeatmapQuerySchema,
  HeatmapReportSchema,
  IncidentDetailSchema,
  IncidentQuerySchema,
  IncidentsQuerySchema,
  IncidentSummarySchema,
  NotificationAttemptSchema,
  NotificationStatsSchema,
  ParkingReportQuerySchema,
  ParkingReportSchema,
  PushKeyResponseSchema,
  PushSubscriptionBodySchema,
  PushSubscriptionViewSchema,
  PushTestResponseSchema,
  PushUnsubscribeBodySchema,
  RoomAckResponseSchema,
  RangeQuerySchema,
  UsageQuerySchema,
  VenuesReportQuerySchema,
  VenuesReportSchema,
  WarningsQuerySchema,
} from './http.ts';
import {
  AuditEntrySchema,
  auditQuery,
  changePasswordBody,
  createKioskBody,
  createTokenBody,
  createUserBody,
  KioskSignInResponseSchema,
  KioskViewSchema,
  kioskSignInBody,
  loginBody,
  LoginResponseSchema,
  MeSchema,
  NewKioskSchema,
  NewTokenSchema,
  SessionsEndedSchema,
  TokenViewSchema,
  updateUserBody,
  UserViewSchema,
} from './auth.ts';
import { monthlyPdfQuerySchema, reportsCalendarSchema } from './reports.ts';
import { checklistTickBody } from './storm.ts';
import { ackBody } from './acknowledge.ts';
import { notificationsQuery } from './notifications-query.ts';
import type { Role } from './roles.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** A role and the ones above it, none (open), or exactly the roles listed (routes off the ladder). */
export type RouteAccess = Role | 'none' | readonly Role[];

export interface RouteAnswer {
  description: string;
  /** JSON body; absent for 204 and for non-JSON answers */
  schema?: z.ZodType;
  /** a media type other than application/json (CSV, SSE, text) */
  type?: string;
}

export interface RouteDoc {
  method: HttpMethod;
  /** express syntax: `/api/alerts/:id/ack` */
  path: string;
  access: RouteAccess;
  /** false: in the base contract; true: a ParkOps extension */
  extension: boolean;
  tag: string;
  summary: string;
  description?: string;
  params?: Record<string, string>;
  query?: z.ZodObject;
  body?: { schema?: z.ZodType; type?: string; description?: string };
  /** the success answers and the errors particular to this route; 400/401/403 are added from query, body and access */
  responses: Record<number, RouteAnswer>;
}

const json = (description: string, schema: z.ZodType): RouteAnswer => ({ description, schema });
const list = (description: string, schema: z.ZodType): RouteAnswer => ({ description, schema: z.array(schema) });
/** An error answer: `{error}` (and `code` where the dashboard translates it). */
const fail = (description: string): RouteAnswer => ({ description, schema: ErrorResponseSchema });
const noContent: RouteAnswer = { description: 'done; no body' };
const csv = 'text/csv';

export const ROUTES: readonly RouteDoc[] = [
  // ---- open ----
  {
    method: 'get',
    path: '/api/health',
    access: 'none',
    extension: false,
    tag: 'system',
    summary: 'Health of the broker link and the store',
    description: 'With several processes on PostgreSQL the answer adds `role`: leader or standby.',
    responses: { 200: json('healthy', HealthResponseSchema), 503: json('degraded: `problems` says why', HealthResponseSchema) },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    access: 'none',
    extension: true,
    tag: 'system',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: { description: 'the document', type: 'application/json' } },
  },
  {
    method: 'get',
    path: '/metrics',
    access: 'none',
    extension: false,
    tag: 'system',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text format', type: 'text/plain' } },
  },

  // ---- sign-in, users, tokens, audit ----
  {
    method: 'post',
    path: '/api/auth/login',
    access: 'none',
    extension: true,
    tag: 'auth',
    summary: 'Log in: sets the session cookie',
    description:
      'Sets an HttpOnly `parkops_session` cookie. Repeated failures lock the username from that address for a while (429 with Retry-After). A plain HTML form post (application/x-www-form-urlencoded, with an optional `next` path) is answered with a 303 redirect instead of JSON, so sign-in works without JavaScript.',
    body: { schema: loginBody },
    responses: { 200: json('logged in', LoginResponseSchema), 303: { description: 'form sign-in: on to `next`' }, 401: fail('wrong username or password'), 429: fail('locked out for now; Retry-After says how long') },
  },
  { method: 'post', path: '/api/auth/logout', access: 'none', extension: true, tag: 'auth', summary: 'Log out: ends the session and clears the cookie', responses: { 204: noContent } },
  {
    method: 'post',
    path: '/api/auth/kiosk',
    access: 'none',
    extension: true,
    tag: 'auth',
    summary: "Sign a wall screen in with its link's secret (a view-only session)",
    description: 'The wall-screen page /kiosk#<secret> posts the secret it read from the URL fragment; the link itself is the credential.',
    body: { schema: kioskSignInBody },
    responses: { 200: json('signed in; the session cookie is set', KioskSignInResponseSchema), 401: fail('the link is not valid (revoked, or mistyped)') },
  },
  { method: 'get', path: '/api/auth/me', access: 'viewer', extension: true, tag: 'auth', summary: 'Who the credentials belong to', responses: { 200: json('the user or token', MeSchema) } },
  {
    method: 'post',
    path: '/api/auth/password',
    access: 'viewer',
    extension: true,
    tag: 'auth',
    summary: 'Change your own password (session only)',
    description: 'Other sessions of the user end.',
    body: { schema: changePasswordBody },
    responses: { 204: noContent },
  },
  { method: 'get', path: '/api/users', access: 'admin', extension: true, tag: 'auth', summary: 'Every user', responses: { 200: list('users, without passwords', UserViewSchema) } },
  {
    method: 'post',
    path: '/api/users',
    access: 'admin',
    extension: false,
    tag: 'auth',
    summary: 'Add a user',
    body: { schema: createUserBody },
    responses: { 201: json('the user, without the password', UserViewSchema), 409: fail('the name is taken') },
  },
  {
    method: 'patch',
    path: '/api/users/:username',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: "Change a user's role or password",
    params: { username: 'the user' },
    body: { schema: updateUserBody },
    responses: { 200: json('the user', UserViewSchema), 404: fail('no such user'), 409: fail('would leave no admin') },
  },
  {
    method: 'delete',
    path: '/api/users/:username',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: 'Remove a user (their sessions end)',
    params: { username: 'the user' },
    responses: { 204: noContent, 404: fail('no such user'), 409: fail('would leave no admin') },
  },
  {
    method: 'post',
    path: '/api/users/:username/unlock',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: 'Lift the lock-out after failed sign-ins',
    params: { username: 'the user' },
    responses: { 204: noContent, 404: fail('no such user') },
  },
  {
    method: 'delete',
    path: '/api/users/:username/sessions',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: "End every session of a user (a lost phone)",
    params: { username: 'the user' },
    responses: { 200: json('how many ended', SessionsEndedSchema), 404: fail('no such user') },
  },
  { method: 'get', path: '/api/kiosks', access: 'admin', extension: true, tag: 'auth', summary: 'Wall-screen links (never the secret)', responses: { 200: list('links', KioskViewSchema) } },
  {
    method: 'post',
    path: '/api/kiosks',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: 'Make a wall-screen link: a view-only sign-in for a screen on the wall',
    body: { schema: createKioskBody },
    responses: { 201: json('the link, shown this once', NewKioskSchema), 409: fail('the name is taken') },
  },
  {
    method: 'delete',
    path: '/api/kiosks/:name',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: 'Revoke a wall-screen link (its screens are signed out)',
    params: { name: 'the link name' },
    responses: { 204: noContent, 404: fail('no such link') },
  },
  { method: 'get', path: '/api/tokens', access: 'admin', extension: true, tag: 'auth', summary: 'Every API token (never the secret)', responses: { 200: list('tokens', TokenViewSchema) } },
  {
    method: 'post',
    path: '/api/tokens',
    access: 'admin',
    extension: false,
    tag: 'auth',
    summary: 'Make an API token for an integration',
    description: 'Use it as `Authorization: Bearer <token>`. The role `feed` may only post warnings.',
    body: { schema: createTokenBody },
    responses: { 201: json('the token, shown this once', NewTokenSchema), 409: fail('the name is taken') },
  },
  {
    method: 'delete',
    path: '/api/tokens/:name',
    access: 'admin',
    extension: true,
    tag: 'auth',
    summary: 'Revoke a token',
    params: { name: 'the token name' },
    responses: { 204: noContent, 404: fail('no such token') },
  },
  { method: 'get', path: '/api/audit', access: 'admin', extension: true, tag: 'auth', summary: 'The audit log, newest first', query: auditQuery, responses: { 200: list('entries', AuditEntrySchema) } },

  // ---- live state ----
  { method: 'get', path: '/api/parking', access: 'viewer', extension: false, tag: 'live', summary: 'Parking now: totals, zones, bays and gates', responses: { 200: json('parking', ParkingResponseSchema) } },
  {
    method: 'get',
    path: '/api/parking/sessions',
    access: 'viewer',
    extension: false,
    tag: 'live',
    summary: 'Parking sessions paired from gate scans that overlap the range (default: the last 24 hours)',
    query: RangeQuerySchema,
    responses: { 200: list('sessions', ParkingSessionSchema) },
  },
  { method: 'get', path: '/api/flood', access: 'viewer', extension: false, tag: 'live', summary: 'Flood rooms now: judged level and band, sensors, pumps, storm mode', responses: { 200: json('rooms', FloodResponseSchema) } },
  {
    method: 'get',
    path: '/api/flood/:roomId/history',
    access: 'viewer',
    extension: true,
    tag: 'live',
    summary: "A room's levels and pump running share over time, downsampled to about 300 points",
    params: { roomId: 'the flood room' },
    query: RangeQuerySchema,
    responses: { 200: json('history', FloodHistorySchema), 404: fail('no such room') },
  },
  {
    method: 'get',
    path: '/api/flood/:roomId/readiness',
    access: 'viewer',
    extension: true,
    tag: 'live',
    summary: "A room's storm mode and readiness checklist",
    params: { roomId: 'the flood room' },
    responses: { 200: json('the storm view', RoomStormViewSchema), 404: fail('no such room') },
  },
  {
    method: 'post',
    path: '/api/flood/:roomId/checklist/:itemId',
    access: 'responder',
    extension: true,
    tag: 'live',
    summary: 'Tick or untick a manual readiness item (audited)',
    params: { roomId: 'the flood room', itemId: "the checklist item's id from the site file" },
    body: { schema: checklistTickBody },
    responses: { 200: json('the item', ChecklistItemViewSchema), 404: fail('no such room or item'), 409: fail('the item is checked from live data, not ticked') },
  },
  { method: 'get', path: '/api/venues', access: 'viewer', extension: false, tag: 'live', summary: 'Venue occupancy now', responses: { 200: list('venues', VenueViewSchema) } },
  {
    method: 'get',
    path: '/api/stream',
    access: 'viewer',
    extension: false,
    tag: 'live',
    summary: 'Server-Sent Events: snapshot first, then bay, gate, level, pump, venue, alert (and the extensions warning, storm, room, readiness)',
    description: 'Each event\'s `data` is JSON; the shapes are in components.schemas.StreamSnapshot and docs/api.md.',
    responses: { 200: { description: 'an event stream that stays open', type: 'text/event-stream' } },
  },

  // ---- alerts and incidents ----
  { method: 'get', path: '/api/alerts', access: 'viewer', extension: false, tag: 'alerts', summary: 'Alerts, newest first', query: AlertsQuerySchema, responses: { 200: list('alerts', AlertSchema) } },
  {
    method: 'post',
    path: '/api/alerts/:id/ack',
    access: 'responder',
    extension: false,
    tag: 'alerts',
    summary: 'Acknowledge an alert',
    params: { id: 'the alert' },
    body: { schema: ackBody },
    responses: { 200: json('the acknowledged alert', AlertSchema), 404: fail('no such alert'), 409: fail('already resolved and acknowledged') },
  },
  {
    method: 'post',
    path: '/api/flood/:room/ack',
    access: 'responder',
    extension: true,
    tag: 'alerts',
    summary: "Acknowledge every alert of a room's incident at once",
    params: { room: 'the flood room' },
    body: { schema: ackBody },
    responses: { 200: json('what was acknowledged, and what someone had acknowledged first', RoomAckResponseSchema), 404: fail('no such room') },
  },
  { method: 'get', path: '/api/incidents', access: 'viewer', extension: true, tag: 'alerts', summary: 'Flood incidents (a room from its first level or rise alert until all are resolved)', query: IncidentsQuerySchema, responses: { 200: list('incidents', IncidentSummarySchema) } },
  {
    method: 'get',
    path: '/api/incidents/:id',
    access: 'viewer',
    extension: true,
    tag: 'alerts',
    summary: 'One incident with its alerts, pump run times and timeline (format=csv: the timeline as CSV)',
    params: { id: 'the incident' },
    query: IncidentQuerySchema,
    responses: { 200: json('the incident', IncidentDetailSchema), 404: fail('no such incident') },
  },
  {
    method: 'get',
    path: '/api/notifications',
    access: 'viewer',
    extension: true,
    tag: 'alerts',
    summary: 'Notification attempts, newest first',
    query: notificationsQuery,
    responses: { 200: list('attempts', NotificationAttemptSchema) },
  },
  { method: 'get', path: '/api/notifications/channels', access: 'viewer', extension: true, tag: 'alerts', summary: 'What would carry an alert outside the dashboard now (0 channels: nobody is told)', responses: { 200: json('the channels', ChannelSummarySchema) } },
  { method: 'get', path: '/api/notifications/stats', access: 'viewer', extension: true, tag: 'alerts', summary: 'Pending and failed notifications', responses: { 200: json('stats', NotificationStatsSchema) } },

  // ---- reports ----
  {
    method: 'get',
    path: '/api/usage',
    access: 'manager',
    extension: false,
    tag: 'reports',
    summary: 'Occupancy of parking, a zone or a venue over time (format=csv gives CSV)',
    query: UsageQuerySchema,
    responses: { 200: json('points', UsageResponseSchema) },
  },
  { method: 'get', path: '/api/reports/parking', access: 'manager', extension: true, tag: 'reports', summary: 'Parking report: days, occupancy, hours, heatmap, zones, overstays, gate cross-check', query: ParkingReportQuerySchema, responses: { 200: json('the report', ParkingReportSchema) } },
  { method: 'get', path: '/api/reports/venues', access: 'manager', extension: true, tag: 'reports', summary: 'Venue report: visitors, occupancy, busiest hours', query: VenuesReportQuerySchema, responses: { 200: json('the report', VenuesReportSchema) } },
  { method: 'get', path: '/api/reports/flood', access: 'manager', extension: true, tag: 'reports', summary: 'Flood report: levels, minutes above each band, pump run hours and starts', query: FloodReportQuerySchema, responses: { 200: json('the report', FloodReportSchema) } },
  { method: 'get', path: '/api/reports/heatmap', access: 'manager', extension: true, tag: 'reports', summary: 'Weekday x hour occupancy heatmap', query: HeatmapQuerySchema, responses: { 200: json('the heatmap', HeatmapReportSchema) } },

  { method: 'get', path: '/api/reports/calendar', access: 'manager', extension: true, tag: 'reports', summary: "The site's days and the longest ranges, for a range picker", responses: { 200: json('the calendar', reportsCalendarSchema) } },
  {
    method: 'get',
    path: '/api/reports/monthly.pdf',
    access: 'manager',
    extension: true,
    tag: 'reports',
    summary: "The month's report as a PDF (parking, venues, flood incidents)",
    query: monthlyPdfQuerySchema,
    responses: { 200: { description: 'a PDF file', type: 'application/pdf' } },
  },

  // ---- official warnings ----
  {
    method: 'post',
    path: '/api/warnings',
    access: ['feed', 'admin'],
    extension: false,
    tag: 'warnings',
    summary: 'Post an official CAP 1.2 warning',
    body: { type: 'application/cap+xml', description: 'a CAP 1.2 <alert> (also application/xml or text/xml), UTF-8, at most 128 KiB' },
    responses: { 202: json('received', PostWarningResponseSchema), 413: fail('too large'), 415: fail('not XML, or not UTF-8') },
  },
  { method: 'get', path: '/api/warnings', access: 'viewer', extension: false, tag: 'warnings', summary: 'Warnings, newest first', query: WarningsQuerySchema, responses: { 200: list('warnings', WarningViewSchema) } },

  // ---- devices and LoRaWAN bindings ----
  { method: 'get', path: '/api/devices', access: 'viewer', extension: false, tag: 'devices', summary: 'Every site device with its binding and telemetry', responses: { 200: list('devices', DeviceViewSchema) } },
  { method: 'get', path: '/api/devices/unbound', access: 'admin', extension: false, tag: 'devices', summary: 'DevEUIs heard without a binding, newest first', responses: { 200: list('unbound devices', UnboundDeviceViewSchema) } },
  { method: 'get', path: '/api/devices/codecs', access: 'admin', extension: true, tag: 'devices', summary: 'The codecs and the device kinds they read', responses: { 200: list('codecs', CodecViewSchema) } },
  {
    method: 'put',
    path: '/api/devices/:deviceId/binding',
    access: 'admin',
    extension: false,
    tag: 'devices',
    summary: 'Bind a network-server device (DevEUI) to a ParkOps device with a codec',
    params: { deviceId: 'the ParkOps device' },
    body: { schema: BindingBodySchema },
    responses: {
      200: json('the binding', BindingViewSchema),
      404: fail('no such device'),
      409: fail('the DevEUI is bound to another device'),
    },
  },
  {
    method: 'delete',
    path: '/api/devices/:deviceId/binding',
    access: 'admin',
    extension: false,
    tag: 'devices',
    summary: "Remove a device's binding",
    params: { deviceId: 'the ParkOps device' },
    responses: { 204: noContent, 404: fail('no such device or binding') },
  },
  {
    method: 'post',
    path: '/api/devices/bindings.csv',
    access: 'admin',
    extension: true,
    tag: 'devices',
    summary: 'Import bindings from CSV (deviceId, devEui, codec, params), all or nothing',
    query: BindingsImportQuerySchema,
    body: { type: csv, description: 'CSV with a header row, at most 2 MB' },
    responses: { 200: json('what changed (or would change, with dryRun)', BindingsImportResultSchema), 413: fail('too large'), 415: fail('not CSV') },
  },

  // ---- Web Push ----
  { method: 'get', path: '/api/push/key', access: 'viewer', extension: true, tag: 'push', summary: "The server's VAPID public key", responses: { 200: json('the key', PushKeyResponseSchema), 503: fail('push is off; says why') } },
  { method: 'get', path: '/api/push/subscriptions', access: 'responder', extension: true, tag: 'push', summary: "This user's push subscriptions (never the keys)", responses: { 200: list('subscriptions', PushSubscriptionViewSchema) } },
  {
    method: 'post',
    path: '/api/push/subscriptions',
    access: 'responder',
    extension: true,
    tag: 'push',
    summary: "Store this browser's push subscription",
    body: { schema: PushSubscriptionBodySchema },
    responses: { 200: json('updated', PushSubscriptionViewSchema), 201: json('new', PushSubscriptionViewSchema), 503: fail('push is off') },
  },
  {
    method: 'delete',
    path: '/api/push/subscriptions',
    access: 'viewer',
    extension: true,
    tag: 'push',
    summary: 'Remove one of your subscriptions',
    body: { schema: PushUnsubscribeBodySchema },
    responses: { 204: noContent, 404: fail('no such subscription for this user') },
  },
  {
    method: 'post',
    path: '/api/push/test',
    access: 'responder',
    extension: true,
    tag: 'push',
    summary: 'Send a test notification to your subscriptions',
    responses: { 202: json('queued', PushTestResponseSchema), 409: fail('no subscription yet'), 503: fail('push is off') },
  },

  // ---- operations (docs/operations.md) ----
  {
    method: 'get',
    path: '/api/admin/storage',
    access: 'admin',
    extension: true,
    tag: 'ops',
    summary: 'What the database costs: size, rows per table, the oldest raw reading, the last backup, retention',
    responses: { 200: json('the figures', storageResponse) },
  },
  {
    method: 'post',
    path: '/api/admin/backup',
    access: 'admin',
    extension: true,
    tag: 'ops',
    summary: 'Back up the running database into the data folder (SQLite online backup; audited)',
    body: { schema: backupRequest },
    responses: { 201: json('the backup, with its download path', backupResponse), 409: fail('a backup is being written already') },
  },
  {
    method: 'get',
    path: '/api/admin/backups/:name',
    access: 'admin',
    extension: true,
    tag: 'ops',
    summary: 'Download a backup made from the admin page',
    params: { name: 'the backup file name from POST /api/admin/backup' },
    responses: { 200: { description: 'the SQLite database file', type: 'application/octet-stream' }, 404: fail('no such backup') },
  },
];

/** `METHOD /path` as express mounts it, e.g. `POST /api/alerts/:id/ack`. */
export const routeKey = (r: Pick<RouteDoc, 'method' | 'path'>): string => `${r.method.toUpperCase()} ${r.path}`;
