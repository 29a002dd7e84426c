/**
 * HTTP routes of the alert engine, mounted by the controller at /api (docs/api.md, HTTP API):
 * GET /alerts, POST /alerts/:id/ack, POST /flood/:room/ack (one acknowledgement for the room's open
 * alerts, each audited), GET /incidents, GET /incidents/:id (JSON, or CSV with format=csv).
 * Thin on purpose: validate with zod, call the engine, answer `{"error", "code"}` with a fitting status.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { asyncRouter, caught } from '../api/async-routes.ts';
import { z } from 'zod';
import type { Alert, Role } from '@parkops/contract/api.ts';
import { ackBody, type RoomAckResponse } from '@parkops/contract/acknowledge.ts';
import type { ErrorCode, ErrorParams } from '@parkops/contract/errors.ts';
import { parseSubject, roomOf } from '@parkops/contract/subjects.ts';
import { AlertsQuerySchema, IncidentQuerySchema, IncidentsQuerySchema } from '@parkops/contract/http.ts';
import { errorBody } from '../api/http-errors.ts';
import { AlertNotAckable, AlertNotFound, type AlertEngine } from './alert-engine.ts';

function problem(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'request'}: ${i.message}`).join('; ');
}

/** A zod failure: the English problems, and the first field for the dashboard. */
const send400 = (res: Response, error: z.ZodError): void => {
  const first = error.issues[0];
  void res.status(400).json(errorBody(problem(error), 'validation', { field: first && first.path.length > 0 ? first.path.join('.') : 'request', problem: first?.message ?? 'invalid' }));
};
const sendError = (res: Response, status: number, message: string, code: ErrorCode, params?: ErrorParams): void => void res.status(status).json(errorBody(message, code, params));

const needsAck = (a: Alert): boolean => a.state === 'firing' || (a.state === 'resolved' && a.ackedAt === undefined);
const roomOfAlert = (a: Alert): string | undefined => a.room ?? roomOf(parseSubject(a.subject));

export function alertsRouter(engine: AlertEngine, guard: { requireRole(role: Role): RequestHandler }, site?: { room(id: string): unknown }): express.Router {
  const router = asyncRouter();
  const viewer = guard.requireRole('viewer');
  const responder = guard.requireRole('responder');

  router.get('/alerts', viewer, caught(async (req, res) => {
    const q = AlertsQuerySchema.safeParse(req.query);
    if (!q.success) return send400(res, q.error);
    res.json(await engine.list(q.data));
  }));

  router.post('/alerts/:id/ack', responder, express.json({ limit: '16kb' }), caught(async (req, res) => {
    const body = ackBody.safeParse(req.body ?? {});
    if (!body.success) return send400(res, body.error);
    const user = req.user;
    if (!user) return sendError(res, 401, 'authentication required', 'auth.required');
    const id = req.params.id ?? '';
    try {
      res.json(await engine.acknowledge(id, { username: user.username, ip: req.ip }, body.data.note));
    } catch (err) {
      if (err instanceof AlertNotFound) return sendError(res, 404, err.message, 'alert.not_found', { id });
      if (err instanceof AlertNotAckable) return sendError(res, 409, err.message, err.resolved ? 'alert.resolved_acked' : 'alert.already_acked', { by: err.by, at: err.at });
      throw err;
    }
  }));

  // One acknowledgement for the room's incident: every alert of the room that still needs one, each
  // acknowledged (and audited) on its own, with the same note. One that someone else acknowledged a
  // moment earlier is reported as skipped, not as an error: the room is acknowledged either way.
  router.post('/flood/:room/ack', responder, express.json({ limit: '16kb' }), caught(async (req, res) => {
    const body = ackBody.safeParse(req.body ?? {});
    if (!body.success) return send400(res, body.error);
    const user = req.user;
    if (!user) return sendError(res, 401, 'authentication required', 'auth.required');
    const room = req.params.room ?? '';
    if (site && !site.room(room)) return sendError(res, 404, `no flood room "${room.slice(0, 64)}"`, 'room.not_found', { room: room.slice(0, 64) });
    const out: RoomAckResponse = { room, acknowledged: [], skipped: [] };
    for (const a of engine.active()) {
      if (roomOfAlert(a) !== room || !needsAck(a)) continue;
      try {
        out.acknowledged.push(await engine.acknowledge(a.id, { username: user.username, ip: req.ip }, body.data.note));
      } catch (err) {
        if (err instanceof AlertNotAckable) out.skipped.push({ id: a.id, by: err.by, at: err.at });
        else if (!(err instanceof AlertNotFound)) throw err;
      }
    }
    res.json(out);
  }));

  router.get('/incidents', viewer, caught(async (req, res) => {
    const q = IncidentsQuerySchema.safeParse(req.query);
    if (!q.success) return send400(res, q.error);
    res.json(await engine.incidents(q.data));
  }));

  router.get('/incidents/:id', viewer, caught(async (req, res) => {
    const q = IncidentQuerySchema.safeParse(req.query);
    if (!q.success) return send400(res, q.error);
    const id = req.params.id ?? '';
    if (q.data.format === 'csv') {
      const csv = await engine.incidentCsv(id, q.data.lang);
      if (csv === undefined) return void res.status(404).json({ error: `no incident with id "${id}"` });
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="incident-${id}.csv"`);
      return void res.send(csv);
    }
    const d = await engine.incident(id);
    if (!d) return void res.status(404).json({ error: `no incident with id "${id}"` });
    res.json(d);
  }));

  // Bad JSON and anything unexpected: a clear message, never a stack trace.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'request body is not valid JSON', 'request.bad_json');
    if (e.type === 'entity.too.large') return sendError(res, 413, 'request body is too large (at most 16 KiB)', 'request.too_large');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, e.message ?? 'bad request', 'request.bad');
    engine.logError(err, 'alerts route failed');
    sendError(res, 500, 'internal error while handling alerts; see the server log', 'internal');
  });

  return router;
}
