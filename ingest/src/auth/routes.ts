/**
 * /api routes of the auth module (mounted by the HTTP server at /api). Contract section 3 defines
 * POST /users and POST /tokens; the rest are extensions an integrator would expect around them.
 *
 * | route | role |
 * |---|---|
 * | POST /auth/login, POST /auth/logout | none |
 * | GET /auth/me, POST /auth/password | viewer |
 * | GET, POST /users; PATCH, DELETE /users/:username | admin |
 * | GET, POST /tokens; DELETE /tokens/:name | admin |
 * | GET /audit | admin |
 */
import express from 'express';
import { asyncRouter } from '../api/async-routes.ts';
import { z } from 'zod';
import { ROLES, USER_ROLES } from '../contract/api.ts';
import type { AuthService } from './index.ts';
import { AuthError, MIN_PASSWORD_LENGTH, USERNAME_PATTERN } from './rules.ts';

/** "is required" when absent, "must be a string" when of another type. */
const text = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });
const username = text().regex(USERNAME_PATTERN, 'must be 1-64 characters of a-z, 0-9, "_", "." or "-"');
const password = text()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, 'must be at most 1024 characters');
/** People get the ladder's roles; a token may also be `feed` (post warnings only, CONTRACT.md section 8). */
const role = z.enum(USER_ROLES, {
  error: (issue) => (issue.input === undefined ? 'is required' : issue.input === 'feed' ? 'feed is a role for tokens of warning feeds, not for people' : `must be one of ${USER_ROLES.join(', ')}`),
});
const tokenRole = z.enum(ROLES, { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${ROLES.join(', ')}`) });

const loginBody = z.object({
  username: text().min(1, 'is required').max(256, 'is too long'),
  password: text().min(1, 'is required').max(1024, 'is too long'),
});
const createUserBody = z.strictObject({ username, password, role });
const updateUserBody = z
  .strictObject({ password: password.optional(), role: role.optional() })
  .refine((b) => b.password !== undefined || b.role !== undefined, 'give a new role, a new password, or both');
const changePasswordBody = z.strictObject({ currentPassword: text().min(1, 'is required'), newPassword: password });
const createTokenBody = z.strictObject({ name: username, role: tokenRole });
const auditQuery = z.object({
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be 1..1000').max(1000, 'must be 1..1000').default(100),
  before: z.coerce.number().int('must be a whole number').positive('must be a positive entry id').optional(),
  actor: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(64).optional(),
});

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
const handle = (fn: Handler): express.RequestHandler => (req, res, next) => {
  Promise.resolve()
    .then(() => fn(req, res))
    .catch(next);
};

export function buildRouter(auth: AuthService): express.Router {
  const router = asyncRouter();
  const viewer = auth.requireRole('viewer');
  const admin = auth.requireRole('admin');
  const actor = (req: express.Request) => req.user!.username;

  // Self-sufficient wherever it is mounted: both are no-ops when the server already ran them.
  router.use(auth.authenticate(), auth.csrf());
  router.use(express.json({ limit: '16kb' }));

  router.post(
    '/auth/login',
    handle(async (req, res) => {
      // Login CSRF: a cross-site page must not be able to log a browser into another account.
      if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
        const verdict = auth.sameOrigin(req);
        if (!verdict.ok) {
          res.status(403).json({ error: `refused: ${verdict.why}` });
          return;
        }
      }
      const body = parse(loginBody, req.body);
      const ip = auth.clientIp(req);
      const result = await auth.login(body.username, body.password, ip);
      if (!result.ok && result.reason === 'locked') {
        const minutes = Math.ceil(result.retryAfterMs / 60_000);
        res.setHeader('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
        res.status(429).json({ error: `too many failed logins: try again in ${minutes} minute${minutes === 1 ? '' : 's'}` });
        return;
      }
      if (!result.ok) {
        res.status(401).json({ error: 'wrong username or password' });
        return;
      }
      // A session the browser already had is replaced, not kept alongside.
      const old = auth.sessionIdOf(req);
      if (old) auth.logout(old, undefined, ip);
      res.setHeader('Set-Cookie', auth.sessionCookie(req, result.sessionId));
      res.setHeader('Cache-Control', 'no-store');
      res.json({ username: result.user.username, role: result.user.role, expiresAt: new Date(result.expiresAt).toISOString() });
    }),
  );

  router.post(
    '/auth/logout',
    handle((req, res) => {
      if (req.user?.via === 'session') auth.logout(auth.sessionIdOf(req), req.user.username, auth.clientIp(req));
      res.setHeader('Set-Cookie', auth.clearedCookie(req));
      res.status(204).end();
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
      if (req.user!.via !== 'session') {
        res.status(400).json({ error: 'tokens have no password; log in as the user to change it' });
        return;
      }
      const body = parse(changePasswordBody, req.body);
      await auth.changeOwnPassword(actor(req), auth.clientIp(req), body.currentPassword, body.newPassword, auth.sessionIdOf(req));
      res.status(204).end();
    }),
  );

  router.get('/users', admin, (_req, res) => {
    res.json(auth.repo.listUsers());
  });
  router.post(
    '/users',
    admin,
    handle(async (req, res) => {
      const body = parse(createUserBody, req.body);
      res.status(201).json(await auth.createUser(actor(req), auth.clientIp(req), body));
    }),
  );
  router.patch(
    '/users/:username',
    admin,
    handle(async (req, res) => {
      const body = parse(updateUserBody, req.body);
      res.json(await auth.updateUser(actor(req), auth.clientIp(req), req.params.username!, body));
    }),
  );
  router.delete(
    '/users/:username',
    admin,
    handle((req, res) => {
      auth.deleteUser(actor(req), auth.clientIp(req), req.params.username!);
      res.status(204).end();
    }),
  );

  router.get('/tokens', admin, (_req, res) => {
    res.json(auth.repo.listTokens());
  });
  router.post(
    '/tokens',
    admin,
    handle((req, res) => {
      const body = parse(createTokenBody, req.body);
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json(auth.createToken(actor(req), auth.clientIp(req), body));
    }),
  );
  router.delete(
    '/tokens/:name',
    admin,
    handle((req, res) => {
      auth.deleteToken(actor(req), auth.clientIp(req), req.params.name!);
      res.status(204).end();
    }),
  );

  router.get(
    '/audit',
    admin,
    handle((req, res) => {
      const q = parse(auditQuery, req.query, 'query');
      res.json(auth.repo.listAudit(q));
    }),
  );

  // Errors from the routes above (and body parsing) as {error}, never a stack trace.
  router.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof BadRequest) return void res.status(400).json({ error: err.message });
    if (err instanceof AuthError) return void res.status(err.status).json({ error: err.message });
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') return void res.status(400).json({ error: 'the request body is not valid JSON' });
    if (type === 'entity.too.large') return void res.status(413).json({ error: 'the request body is too large' });
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return void res.status(415).json({ error: 'send the request body as UTF-8 JSON' });
    // express rejects a path parameter that is not valid percent-encoding (e.g. /users/%E0%A4%A) with a URIError of status 400.
    if (err instanceof URIError) return void res.status(400).json({ error: 'the URL is not valid percent-encoding' });
    auth.log.error({ err, path: req.originalUrl }, 'auth route failed');
    res.status(500).json({ error: 'internal error' });
  });

  return router;
}
