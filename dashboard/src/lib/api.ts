/**
 * Same-origin calls to the ParkOps API from the browser. The session cookie rides along; the
 * server checks Origin/Sec-Fetch-Site on state-changing calls, which plain same-origin fetch passes.
 * Failures become an ApiError whose `key` names a message in the user's language; the server's stable
 * `code` and `params` (contract/errors.ts) make it precise ("Already acknowledged by li.na at 03:12").
 */
import { isErrorCode, type ErrorCode, type ErrorParams } from '@parkops/contract/errors.ts';
import { en, type MessageKey } from './i18n/messages.ts';
import { formatTime } from './format.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly key: MessageKey;
  /** the server's own reason, shown after the translated message for 400 and 409 */
  readonly detail: string | undefined;
  /** for an import the server refused: every bad row, with its number */
  readonly rows: Array<{ row: number; error: string }> | undefined;
  /** the server's stable code and its parameters, when it gave one */
  readonly code: ErrorCode | undefined;
  readonly params: ErrorParams | undefined;
  constructor(status: number, key: MessageKey, detail?: string, rows?: Array<{ row: number; error: string }>, code?: ErrorCode, params?: ErrorParams) {
    super(detail ?? key);
    this.status = status;
    this.key = key;
    this.detail = detail;
    this.rows = rows;
    this.code = code;
    this.params = params;
  }
}

export function errorKeyForStatus(status: number): MessageKey {
  if (status === 0) return 'error.network';
  if (status === 400 || status === 422) return 'error.badRequest';
  if (status === 401) return 'error.unauthorized';
  if (status === 403) return 'error.forbidden';
  if (status === 404) return 'error.notFound';
  if (status === 409) return 'error.conflict';
  if (status === 429) return 'error.tooMany';
  return 'error.server';
}

type FetchLike = typeof fetch;

export async function apiFetch<T>(path: string, init: RequestInit = {}, f: FetchLike = fetch): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  headers.set('accept', 'application/json');
  let res: Response;
  try {
    res = await f(path, { credentials: 'same-origin', ...init, headers });
  } catch {
    throw new ApiError(0, 'error.network');
  }
  if (!res.ok) {
    let detail: string | undefined;
    let rows: Array<{ row: number; error: string }> | undefined;
    let code: ErrorCode | undefined;
    let params: ErrorParams | undefined;
    try {
      const body = (await res.json()) as { error?: unknown; rows?: unknown; code?: unknown; params?: unknown };
      if (typeof body.error === 'string') detail = body.error;
      if (Array.isArray(body.rows)) rows = body.rows as Array<{ row: number; error: string }>;
      if (isErrorCode(body.code)) code = body.code;
      if (body.params && typeof body.params === 'object') params = body.params as ErrorParams;
    } catch {
      // not JSON: keep the translated message only
    }
    const key = errorKeyForStatus(res.status);
    const shown = res.status === 400 || res.status === 409 || res.status === 422;
    throw new ApiError(res.status, key, shown ? detail : undefined, shown ? rows : undefined, code, params);
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) return (await res.text()) as T;
  return (await res.json()) as T;
}

export const api = {
  get: <T>(path: string, f?: FetchLike) => apiFetch<T>(path, {}, f),
  post: <T>(path: string, body?: unknown, f?: FetchLike) =>
    apiFetch<T>(path, { method: 'POST', body: JSON.stringify(body ?? {}) }, f),
  put: <T>(path: string, body?: unknown, f?: FetchLike) => apiFetch<T>(path, { method: 'PUT', body: JSON.stringify(body ?? {}) }, f),
  patch: <T>(path: string, body?: unknown, f?: FetchLike) => apiFetch<T>(path, { method: 'PATCH', body: JSON.stringify(body ?? {}) }, f),
  del: <T>(path: string, f?: FetchLike) => apiFetch<T>(path, { method: 'DELETE' }, f),
  /** POST a raw body (a CSV file) with its own content type. */
  send: <T>(path: string, body: string, contentType: string, f?: FetchLike) => apiFetch<T>(path, { method: 'POST', body, headers: { 'content-type': contentType } }, f),
};

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The words for a server code, with its parameters made readable (a field's name, a time); null for an unknown code. */
export function codeMessage(t: T, code: ErrorCode, params: ErrorParams = {}, lang = 'en'): string | null {
  // The account pages' codes are worded in messages-auth.ts (`code.auth.*`), the rest here (`errcode.*`).
  const key = `errcode.${code}` in en ? `errcode.${code}` : `code.${code}`;
  if (!(key in en)) return null;
  const p: Record<string, string | number> = { ...params };
  if (typeof params.field === 'string') {
    const f = `field.${params.field}`;
    p.field = f in en ? t(f as MessageKey) : params.field;
  }
  if (typeof params.at === 'string') p.time = formatTime(lang, params.at, true);
  return t(key as MessageKey, p);
}

/**
 * Translate any thrown value to a plain message; never a stack trace. A server code is worded in the
 * user's language; without one, the server's own reason follows the translated status (400 and 409).
 */
export function errorMessage(t: T, e: unknown, lang = 'en'): string {
  if (e instanceof ApiError) {
    const coded = e.code ? codeMessage(t, e.code, e.params, lang) : null;
    if (coded) return coded;
    return e.detail ? `${t(e.key)} (${e.detail})` : t(e.key);
  }
  return t('error.unexpected');
}
