/** A small HTTP client for tests that logs in once and sends the session cookie and Origin. */
import type { ParkOpsProcess } from '../harness/system.ts';

export interface Api {
  get<T = unknown>(path: string): Promise<{ status: number; body: T; headers: Headers }>;
  post<T = unknown>(path: string, body: unknown): Promise<{ status: number; body: T }>;
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
  };
}
