/**
 * Server-side access to the ParkOps API for loads and the auth hook.
 *
 * The dashboard normally runs inside the ingest's express server (build/handler.js mounted there),
 * so the API is reached over loopback on the very socket the request came in on. `PARKOPS_API_URL`
 * overrides that when the dashboard runs as its own process (compose, `vite dev`).
 */
import { env } from '$env/dynamic/private';
import type { RequestEvent } from '@sveltejs/kit';
import type { Role } from '@parkops/contract';

export function apiBase(event: RequestEvent): string {
  if (env.PARKOPS_API_URL) return env.PARKOPS_API_URL;
  const socket = event.platform?.req?.socket;
  if (socket?.localPort) {
    const addr = socket.localAddress ?? '127.0.0.1';
    const host = addr.includes(':') ? (addr.startsWith('::ffff:') ? addr.slice(7) : `[${addr}]`) : addr;
    return `http://${host}:${socket.localPort}`;
  }
  return 'http://127.0.0.1:3000';
}

export class ApiUnreachable extends Error {}

/**
 * Who is signed in, by asking the API with the request's own cookie: null without a session.
 * Throws ApiUnreachable when the API cannot answer, so a server problem is not mistaken for a logout.
 */
export async function whoAmI(event: RequestEvent): Promise<App.Locals['user']> {
  const cookie = event.request.headers.get('cookie');
  if (!cookie) return null;
  let res: Response;
  try {
    res = await fetch(new URL('/api/auth/me', apiBase(event)), { headers: { cookie, accept: 'application/json' } });
  } catch {
    throw new ApiUnreachable('the API did not answer');
  }
  if (res.status === 401 || res.status === 403) return null;
  if (!res.ok) throw new ApiUnreachable(`the API answered ${res.status}`);
  try {
    const me = (await res.json()) as { username?: unknown; role?: unknown; kiosk?: unknown; mustChangePassword?: unknown };
    if (typeof me.username !== 'string' || typeof me.role !== 'string') return null;
    return {
      username: me.username,
      role: me.role as Role,
      ...(typeof me.kiosk === 'string' ? { kiosk: me.kiosk } : {}),
      ...(me.mustChangePassword === true ? { mustChangePassword: true } : {}),
    };
  } catch {
    throw new ApiUnreachable('the API answered with something other than JSON');
  }
}
