/**
 * Errors that reach HTTP clients: `{"error": string, "code"?, "params"?}` with a fitting status, never a
 * stack trace. `code` (contract/errors.ts) lets the dashboard word it in the user's language.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ZodError } from 'zod';
import type { ApiErrorBody, ErrorCode, ErrorParams } from '@parkops/contract/errors.ts';
import type { Logger } from '../log.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: ErrorCode,
    readonly params?: ErrorParams,
  ) {
    super(message);
  }

  body(): ApiErrorBody {
    return errorBody(this.message, this.code, this.params);
  }
}

export const badRequest = (message: string, code: ErrorCode = 'request.bad', params?: ErrorParams): HttpError => new HttpError(400, message, code, params);

export function errorBody(error: string, code?: ErrorCode, params?: ErrorParams): ApiErrorBody {
  const out: ApiErrorBody = { error };
  if (code !== undefined) out.code = code;
  if (params !== undefined && Object.keys(params).length > 0) out.params = params;
  return out;
}

export function zodMessage(err: ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** A 400 body for a zod failure: the English message, `validation`, and the first field named. */
export function validationError(err: ZodError): ApiErrorBody {
  const first = err.issues[0];
  const field = first && first.path.length > 0 ? first.path.join('.') : 'request';
  return errorBody(zodMessage(err), 'validation', { field, problem: first?.message ?? 'invalid' });
}

export const apiNotFound: RequestHandler = (req, res) => {
  res.status(404).json(errorBody(`no such API route: ${req.method} ${req.path.slice(0, 200)}`, 'route.not_found'));
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
    let status = e instanceof HttpError ? e.status : (e.status ?? e.statusCode ?? 500);
    let body: ApiErrorBody;
    if (e instanceof HttpError) body = e.body();
    else if (e.type === 'entity.too.large') body = errorBody('request body too large (limit 64 KiB)', 'request.too_large');
    else if (e.type === 'entity.parse.failed') body = errorBody('request body is not valid JSON', 'request.bad_json');
    else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') body = errorBody('request body encoding not supported; send UTF-8 JSON', 'request.encoding');
    else if (status >= 400 && status < 500) body = errorBody('bad request', 'request.bad');
    else {
      status = 500;
      body = errorBody('internal error; it has been logged', 'internal');
      log.error({ err, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}
