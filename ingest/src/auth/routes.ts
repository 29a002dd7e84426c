/**
 * /api routes of the auth module (mounted by the HTTP server at /api). Contract section 3 defines
 * POST /users and POST /tokens; the rest are extensions an integrator would expect around them
 * (docs/security.md). Every refusal is `{error, code, params?}`.
 *
 * | route | role |
 * |---|---|
 * | POST /auth/login (JSON, or a plain HTML form), POST /auth/logout, POST /auth/kiosk | none |
 * | GET /auth/me, POST /auth/password | viewer |
 * | GET, POST /users; PATCH, DELETE /users/:username; POST /users/:username/unlock; DELETE /users/:username/sessions | admin |
 * | GET, POST /tokens; DELETE /tokens/:name | admin |
 * | GET, POST /kiosks; DELETE /kiosks/:name | admin |
 * | GET /audit | admin |
 */
import express from 'express';
import type { z } from 'zod';
import { auditQuery, changePasswordBody, createKioskBody, createTokenBody, createUserBody, kioskSignInBody, loginBody, updateUserBody } from '@parkops/contract/auth.ts';
import { sendError, type AuthMiddleware } from './middleware.ts';
import { AuthError } from './rules.ts';
import type { AuthService } from './service.ts';

class BadRequest extends Error {}

/** Parses with zod; a failure becomes 400 with each problem named by its field. */
function parse<T>(schema: z.ZodType<T>, value: unknown, what = 'request body'): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    if (i.path.length === 0) return i.code === 'invalid_type' ? `${what} must be a JSON object` : i.message;
    return `${i.path.join('.')}: ${i.message}`;
  });
  throw new BadRequest(problems.join('; '));
}

type Handler = (req: express.Request, res: express.Response) => Promise<void> | void;
/** Express 4 does not catch rejected promises: route them to the error handler. */
const handle =
  (fn: Handler): express.RequestHandler =>
  (req, res, next) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };

