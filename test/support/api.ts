/** A small HTTP client for tests that logs in once and sends the session cookie and Origin. */
import type { ParkOpsProcess } from '../harness/system.ts';

export interface Api {
  get<T = unknown>(path: string): Promise<{ status: number; body: T; headers: Headers }>;
  post<T = unknown>(path: string, body: unknown): Promise<{ status: number; body: T }>;
  put<T = unknown>(path: string, body: unknown): Promise<{ status: number; body: T }>;
  del<T = unknown>(path: string): Promise<{ status: number; body: T }>;
  /** POST with a raw body and content type (CSV uploads). */
  send<T = unknown>(path: string, body: string, contentType: string): Promise<{ status: number; body: T }>;
  cookie: string;
}

export async function adminApi(sys: ParkOpsProcess): Promise<Api> {
  const cookie = await sys.adminCookie();
  return apiWithCookie(sys.baseUrl, cookie);
}

export function apiWithCookie(baseUrl: string, cookie: string): Api {
  const headers = { cookie, origin: baseUrl };
  const parse = async (res: Response): Promise<unknown> => {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  return {
    cookie,
    async get(path) {
      const res = await fetch(baseUrl + path, { headers });
      return { status: res.status, body: (await parse(res)) as never, headers: res.headers };
    },
    async post(path, body) {
      const res = await fetch(baseUrl + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await parse(res)) as never };
    },
    async put(path, body) {
      const res = await fetch(baseUrl + path, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await parse(res)) as never };
    },
    async del(path) {
      const res = await fetch(baseUrl + path, { method: 'DELETE', headers });
      return { status: res.status, body: (await parse(res)) as never };
    },
    async send(path, body, contentType) {
      const res = await fetch(baseUrl + path, { method: 'POST', headers: { ...headers, 'content-type': contentType }, body });
      return { status: res.status, body: (await parse(res)) as never };
    },
  };
}
