/**
 * HTTP routes of the storm module, mounted at /api (docs/warnings.md):
 *
 * | route | role |
 * |---|---|
 * | GET /flood/{room}/readiness | viewer: the room's storm view, the checklist evaluated now |
 * | POST /flood/{room}/checklist/{item} `{"done", "note"?}` | responder: tick or untick a manual item (audited) |
 *
 * Errors are `{"error", "code", "params"?}` (the dashboard translates `code`), never internals.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ZodError } from 'zod';
import type { Role } from '@parkops/contract/api.ts';
import { checklistTickBody, stormPathParams } from '@parkops/contract/storm.ts';
import { StormError, type StormService } from './storm-service.ts';

function problem(err: ZodError): string {
  return err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

export function stormRouter(storm: StormService, guard: { requireRole(role: Role): RequestHandler }, log: { error(obj: object, msg: string): void }): express.Router {
  const router = express.Router();
  const viewer = guard.requireRole('viewer');
  const responder = guard.requireRole('responder');

  const fail = (res: Response, err: unknown): void => {
    if (err instanceof StormError) return void res.status(err.status).json({ error: err.message, code: err.code, params: err.params });
    log.error({ err }, 'storm route failed');
    res.status(500).json({ error: 'internal error while handling the readiness checklist; see the server log', code: 'internal' });
  };

  router.get('/flood/:roomId/readiness', viewer, (req, res) => {
    const p = stormPathParams.safeParse(req.params);
    if (!p.success) return void res.status(400).json({ error: problem(p.error), code: 'request.invalid' });
    storm.readiness(p.data.roomId).then((v) => void res.json(v), (err: unknown) => fail(res, err));
  });

  router.post('/flood/:roomId/checklist/:itemId', responder, express.json({ limit: '16kb' }), (req, res) => {
    const p = stormPathParams.safeParse(req.params);
    if (!p.success) return void res.status(400).json({ error: problem(p.error), code: 'request.invalid' });
    const body = checklistTickBody.safeParse(req.body ?? {});
    if (!body.success) return void res.status(400).json({ error: problem(body.error), code: 'request.invalid' });
    if (!req.user) return void res.status(401).json({ error: 'authentication required', code: 'auth.required' });
    storm
      .tick(p.data.roomId, p.data.itemId ?? '', body.data, { username: req.user.username, ip: req.ip })
      .then((item) => void res.json(item), (err: unknown) => fail(res, err));
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string };
    if (e.type === 'entity.parse.failed') return void res.status(400).json({ error: 'request body is not valid JSON', code: 'request.invalid' });
    if (e.type === 'entity.too.large') return void res.status(413).json({ error: 'request body is too large (at most 16 KiB)', code: 'request.too-large' });
    next(err);
  });
  return router;
}
