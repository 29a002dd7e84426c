/**
 * Express 4 ignores the promise an async handler returns, so a rejected one would hang the request and
 * surface as an unhandled rejection. `asyncRouter()` is an express Router whose route and middleware
 * methods hand each handler's rejection (or throw) to `next`, so it reaches the error handler; `caught`
 * does the same for one handler mounted on the app itself.
 *
 * Explicit, instead of patching express's private `lib/router/layer.js`: express 5 would do it
 * natively, but Node-RED 4 mounts its own express 4 apps inside ours (two majors' request handling in
 * one request), and express 5's path syntax (path-to-regexp 8) changes what every route pattern means.
 */
import { Router, type RequestHandler, type RouterOptions } from 'express';

type Handler = (req: unknown, res: unknown, next: (err?: unknown) => void) => unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Wraps a handler so a rejection or throw goes to `next`. Error handlers (four arguments), routers and apps are left as they are. */
function wrap(h: unknown): unknown {
  if (Array.isArray(h)) return h.map(wrap);
  if (typeof h !== 'function') return h;
  const fn = h as Handler & { stack?: unknown; handle?: unknown };
  if (fn.length > 3 || fn.stack !== undefined || typeof fn.handle === 'function') return h;
  return function asyncHandler(req: unknown, res: unknown, next: (err?: unknown) => void): void {
    try {
      const result = fn(req, res, next);
      if (isThenable(result)) result.then(undefined, (err: unknown) => next(err ?? new Error('route failed')));
    } catch (err) {
      next(err);
    }
  };
}

/** One handler on the app itself (outside a router), with its rejections sent to the error handler. */
export function caught(fn: (...args: Parameters<RequestHandler>) => unknown): RequestHandler {
  return wrap(fn) as RequestHandler;
}

const METHODS = ['all', 'get', 'post', 'put', 'patch', 'delete', 'use'] as const;

/** An express Router whose async routes and middleware pass their failures on to the error handler. */
export function asyncRouter(options?: RouterOptions): Router {
  const router = Router(options);
  for (const m of METHODS) {
    const original = (router[m] as (...args: unknown[]) => unknown).bind(router);
    (router as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => original(...args.map(wrap));
  }
  return router;
}