/** "15 minutes", "1 hour 5 minutes": how long a lock-out lasts, rounded up to the minute. */
export function lockDuration(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes < 60) return plural(minutes, 'minute');
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} ${plural(m, 'minute')}`;
}

/** Only same-site paths: `next` must not send the browser to another origin. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) && !/[\r\n]/.test(next) ? next : '/';
}

const isoOrUndefined = (t: string | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

export function buildRouter(auth: AuthService, guard: AuthMiddleware): express.Router {
  const router = express.Router();
  const viewer = guard.requireRole('viewer');
  const admin = guard.requireRole('admin');
  const actor = (req: express.Request) => req.user!.username;
  const ip = (req: express.Request) => guard.clientIp(req);

  // Self-sufficient wherever it is mounted: both are no-ops when the server already ran them.
  router.use(guard.authenticate(), guard.csrf());
  router.use(express.json({ limit: '16kb' }));

  /** Login CSRF: a cross-site page must not be able to sign a browser into another account. */
  const crossSite = (req: express.Request): string | null => {
    if (req.headers.origin === undefined && req.headers['sec-fetch-site'] === undefined) return null;
    const verdict = guard.sameOrigin(req);
    return verdict.ok ? null : verdict.why;
  };

  // The sign-in form posts here directly when the page's scripts have not run (no JavaScript yet, or
  // none at all): the password travels in the body, never in a URL, and the answer is a redirect.
  router.post(
    '/auth/login',
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 }),
    handle(async (req, res) => {
      const form = req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      const back = (code: string, extra: Record<string, string> = {}) => {
        const q = new URLSearchParams({ error: code, ...extra, ...(next !== '/' ? { next } : {}) });
        res.redirect(303, `/login?${q.toString()}`);
      };
      const why = crossSite(req);
      if (why !== null) return form ? back('auth.cross_site') : sendError(res, 403, `refused: ${why}`, 'auth.cross_site');
      let input;
      try {
        input = parse(loginBody, req.body);
      } catch (err) {
        if (form) return back('request.invalid');
        throw err;
      }
      const result = await auth.login(input.username, input.password, ip(req), form ? 'form' : 'api');
      if (!result.ok) {
        res.setHeader('Cache-Control', 'no-store');
        switch (result.reason) {
          case 'locked': {
            const sec = Math.ceil(result.retryAfterMs / 1000);
            res.setHeader('Retry-After', String(sec));
            if (form) return back('auth.locked', { retry: String(sec) });
            return sendError(res, 429, `too many failed logins: try again in ${lockDuration(result.retryAfterMs)}`, 'auth.locked', { retryAfterSec: sec });
          }
          case 'disabled':
            if (form) return back('auth.disabled');
            return sendError(res, 403, 'this account is disabled; ask an administrator', 'auth.disabled');
          case 'invalid':
            if (form) return back('auth.invalid');
            return sendError(res, 401, 'wrong username or password', 'auth.invalid');
        }
      }
      // A session the browser already had is replaced, not kept alongside.
      await auth.logout(guard.sessionIdOf(req), undefined, ip(req));
      res.setHeader('Set-Cookie', guard.sessionCookie(req, result.sessionId, result.expiresAt));
      res.setHeader('Cache-Control', 'no-store');
      if (form) return void res.redirect(303, next);
      res.json({
        username: result.user.username,
        role: result.user.role,
        expiresAt: new Date(result.expiresAt).toISOString(),
        ...(result.user.mustChangePassword ? { mustChangePassword: true } : {}),
      });
    }),
  );

  router.post(
    '/auth/logout',
    handle(async (req, res) => {
      if (req.user?.via === 'session') await auth.logout(guard.sessionIdOf(req), req.user.username, ip(req));
      res.setHeader('Set-Cookie', guard.clearedCookie(req));
      res.status(204).end();
    }),
  );

  // A wall screen's page (/kiosk#<link secret>) posts the secret it read from the URL fragment.
  router.post(
    '/auth/kiosk',
    handle(async (req, res) => {
      const why = crossSite(req);
      if (why !== null) return sendError(res, 403, `refused: ${why}`, 'auth.cross_site');
      const body = parse(kioskSignInBody, req.body);
      const result = await auth.kioskSignIn(body.token, ip(req));
      res.setHeader('Cache-Control', 'no-store');
      if (!result.ok) {
        if (result.reason === 'locked') {
          const sec = Math.ceil(result.retryAfterMs / 1000);
          res.setHeader('Retry-After', String(sec));
          return sendError(res, 429, `too many failed attempts: try again in ${lockDuration(result.retryAfterMs)}`, 'auth.locked', { retryAfterSec: sec });
        }
        return sendError(res, 401, 'this wall-screen link is not valid (revoked, or mistyped)', 'auth.kiosk_invalid');
      }
      await auth.logout(guard.sessionIdOf(req), undefined, ip(req));
      res.setHeader('Set-Cookie', guard.sessionCookie(req, result.sessionId, result.expiresAt));
      res.json({ kiosk: result.kiosk, start: result.start, expiresAt: new Date(result.expiresAt).toISOString() });
    }),
  );

  router.get('/auth/me', viewer, (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(req.user);
  });

  router.post(
    '/auth/password',
    viewer,
    handle(async (req, res) => {
      if (req.user!.via !== 'session' || req.user!.kiosk !== undefined) {
        return sendError(res, 400, 'tokens and wall screens have no password; sign in as the user to change it', 'auth.no_password');
      }
      const body = parse(changePasswordBody, req.body);
      await auth.changeOwnPassword(actor(req), ip(req), body.currentPassword, body.newPassword, guard.sessionIdOf(req));
      res.status(204).end();
    }),
  );

  router.get(
    '/users',
    admin,
    handle(async (_req, res) => {
      res.json(await auth.listUsers());
    }),
  );
  router.post(
    '/users',
    admin,
    handle(async (req, res) => {
      const body = parse(createUserBody, req.body);
      res.status(201).json(await auth.createUser(actor(req), ip(req), body));
    }),
  );
  router.patch(
    '/users/:username',
    admin,
    handle(async (req, res) => {
      const body = parse(updateUserBody, req.body);
      res.json(await auth.updateUser(actor(req), ip(req), req.params.username!, body));
    }),
  );
  router.delete(
    '/users/:username',
    admin,
    handle(async (req, res) => {
      await auth.deleteUser(actor(req), ip(req), req.params.username!);
      res.status(204).end();
    }),
  );
  router.post(
    '/users/:username/unlock',
    admin,
    handle(async (req, res) => {
      await auth.unlockUser(actor(req), ip(req), req.params.username!);
      res.status(204).end();
    }),
  );
  router.delete(
    '/users/:username/sessions',
    admin,
    handle(async (req, res) => {
      res.json({ sessionsEnded: await auth.endSessions(actor(req), ip(req), req.params.username!) });
    }),
  );

  router.get(
    '/tokens',
    admin,
    handle(async (_req, res) => {
      res.json(await auth.listTokens());
    }),
  );
  router.post(
    '/tokens',
    admin,
    handle(async (req, res) => {
      const body = parse(createTokenBody, req.body);
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json(await auth.createToken(actor(req), ip(req), body));
    }),
  );
  router.delete(
    '/tokens/:name',
    admin,
    handle(async (req, res) => {
      await auth.deleteToken(actor(req), ip(req), req.params.name!);
      res.status(204).end();
    }),
  );

  router.get(
    '/kiosks',
    admin,
    handle(async (_req, res) => {
      res.json(await auth.listKiosks());
    }),
  );
  router.post(
    '/kiosks',
    admin,
    handle(async (req, res) => {
      const body = parse(createKioskBody, req.body);
      const created = await auth.createKiosk(actor(req), ip(req), body);
      res.setHeader('Cache-Control', 'no-store');
      // The secret rides in the fragment: browsers never send it to a server or in a Referer.
      res.status(201).json({ ...created, path: `/kiosk#${created.token}` });
    }),
  );
  router.delete(
    '/kiosks/:name',
    admin,
    handle(async (req, res) => {
      await auth.deleteKiosk(actor(req), ip(req), req.params.name!);
      res.status(204).end();
    }),
  );

  router.get(
    '/audit',
    admin,
    handle(async (req, res) => {
      const q = parse(auditQuery, req.query, 'query');
      res.json(await auth.listAudit({ ...q, from: isoOrUndefined(q.from), to: isoOrUndefined(q.to) }));
    }),
  );

  // Errors from the routes above (and body parsing) as {error, code}, never a stack trace.
  router.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof BadRequest) return sendError(res, 400, err.message, 'request.invalid');
    if (err instanceof AuthError) return sendError(res, err.status, err.message, err.code, err.params);
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendError(res, 400, 'the request body is not valid JSON', 'request.not_json');
    if (type === 'entity.too.large') return sendError(res, 413, 'the request body is too large', 'request.too_large');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return sendError(res, 415, 'send the request body as UTF-8 JSON', 'request.encoding');
    // express rejects a path parameter that is not valid percent-encoding (e.g. /users/%E0%A4%A) with a URIError of status 400.
    if (err instanceof URIError) return sendError(res, 400, 'the URL is not valid percent-encoding', 'request.bad_url');
    auth.log.error({ err, path: req.originalUrl }, 'auth route failed');
    sendError(res, 500, 'internal error', 'server.internal');
  });

  return router;
}
