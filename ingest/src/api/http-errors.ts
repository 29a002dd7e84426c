/** Errors that reach HTTP clients: `{ "error": string }` with a fitting status, never a stack trace. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';
import type { Logger } from '../log.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);

export function zodMessage(err: ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export const apiNotFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no such API route: ${req.method} ${req.path.slice(0, 200)}` });
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
    let status = e instanceof HttpError ? e.status : (e.status ?? e.statusCode ?? 500);
    let message: string;
    if (e instanceof HttpError) message = e.message;
    else if (e.type === 'entity.too.large') message = 'request body too large (limit 64 KiB)';
    else if (e.type === 'entity.parse.failed') message = 'request body is not valid JSON';
    else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') message = 'request body encoding not supported; send UTF-8 JSON';
    else if (status >= 400 && status < 500) message = 'bad request';
    else {
      status = 500;
      message = 'internal error; it has been logged';
      log.error({ err, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(status).json({ error: message });
  };
}
