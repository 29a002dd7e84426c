/** Request details the auth module needs, read the same way everywhere (cookies, client address, HTTPS, origin). */
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { Request } from 'express';

export const SESSION_COOKIE = 'parkops_session';
/** The dashboard's language choice (zh-CN or en), read for pages the API renders itself. */
export const LANG_COOKIE = 'parkops_lang';

/** The value of one cookie from a Cookie header (RFC 6265 section 5.4), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  // The cookie package keeps a value it cannot percent-decode as it is: such a session id matches nothing.
  const value = parseCookie(header)[name];
  return value === undefined || value === '' ? undefined : value;
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The client's address. Behind a trusted reverse proxy (PARKOPS_TRUST_PROXY) it is the last
 * X-Forwarded-For entry: the address the proxy itself saw. Earlier entries are whatever the client
 * chose to send, so trusting the first one would let anyone dodge the login limiter.
 */
export function clientIp(req: Pick<Request, 'headers' | 'socket'>, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = firstHeader(req.headers, 'x-forwarded-for');
    const last = xff?.split(',').map((s) => s.trim()).filter(Boolean).pop();
    if (last) return stripMapped(last);
  }
  return stripMapped(req.socket.remoteAddress ?? 'unknown');
}
const stripMapped = (ip: string) => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

/** Whether the browser reached us over HTTPS (directly, or via X-Forwarded-Proto from a trusted proxy). */
export function isHttps(req: Request, trustProxy: boolean): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  if (trustProxy) return firstHeader(req.headers, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
  return false;
}

/** The host the browser addressed (Host, or X-Forwarded-Host from a trusted proxy), lower-case. */
export function requestHost(req: Request, trustProxy: boolean): string | undefined {
  const forwarded = trustProxy ? firstHeader(req.headers, 'x-forwarded-host')?.split(',')[0]?.trim() : undefined;
  return (forwarded || firstHeader(req.headers, 'host'))?.toLowerCase();
}

/**
 * Cross-site request check for cookie-authenticated requests. Browsers send Origin on every
 * cross-origin request and on same-origin POST/PUT/PATCH/DELETE (Fetch standard); Sec-Fetch-Site
 * where Origin is absent. A request with neither did not come from a modern browser page and, since
 * it carries a session cookie, is refused: scripts use bearer tokens.
 */
export function sameOrigin(req: Request, trustProxy: boolean): { ok: true } | { ok: false; why: string } {
  const origin = firstHeader(req.headers, 'origin');
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      return { ok: false, why: 'the Origin header is not a URL' };
    }
    // Host only, not scheme: behind a TLS-terminating proxy without X-Forwarded-Proto the scheme
    // seen here is http while the page's origin is https.
    return host === requestHost(req, trustProxy) ? { ok: true } : { ok: false, why: `cross-site request from ${origin}` };
  }
  const site = firstHeader(req.headers, 'sec-fetch-site');
  if (site === 'same-origin') return { ok: true };
  if (site !== undefined) return { ok: false, why: `cross-site request (Sec-Fetch-Site: ${site})` };
  return { ok: false, why: 'a request that changes state with a session cookie must carry an Origin header' };
}

/** A Set-Cookie for a ParkOps cookie: HttpOnly, SameSite=Lax, Path=/, Max-Age with a matching Expires. */
export function serializeCookie(name: string, value: string, opts: { maxAgeSec: number; secure: boolean; now: number }): string {
  const maxAge = Math.max(0, Math.floor(opts.maxAgeSec));
  return stringifySetCookie(name, value, { path: '/', httpOnly: true, sameSite: 'lax', maxAge, expires: new Date(opts.now + maxAge * 1000), secure: opts.secure });
}
