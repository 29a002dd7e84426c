/**
 * Accounts, sessions, API tokens, role checks, cross-site request protection and the audit log
 * (CONTRACT.md section 3; issue 3). One module: the HTTP server mounts `router()` at /api and puts
 * `authenticate()` + `csrf()` in front of every /api route; Node-RED's adminAuth calls
 * `verifyPassword`; the alert engine calls `audit()` for acknowledgements.
 *
 * - Passwords: scrypt (passwords.ts). Sessions: 256-bit random ids in an HttpOnly SameSite=Lax
 *   cookie, stored as SHA-256 in SQLite so they survive a restart; logout deletes the row.
 * - Tokens: `pko_` + 256 random bits, shown once, stored as SHA-256.
 * - A bad, expired or revoked cookie or token is the same as none: 401 from requireRole, never 500.
 */
import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import type { Config } from '../config.ts';
import { ROLES, roleAtLeast, type Role, type UserRole } from '../contract/api.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module } from '../module.ts';
import type { Db } from '../store/db.ts';
import { clientIp, isHttps, readCookie, sameOrigin, serializeCookie, SESSION_COOKIE } from './http.ts';
import { DEFAULT_LIMITS, LoginLimiter, type LimiterOptions } from './limiter.ts';
import { DEFAULT_PARAMS, dummyPasswordHash, generatePassword, hashPassword, needsRehash, verifyPassword as checkPassword, type ScryptParams } from './passwords.ts';
import { AuthRepository } from './repository.ts';
import { buildRouter } from './routes.ts';
import { AuthError, USERNAME_PATTERN } from './rules.ts';
import type { AuthUser } from './types.ts';

export type { AuthUser, AuditEntry, TokenView, UserView } from './types.ts';
export { SESSION_COOKIE } from './http.ts';

export { AuthError, MIN_PASSWORD_LENGTH, USERNAME_PATTERN } from './rules.ts';
/** Bearer tokens: a recognisable prefix (secret scanners, logs) + 32 random bytes, base64url. */
const TOKEN_PREFIX = 'pko_';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const CHECKED = Symbol('parkops.auth.checked');

export interface AuthDeps {
  db: Db;
  config: Config;
  log: Logger;
  clock?: Clock;
  /** tests only: tighter or looser limiter settings */
  limits?: LimiterOptions;
  /** tests only: cheaper scrypt parameters (production always uses DEFAULT_PARAMS) */
  scryptParams?: ScryptParams;
  /** where the generated first-admin password is printed; stderr by default */
  announce?: (text: string) => void;
}

export type LoginResult =
  | { ok: true; user: { username: string; role: Role }; sessionId: string; expiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; retryAfterMs: number };

export class AuthService implements Module {
  readonly name = 'auth';
  readonly repo: AuthRepository;
  private readonly clock: Clock;
  private readonly limiter: LoginLimiter;
  readonly log: Logger;
  private readonly config: Config;
  private readonly announce: (text: string) => void;
  private readonly scryptParams: ScryptParams;
  /** token name -> last time last_used_at was written; spares a write per API request */
  private readonly tokenTouched = new Map<string, number>();

  constructor(deps: AuthDeps) {
    this.repo = new AuthRepository(deps.db);
    this.clock = deps.clock ?? systemClock;
    this.limiter = new LoginLimiter(this.clock, deps.limits ?? DEFAULT_LIMITS);
    this.log = deps.log.child({ module: 'auth' });
    this.config = deps.config;
    this.announce = deps.announce ?? ((text) => process.stderr.write(text));
    this.scryptParams = deps.scryptParams ?? DEFAULT_PARAMS;
  }

  async start(): Promise<void> {
    this.repo.migrate();
    const purged = this.repo.deleteExpiredSessions(this.clock.now());
    if (purged > 0) this.log.debug({ purged }, 'expired sessions removed');
    await this.ensureFirstAdmin();
  }

  async stop(): Promise<void> {
    this.tokenTouched.clear();
  }

