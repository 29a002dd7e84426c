/**
 * HTTP routes of the alert engine, mounted by the controller at /api (CONTRACT.md section 3):
 * GET /alerts, POST /alerts/:id/ack, GET /incidents, GET /incidents/:id (JSON, or CSV with format=csv).
 * Thin on purpose: validate with zod, call the engine, answer `{"error"}` with a fitting status.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { asyncRouter, caught } from '../api/async-routes.ts';
import { z } from 'zod';
import type { Role } from '../contract/api.ts';
import type { AuthUser } from '../auth/types.ts';
import { AlertNotAckable, AlertNotFound, type AlertEngine } from './alert-engine.ts';

/** ISO 8601 with a zone offset (or Z), or epoch milliseconds, as everywhere in the contract. */
const time = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(s) ? Date.parse(s) : NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time with a zone offset (e.g. 2026-07-01T08:00:00Z) or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

const range = z
  .object({ from: time.optional(), to: time.optional() })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

const alertsQuery = z.intersection(z.object({ state: z.enum(['active', 'all'], { message: 'must be active or all' }).default('active') }), range);
const incidentsQuery = z.intersection(z.object({ room: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a room id').optional() }), range);
const incidentQuery = z.object({ format: z.enum(['json', 'csv'], { message: 'must be json or csv' }).default('json'), lang: z.enum(['en', 'zh-CN'], { message: 'must be en or zh-CN' }).optional() });
const ackBody = z.object({ note: z.string().max(1000, 'must be at most 1000 characters').optional() });

function problem(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'request'}: ${i.message}`).join('; ');
}

const send400 = (res: Response, message: string): void => void res.status(400).json({ error: message });

export function alertsRouter(engine: AlertEngine, guard: { requireRole(role: Role): RequestHandler }): express.Router {
  const router = asyncRouter();
  const viewer = guard.requireRole('viewer');
  const responder = guard.requireRole('responder');

  router.get('/alerts', viewer, caught(async (req, res) => {
    const q = alertsQuery.safeParse(req.query);
    if (!q.success) return send400(res, problem(q.error));
    res.json(await engine.list(q.data));
  }));

  router.post('/alerts/:id/ack', responder, express.json({ limit: '16kb' }), caught(async (req, res) => {
    const body = ackBody.safeParse(req.body ?? {});
    if (!body.success) return send400(res, problem(body.error));
    const user = req.user as AuthUser | undefined;
    if (!user) return void res.status(401).json({ error: 'authentication required' });
    try {
      res.json(await engine.acknowledge(req.params.id ?? '', { username: user.username, ip: req.ip }, body.data.note));
    } catch (err) {
      if (err instanceof AlertNotFound) return void res.status(404).json({ error: err.message });
      if (err instanceof AlertNotAckable) return void res.status(409).json({ error: err.message });
      throw err;
    }
  }));

  router.get('/incidents', viewer, caught(async (req, res) => {
    const q = incidentsQuery.safeParse(req.query);
    if (!q.success) return send400(res, problem(q.error));
    res.json(await engine.incidents(q.data));
  }));

  router.get('/incidents/:id', viewer, caught(async (req, res) => {
    const q = incidentQuery.safeParse(req.query);
    if (!q.success) return send400(res, problem(q.error));
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
    if (e.type === 'entity.parse.failed') return send400(res, 'request body is not valid JSON');
    if (e.type === 'entity.too.large') return void res.status(413).json({ error: 'request body is too large (at most 16 KiB)' });
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return void res.status(e.status).json({ error: e.message ?? 'bad request' });
    engine.logError(err, 'alerts route failed');
    res.status(500).json({ error: 'internal error while handling alerts; see the server log' });
  });

  return router;
}
