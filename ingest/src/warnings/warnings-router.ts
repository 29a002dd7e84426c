/**
 * HTTP routes of the warnings module, mounted at /api (docs/api.md, official warnings):
 *
 * | route | role |
 * |---|---|
 * | POST /warnings (CAP 1.2 XML) | feed (a token role) or admin |
 * | GET /warnings?state=active\|all&limit | viewer |
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { asyncRouter, caught } from '../api/async-routes.ts';
import type { Role } from '@parkops/contract/api.ts';
import { MAX_CAP_BYTES } from '@parkops/contract/cap.ts';
import { WarningsQuerySchema } from '@parkops/contract/http.ts';
import type { WarningService } from './warning-service.ts';

/** The media types CAP is sent as: RFC 4288's application/cap+xml, and generic XML. */
export const CAP_MEDIA_TYPES = ['application/cap+xml', 'application/xml', 'text/xml'];

interface Guard {
  requireRole(role: Role): RequestHandler;
  requireAnyRole(roles: readonly Role[]): RequestHandler;
}

export function warningsRouter(warnings: WarningService, guard: Guard): express.Router {
  const router = asyncRouter();
  const viewer = guard.requireRole('viewer');
  const feed = guard.requireAnyRole(['feed', 'admin']);
  const xmlBody = express.raw({ type: CAP_MEDIA_TYPES, limit: MAX_CAP_BYTES });

  router.post('/warnings', feed, (req, res, next) => {
    if (!req.is(CAP_MEDIA_TYPES)) {
      return void res.status(415).json({ error: `send the CAP alert as ${CAP_MEDIA_TYPES.join(', ')} (got ${req.headers['content-type'] ?? 'no Content-Type'})` });
    }
    const charset = /;\s*charset\s*=\s*"?([^";]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset.trim())) return void res.status(415).json({ error: `send the CAP alert as UTF-8 (got charset ${charset.slice(0, 20)})` });
    next();
  }, xmlBody, caught(async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const result = await warnings.receive(body, { via: 'http', origin: req.user?.username ?? 'unknown' });
    if (!result.ok) return void res.status(400).json({ error: result.reason, problems: result.problems });
    res.status(202).json(result.response);
  }));

  router.get('/warnings', viewer, caught(async (req, res) => {
    const q = WarningsQuerySchema.safeParse(req.query);
    if (!q.success) return void res.status(400).json({ error: q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') });
    res.json(await warnings.list(q.data));
  }));

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (err as { type?: string }).type;
    if (res.headersSent || type === undefined) return next(err);
    if (type === 'entity.too.large') return void res.status(413).json({ error: `the CAP alert is larger than ${MAX_CAP_BYTES / 1024} KiB` });
    if (type === 'request.aborted') return void res.status(400).json({ error: 'the request was aborted before the body arrived' });
    next(err);
  });
  return router;
}