  private get sessionMs(): number {
    return this.config.PARKOPS_SESSION_HOURS * 3_600_000;
  }
  private get trustProxy(): boolean {
    return this.config.PARKOPS_TRUST_PROXY;
  }
  private hash(password: string): Promise<string> {
    return hashPassword(password, this.scryptParams);
  }
  private iso(ms = this.clock.now()): string {
    return new Date(ms).toISOString();
  }

  /**
   * The first admin, created only while there are no users at all. With PARKOPS_ADMIN_PASSWORD: user
   * `admin` with that password. Once any user exists the setting is ignored: a setting left in an
   * `.env` file must neither undo a password change nor bring back a deleted `admin` (to recover a
   * lost admin password, use `ingest/src/auth/cli.ts set-password`). Without the setting: a random
   * password, printed once and never stored in clear.
   */
  private async ensureFirstAdmin(): Promise<void> {
    const configured = this.config.PARKOPS_ADMIN_PASSWORD;
    if (this.repo.countUsers() > 0) {
      if (configured !== undefined) this.log.info('users exist; PARKOPS_ADMIN_PASSWORD only creates the first admin and was not applied');
      return;
    }
    if (configured !== undefined) {
      this.repo.insertUser('admin', 'admin', await this.hash(configured), this.iso());
      this.audit({ actor: 'system', action: 'user.created', target: 'admin', detail: { role: 'admin', source: 'PARKOPS_ADMIN_PASSWORD' } });
      this.log.info('created user admin from PARKOPS_ADMIN_PASSWORD');
      return;
    }
    const password = generatePassword();
    this.repo.insertUser('admin', 'admin', await this.hash(password), this.iso());
    this.audit({ actor: 'system', action: 'user.created', target: 'admin', detail: { role: 'admin', source: 'generated' } });
    this.log.warn({ username: 'admin', password }, 'no users and PARKOPS_ADMIN_PASSWORD unset: generated a password for user admin; it is shown this once, change it after logging in');
    this.announce(
      `\n  ParkOps: no users yet and PARKOPS_ADMIN_PASSWORD is unset.\n  Created user "admin" with password: ${password}\n  It is shown this once. Log in and change it, or set PARKOPS_ADMIN_PASSWORD on a fresh data folder.\n\n`,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Credentials

  /** Resolves a Cookie / Authorization header pair to a user; bad, expired or revoked ones give undefined. */
  identify(headers: { cookie?: string | undefined; authorization?: string | undefined }): AuthUser | undefined {
    if (headers.authorization !== undefined) {
      // An Authorization header decides alone: a bad token must not fall back to a cookie.
      const m = /^Bearer[ \t]+([A-Za-z0-9_\-.~+/]+=*)[ \t]*$/i.exec(headers.authorization);
      if (!m) return undefined;
      const token = this.repo.findToken(sha256(m[1]!));
      if (!token) return undefined;
      this.touchToken(token.name);
      return { username: `token:${token.name}`, role: token.role, via: 'token' };
    }
    const sid = readCookie(headers.cookie, SESSION_COOKIE);
    if (!sid) return undefined;
    const session = this.repo.findSession(sha256(sid), this.clock.now());
    return session ? { username: session.username, role: session.role, via: 'session' } : undefined;
  }

  private touchToken(name: string): void {
    const now = this.clock.now();
    const last = this.tokenTouched.get(name);
    if (last !== undefined && now - last < 60_000) return;
    this.tokenTouched.set(name, now);
    this.repo.touchToken(name, this.iso(now));
  }

  /** Sets req.user from the session cookie or bearer token, or leaves it undefined. Never answers by itself. */
  authenticate(): express.RequestHandler {
    return (req, _res, next) => {
      const r = req as express.Request & { [CHECKED]?: boolean };
      if (r[CHECKED]) return next();
      r[CHECKED] = true;
      try {
        req.user = this.identify({ cookie: req.headers.cookie, authorization: req.headers.authorization });
      } catch (err) {
        return next(err);
      }
      next();
    };
  }

  /** 401 without a user, 403 when the user's role is below `role` (roles include the ones before them). */
  requireRole(role: Role): express.RequestHandler {
    return (req, res, next) => {
      if (!req.user) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="ParkOps"');
        res.status(401).json({ error: 'authentication required: log in, or send Authorization: Bearer <token>' });
        return;
      }
      if (!roleAtLeast(req.user.role, role)) {
        res.status(403).json({ error: `this needs the ${role} role; you are ${req.user.role}` });
        return;
      }
      next();
    };
  }

  /**
   * 401 without a user, 403 unless the user's role is exactly one of `roles`: for routes off the role
   * ladder, such as posting warnings (the `feed` token role, or an admin; CONTRACT.md section 8).
   */
  requireAnyRole(roles: readonly Role[]): express.RequestHandler {
    return (req, res, next) => {
      if (!req.user) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="ParkOps"');
        res.status(401).json({ error: 'authentication required: log in, or send Authorization: Bearer <token>' });
        return;
      }
      if (!roles.includes(req.user.role)) {
        res.status(403).json({ error: `this needs the ${roles.join(' or ')} role; you are ${req.user.role}` });
        return;
      }
      next();
    };
  }

