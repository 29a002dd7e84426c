/**
 * The auth module in front of HTTP routes: who is asking (`authenticate`), may they (`requireRole`,
 * `requireAnyRole`), and may they change anything (`csrf`: cross-site requests, and wall screens that may
 * only look). Also the cookie and address helpers the auth routes share.
 */
import type express from 'express';
import { roleAtLeast, type Role } from '@parkops/contract/api.ts';
import type { AuthErrorCode } from '@parkops/contract/auth.ts';
import { clientIp, isHttps, readCookie, sameOrigin, serializeCookie, SESSION_COOKIE } from './http.ts';
import type { AuthService } from './service.ts';

const CHECKED = Symbol('parkops.auth.checked');
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `{error, code, params?}`: the English reason for integrators, the code for the dashboard to translate. */
export function sendError(res: express.Response, status: number, error: string, code: AuthErrorCode, params?: Record<string, string | number>): void {
  res.status(status).json({ error, code, ...(params ? { params } : {}) });
}

export class AuthMiddleware {
  constructor(private readonly auth: AuthService) {}

  private get trustProxy(): boolean {
    return this.auth.config.PARKOPS_TRUST_PROXY;
  }

  /** Sets req.user from the bearer token or the session cookie, or leaves it undefined. Never answers by itself. */
  authenticate(): express.RequestHandler {
    return (req, _res, next) => {
      const r = req as express.Request & { [CHECKED]?: boolean };
      if (r[CHECKED]) return next();
      r[CHECKED] = true;
      this.auth.identify({ authorization: req.headers.authorization }, this.sessionIdOf(req)).then(
        (user) => {
          req.user = user;
          next();
        },
        (err: unknown) => next(err),
      );
    };
  }

  /** 401 without a user, 403 when the user's role is below `role` (roles include the ones before them). */
  requireRole(role: Role): express.RequestHandler {
    return (req, res, next) => {
      if (!req.user) return this.unauthenticated(res);
      if (!roleAtLeast(req.user.role, role)) return sendError(res, 403, `this needs the ${role} role; you are ${req.user.role}`, 'auth.role', { need: role, have: req.user.role });
      next();
    };
  }

  /**
   * 401 without a user, 403 unless the user's role is exactly one of `roles`: for routes off the role
   * ladder, such as posting warnings (the `feed` token role, or an admin; docs/api.md, official warnings).
   */
  requireAnyRole(roles: readonly Role[]): express.RequestHandler {
    return (req, res, next) => {
      if (!req.user) return this.unauthenticated(res);
      if (!roles.includes(req.user.role)) return sendError(res, 403, `this needs the ${roles.join(' or ')} role; you are ${req.user.role}`, 'auth.role', { need: roles.join(','), have: req.user.role });
      next();
    };
  }

  private unauthenticated(res: express.Response): void {
    res.setHeader('WWW-Authenticate', 'Bearer realm="ParkOps"');
    sendError(res, 401, 'authentication required: log in, or send Authorization: Bearer <token>', 'auth.required');
  }

  /**
   * Refuses state changes that a session cookie must not make: from another site (bearer tokens are
   * not sent by browsers on their own, so they need no check), and any from a wall screen but signing
   * itself out: a kiosk session can only look, whatever role checks a route makes.
   */
  csrf(): express.RequestHandler {
    return (req, res, next) => {
      if (req.user?.via !== 'session' || READS.has(req.method)) return next();
      const verdict = sameOrigin(req, this.trustProxy);
      if (!verdict.ok) {
        this.auth.log.warn({ user: req.user.username, method: req.method, path: req.originalUrl, why: verdict.why }, 'cross-site request refused');
        return sendError(res, 403, `refused: ${verdict.why}`, 'auth.cross_site');
      }
      if (req.user.kiosk !== undefined && !(req.method === 'POST' && req.originalUrl.split('?')[0] === '/api/auth/logout')) {
        return sendError(res, 403, 'a wall screen signed in with a kiosk link can only view', 'auth.kiosk_view_only');
      }
      next();
    };
  }

  // ------------------------------------------------------------------------------------------
  // For the auth routes

  sessionIdOf(req: express.Request): string | undefined {
    return readCookie(req.headers.cookie, SESSION_COOKIE);
  }
  sessionCookie(req: express.Request, sessionId: string, expiresAt: number): string {
    const now = this.auth.now();
    // Rounded: the session's end was set a few milliseconds ago; the cookie says whole seconds.
    return serializeCookie(SESSION_COOKIE, sessionId, { maxAgeSec: Math.round((expiresAt - now) / 1000), secure: this.secureCookies(req), now });
  }
  clearedCookie(req: express.Request): string {
    return serializeCookie(SESSION_COOKIE, '', { maxAgeSec: 0, secure: this.secureCookies(req), now: this.auth.now() });
  }
  private secureCookies(req: express.Request): boolean {
    const mode = this.auth.config.PARKOPS_SECURE_COOKIES;
    return mode === 'always' || (mode === 'auto' && isHttps(req, this.trustProxy));
  }
  clientIp(req: express.Request): string {
    return clientIp(req, this.trustProxy);
  }
  sameOrigin(req: express.Request): ReturnType<typeof sameOrigin> {
    return sameOrigin(req, this.trustProxy);
  }
}
