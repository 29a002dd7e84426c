/**
 * Express 4 ignores the promise an async route returns, so a rejected one would hang the request and
 * surface as an unhandled rejection. This makes every route and middleware's rejection reach the error
 * handler (the same patch express-async-errors applies; express 5 does it natively, but Node-RED 4
 * ships express 4 and we mount its apps in ours).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type Next = (err?: unknown) => void;
type LayerProto = { handle_request: (req: unknown, res: unknown, next: Next) => void; handle: (...args: unknown[]) => unknown };

let patched = false;
export function enableAsyncRoutes(): void {
  if (patched) return;
  patched = true;
  const Layer = require('express/lib/router/layer.js') as { prototype: LayerProto };
  Layer.prototype.handle_request = function handle(this: LayerProto, req, res, next) {
    const fn = this.handle;
    if (fn.length > 3) return next();
    try {
      const result = fn(req, res, next);
      if (result && typeof (result as Promise<unknown>).catch === 'function') (result as Promise<unknown>).catch((err: unknown) => next(err ?? new Error('route failed')));
    } catch (err) {
      next(err);
    }
  };
}