  /** Refuses cross-site state changes made with a session cookie (bearer tokens are not sent by browsers on their own). */
  csrf(): express.RequestHandler {
    return (req, res, next) => {
      if (req.user?.via !== 'session' || req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
      const verdict = sameOrigin(req, this.trustProxy);
      if (verdict.ok) return next();
      this.log.warn({ user: req.user.username, method: req.method, path: req.originalUrl, why: verdict.why }, 'cross-site request refused');
      res.status(403).json({ error: `refused: ${verdict.why}` });
    };
  }

  /**
   * Guards the Node-RED editor page: mount before Node-RED, `app.use('/flows', auth.editorGate())`.
   * Node-RED serves its editor shell to anyone and asks for a login from inside it; issue 3 wants the
   * editor URL itself shut for everyone but an admin. A GET of the page without an admin session is
   * redirected to the dashboard login (browsers) or answered 401 (anything else). The admin API under
   * it (`/flows/flows`, ...) stays with Node-RED's adminAuth, which asks `verifyPassword`/`userRole`.
   */
  editorGate(opts: { loginPath?: string } = {}): express.RequestHandler {
    const loginPath = opts.loginPath ?? '/login';
    return (req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.path !== '/' && req.path !== '/index.html')) return next();
      const user = this.identify({ cookie: req.headers.cookie, authorization: req.headers.authorization });
      if (user?.role === 'admin') return next();
      res.setHeader('Cache-Control', 'no-store');
      if (req.accepts(['json', 'html']) === 'html') {
        res.redirect(302, `${loginPath}?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      // 401 for a logged-in non-admin too: the way in is logging in as an admin (issue 3: "401 or a redirect").
      res.setHeader('WWW-Authenticate', 'Bearer realm="ParkOps"');
      res.status(401).json({ error: 'the Node-RED editor needs an admin login' });
    };
  }

  router(): express.Router {
    return buildRouter(this);
  }

  // ------------------------------------------------------------------------------------------
  // Logging in

  /** Checks a password through the limiter; audits and logs the outcome. Used by the login route. */
  async login(usernameInput: string, password: string, ip: string, via = 'api'): Promise<LoginResult> {
    const username = usernameInput.trim().toLowerCase();
    // Keep arbitrary input out of the audit log's actor column.
    const actor = USERNAME_PATTERN.test(username) ? username : '(invalid username)';
    const verdict = this.limiter.check(actor, ip);
    if (!verdict.allowed) {
      // Logged, not audited: attempts during a lock-out cost no password check, so auditing each
      // would let an attacker grow the audit log at will. The lock-out itself is audited.
      this.log.info({ username: actor, ip, via, retryAfterSec: Math.ceil(verdict.retryAfterMs / 1000) }, 'login refused: locked out');
      return { ok: false, reason: 'locked', retryAfterMs: verdict.retryAfterMs };
    }
    const user = USERNAME_PATTERN.test(username) ? this.repo.findUser(username) : undefined;
    const ok = await checkPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
    if (!ok || !user) {
      this.audit({ actor, action: 'login.failed', ip, detail: { reason: user ? 'wrong password' : 'unknown user', via } });
      const lock = this.limiter.fail(actor, ip);
      if (lock) {
        const detail = { scope: lock.scope, lockedForSec: Math.round(lock.lockedForMs / 1000), via };
        this.log.warn({ username: actor, ip, ...detail }, 'repeated failed logins: locked out');
        this.audit({ actor, action: 'login.locked', ip, detail });
      }
      return { ok: false, reason: 'invalid' };
    }
    this.limiter.succeed(actor, ip);
    if (needsRehash(user.passwordHash, this.scryptParams)) this.repo.updateUser(user.username, { passwordHash: await this.hash(password) }, this.iso());
    const now = this.clock.now();
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = now + this.sessionMs;
    if (via === 'api') this.repo.insertSession(sha256(sessionId), user.username, now, expiresAt, ip);
    if (via === 'node-red' && user.role !== 'admin') {
      // The editor is for admins only (issue 3): the password was right, the login is still refused.
      this.audit({ actor: user.username, action: 'login.refused', ip, detail: { via, role: user.role, reason: 'the Node-RED editor is for admins' } });
    } else {
      this.audit({ actor: user.username, action: 'login', ip, detail: { via, role: user.role } });
    }
    return { ok: true, user: { username: user.username, role: user.role }, sessionId, expiresAt };
  }

  /** For Node-RED adminAuth: the user when the password is right (and the limiter allows), else null. Check `role === 'admin'`. */
  async verifyPassword(username: string, password: string): Promise<{ username: string; role: Role } | null> {
    const result = await this.login(username, password, 'node-red', 'node-red');
    return result.ok ? result.user : null;
  }

  /** The user's current role, or null when there is no such user (Node-RED adminAuth `users`: a demoted admin loses the editor at once). */
  async userRole(username: string): Promise<Role | null> {
    return this.repo.findUser(username)?.role ?? null;
  }

  logout(sessionId: string | undefined, actor: string | undefined, ip: string): void {
    if (!sessionId) return;
    this.repo.deleteSession(sha256(sessionId));
    if (actor) this.audit({ actor, action: 'logout', ip });
  }

  sessionCookie(req: express.Request, sessionId: string): string {
    return serializeCookie(SESSION_COOKIE, sessionId, { maxAgeSec: this.sessionMs / 1000, secure: this.secureCookies(req), now: this.clock.now() });
  }
  clearedCookie(req: express.Request): string {
    return serializeCookie(SESSION_COOKIE, '', { maxAgeSec: 0, secure: this.secureCookies(req), now: this.clock.now() });
  }
  private secureCookies(req: express.Request): boolean {
    const mode = this.config.PARKOPS_SECURE_COOKIES;
    return mode === 'always' || (mode === 'auto' && isHttps(req, this.trustProxy));
  }
  clientIp(req: express.Request): string {
    return clientIp(req, this.trustProxy);
  }
  sameOrigin(req: express.Request): ReturnType<typeof sameOrigin> {
    return sameOrigin(req, this.trustProxy);
  }
  sessionIdOf(req: express.Request): string | undefined {
    return readCookie(req.headers.cookie, SESSION_COOKIE);
  }

  // ------------------------------------------------------------------------------------------
  // Users and tokens (the admin routes call these; errors are AuthError with an HTTP status)

  async createUser(actor: string, ip: string, input: { username: string; password: string; role: UserRole }) {
    const hash = await this.hash(input.password);
    if (!this.repo.insertUser(input.username, input.role, hash, this.iso())) throw new AuthError(409, `user ${input.username} already exists`);
    this.audit({ actor, action: 'user.created', target: input.username, ip, detail: { role: input.role } });
    const { passwordHash: _omit, ...user } = this.repo.findUser(input.username)!;
    return user;
  }

  async updateUser(actor: string, ip: string, username: string, changes: { role?: UserRole | undefined; password?: string | undefined }) {
    const passwordHash = changes.password === undefined ? undefined : await this.hash(changes.password);
    const detail: Record<string, unknown> = {};
    this.repo.transaction(() => {
      const user = this.repo.findUser(username);
      if (!user) throw new AuthError(404, `no user ${username}`);
      if (changes.role !== undefined && changes.role !== user.role) {
        if (user.role === 'admin' && this.repo.countAdmins() === 1) throw new AuthError(409, `${username} is the last admin; make another admin first`);
        detail.role = { from: user.role, to: changes.role };
      }
      this.repo.updateUser(username, { ...(changes.role !== undefined ? { role: changes.role } : {}), ...(passwordHash !== undefined ? { passwordHash } : {}) }, this.iso());
      if (passwordHash !== undefined) {
        // A reset password logs the user out everywhere.
        detail.password = 'changed';
        detail.sessionsEnded = this.repo.deleteSessionsOf(username);
      }
    });
    this.audit({ actor, action: 'user.updated', target: username, ip, detail });
    const { passwordHash: _omit, ...user } = this.repo.findUser(username)!;
    return user;
  }

  deleteUser(actor: string, ip: string, username: string): void {
    this.repo.transaction(() => {
      const user = this.repo.findUser(username);
      if (!user) throw new AuthError(404, `no user ${username}`);
      if (user.role === 'admin' && this.repo.countAdmins() === 1) throw new AuthError(409, `${username} is the last admin; make another admin first`);
      this.repo.deleteUser(username);
    });
    this.audit({ actor, action: 'user.deleted', target: username, ip });
  }

  /** A user changing their own password: needs the current one; ends their other sessions. */
  async changeOwnPassword(username: string, ip: string, current: string, next: string, keepSessionId: string | undefined): Promise<void> {
    const user = this.repo.findUser(username);
    if (!user || !(await checkPassword(current, user.passwordHash))) {
      this.audit({ actor: username, action: 'password.change_failed', target: username, ip });
      throw new AuthError(403, 'the current password is wrong');
    }
    this.repo.updateUser(username, { passwordHash: await this.hash(next) }, this.iso());
    const ended = this.repo.deleteSessionsOf(username, keepSessionId === undefined ? undefined : sha256(keepSessionId));
    this.audit({ actor: username, action: 'password.changed', target: username, ip, detail: { otherSessionsEnded: ended } });
  }

  createToken(actor: string, ip: string, input: { name: string; role: Role }): { name: string; role: Role; token: string } {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    if (!this.repo.insertToken(input.name, input.role, sha256(token), actor, this.iso())) throw new AuthError(409, `token ${input.name} already exists`);
    this.audit({ actor, action: 'token.created', target: input.name, ip, detail: { role: input.role } });
    return { name: input.name, role: input.role, token };
  }

  deleteToken(actor: string, ip: string, name: string): void {
    if (!this.repo.deleteToken(name)) throw new AuthError(404, `no token ${name}`);
    this.tokenTouched.delete(name);
    this.audit({ actor, action: 'token.deleted', target: name, ip });
  }

  // ------------------------------------------------------------------------------------------
  // Audit

  /** Appends to the audit log (who, what, when, from where). Never throws: a failed write is logged as an error. */
  audit(entry: { actor: string; action: string; target?: string; ip?: string; detail?: object }): void {
    try {
      this.repo.appendAudit({ at: this.iso(), ...entry });
    } catch (err) {
      this.log.error({ err, entry }, 'audit log write failed');
    }
  }
}

export { ROLES };
