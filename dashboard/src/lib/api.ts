/**
 * Same-origin calls to the ParkOps API from the browser. The session cookie rides along; the
 * server checks Origin/Sec-Fetch-Site on state-changing calls, which plain same-origin fetch passes.
 * Failures become an ApiError whose `key` names a message in the user's language.
 */
import type { MessageKey } from './i18n/messages.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly key: MessageKey;
  /** the server's own reason, shown after the translated message for 400 and 409 */
  readonly detail: string | undefined;
  /** for an import the server refused: every bad row, with its number */
  readonly rows: Array<{ row: number; error: string }> | undefined;
  constructor(status: number, key: MessageKey, detail?: string, rows?: Array<{ row: number; error: string }>) {
    super(detail ?? key);
    this.status = status;
    this.key = key;
    this.detail = detail;
    this.rows = rows;
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
    try {
      const body = (await res.json()) as { error?: unknown; rows?: unknown };
      if (typeof body.error === 'string') detail = body.error;
      if (Array.isArray(body.rows)) rows = body.rows as Array<{ row: number; error: string }>;
    } catch {
      // not JSON: keep the translated message only
    }
    const key = errorKeyForStatus(res.status);
    const shown = res.status === 400 || res.status === 409 || res.status === 422;
    throw new ApiError(res.status, key, shown ? detail : undefined, shown ? rows : undefined);
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
  del: <T>(path: string, f?: FetchLike) => apiFetch<T>(path, { method: 'DELETE' }, f),
  /** POST a raw body (a CSV file) with its own content type. */
  send: <T>(path: string, body: string, contentType: string, f?: FetchLike) => apiFetch<T>(path, { method: 'POST', body, headers: { 'content-type': contentType } }, f),
};

/** Translate any thrown value to a plain message; never a stack trace. */
export function errorMessage(t: (key: MessageKey) => string, e: unknown): string {
  if (e instanceof ApiError) return e.detail ? `${t(e.key)} (${e.detail})` : t(e.key);
  return t('error.unexpected');
}
