/**
 * Accounts, sessions, API tokens, wall-screen (kiosk) links and the audit log (docs/api.md, HTTP API,
 * docs/security.md). The HTTP side is in middleware.ts and routes.ts; the Node-RED editor's side in
 * nodered-gate.ts; storage behind AuthRepository.
 *
 * - Passwords: scrypt (passwords.ts). Sessions: 256-bit random ids in an HttpOnly SameSite=Lax cookie,
 *   stored as SHA-256 so they survive a restart. Sessions slide: each use renews one until it has been
 *   unused for the idle limit (shorter for admins), and none outlives the absolute limit.
 * - Tokens: `pko_` + 256 random bits, shown once, stored as SHA-256. Wall-screen links: `pkk_` + 256
 *   random bits; opening one signs that browser in as a viewer that can only look.
 * - A bad, expired, revoked or disabled credential is the same as none: 401, never 500.
 * - Every credential is read through the repository on each request, so a change made by another
 *   ParkOps process or the account CLI applies at once. Writes that follow a read (last use of a
 *   session or token, audit entries) go through one serial queue, in order.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Role, UserRole } from '@parkops/contract/api.ts';
import { USERNAME_PATTERN, type AuditEntry, type KioskStart, type KioskView, type TokenView, type UserView } from '@parkops/contract/auth.ts';
import type { Logger } from '../log.ts';
import { systemClock, type Clock, type Module } from '../module.ts';
import { DEFAULT_LIMITS, LoginLimiter, type LimiterOptions } from './limiter.ts';
import { DEFAULT_PARAMS, dummyPasswordHash, generatePassword, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './passwords.ts';
import type { AuditFilter, AuthRepository, GuardedChange, IdleCutoffs } from './repository.ts';
import { AuthError } from './rules.ts';
import type { AuthUser } from './types.ts';

/** Bearer tokens and wall-screen links: a recognisable prefix (secret scanners, logs) + 32 random bytes. */
const TOKEN_PREFIX = 'pko_';
const KIOSK_PREFIX = 'pkk_';
/** A session's last use is written at most this often: the idle limits are hours and days. */
const TOUCH_EVERY_MS = 60_000;
/** A token's last use, likewise: spares a write per API request. */
const TOKEN_TOUCH_EVERY_MS = 60_000;
/**
 * A wall screen stays signed in until its link is revoked; its cookie lives 400 days, the most
 * browsers keep one (RFC 6265bis section 5.5: user agents cap Max-Age at 400 days).
 */
export const KIOSK_SESSION_MS = 400 * 86_400_000;
/** How often the user and token roles kept for synchronous callers (roleOf) are read again. */
const DIRECTORY_REFRESH_MS = 60_000;
/** How often sessions past their limits are removed from storage. */
const PURGE_EVERY_MS = 3_600_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const newSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');

export interface AuthServiceDeps {
  repo: AuthRepository;
  config: Config;
  log: Logger;
  clock?: Clock;
  /** tests only: tighter or looser limiter settings */
  limits?: LimiterOptions;
  /** tests only: cheaper scrypt parameters (production always uses DEFAULT_PARAMS) */
  scryptParams?: ScryptParams;
}

export type LoginResult =
  | { ok: true; user: { username: string; role: Role; mustChangePassword: boolean }; sessionId: string; expiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'disabled' }
  | { ok: false; reason: 'locked'; retryAfterMs: number };

export type KioskSignIn = { ok: true; kiosk: string; start: KioskStart; sessionId: string; expiresAt: number } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; retryAfterMs: number };

export class AuthService implements Module {
  readonly name = 'auth';
  readonly log: Logger;
  readonly config: Config;
  private readonly repo: AuthRepository;
  private readonly clock: Clock;
  private readonly limiter: LoginLimiter;
  private readonly scryptParams: ScryptParams;
  private readonly tokenTouched = new Map<string, number>();
  /** Roles for synchronous callers (Web Push recipients): null for a disabled user. */
  private directory = { users: new Map<string, Role | null>(), tokens: new Map<string, Role>() };
  private timers: NodeJS.Timeout[] = [];
  private writes: Promise<void> = Promise.resolve();
  private generated: { username: string; password: string } | undefined;

  constructor(deps: AuthServiceDeps) {
    this.repo = deps.repo;
    this.clock = deps.clock ?? systemClock;
    this.limiter = new LoginLimiter(this.clock, deps.limits ?? DEFAULT_LIMITS);
    this.log = deps.log.child({ module: 'auth' });
    this.config = deps.config;
    this.scryptParams = deps.scryptParams ?? DEFAULT_PARAMS;
  }

  async start(): Promise<void> {
    await this.repo.init();
    const purged = await this.repo.deleteExpiredSessions(this.clock.now(), this.idleCutoffs());
    if (purged > 0) this.log.debug({ purged }, 'expired sessions removed');
    await this.ensureFirstAdmin();
    await this.refreshDirectory();
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.log.warn({ err }, 'auth housekeeping failed')), ms);
      t.unref();
      this.timers.push(t);
    };
    every(DIRECTORY_REFRESH_MS, () => this.refreshDirectory());
    every(PURGE_EVERY_MS, () => this.repo.deleteExpiredSessions(this.clock.now(), this.idleCutoffs()));
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.tokenTouched.clear();
    this.generated = undefined;
    await this.writes;
  }

  // ------------------------------------------------------------------------------------------
  // Lifetimes

  now(): number {
    return this.clock.now();
  }

  /** A person's session ends this long after its last use (an admin's sooner). */
  idleMs(role: Role): number {
    return role === 'admin' ? this.config.PARKOPS_ADMIN_SESSION_IDLE_HOURS * 3_600_000 : this.config.PARKOPS_SESSION_IDLE_DAYS * 86_400_000;
  }
  /** No session of a person outlives this, however often used. */
  get maxSessionMs(): number {
    return this.config.PARKOPS_SESSION_MAX_DAYS * 86_400_000;
  }
  private idleCutoffs(now = this.clock.now()): IdleCutoffs {
    return { before: now - this.idleMs('viewer'), adminBefore: now - this.idleMs('admin') };
  }
  private hash(password: string): Promise<string> {
    return hashPassword(password, this.scryptParams);
  }
  private iso(ms = this.clock.now()): string {
    return new Date(ms).toISOString();
  }
  /** Queues a write after the ones before it; a failure is logged, never thrown at the caller. */
  private enqueue(what: string, write: () => Promise<unknown>): void {
    this.writes = this.writes.then(write).then(
      () => undefined,
      (err: unknown) => this.log.error({ err }, `${what} failed`),
    );
  }

  // ------------------------------------------------------------------------------------------
  // The first admin

  /**
   * The first admin, created only while there are no users at all. With PARKOPS_ADMIN_PASSWORD: user
   * `admin` with that password. Once any user exists the setting is ignored: a setting left in an
   * `.env` file must neither undo a password change nor bring back a deleted `admin` (to recover a
   * lost admin password, use `ingest/src/auth/cli.ts set-password`). Without the setting: a random
   * password that the start-up output shows once (takeGeneratedPassword) and that the admin is asked
   * to replace at the first sign-in. It never goes into the log.
   */
  private async ensureFirstAdmin(): Promise<void> {
    const configured = this.config.PARKOPS_ADMIN_PASSWORD;
    if ((await this.repo.countUsers()) > 0) {
      if (configured !== undefined) this.log.info('users exist; PARKOPS_ADMIN_PASSWORD only creates the first admin and was not applied');
      return;
    }
    const password = configured ?? generatePassword();
    if (!(await this.repo.insertUser({ username: 'admin', role: 'admin', passwordHash: await this.hash(password), mustChangePassword: configured === undefined, at: this.iso() }))) {
      // Another process on the same database (PostgreSQL) created the first admin a moment earlier.
      this.log.info('users exist; another ParkOps process created the first admin');
      return;
    }
    const source = configured === undefined ? 'generated' : 'PARKOPS_ADMIN_PASSWORD';
    this.audit({ actor: 'system', action: 'user.created', target: 'admin', detail: { role: 'admin', source } });
    if (configured !== undefined) {
      this.log.info('created user admin from PARKOPS_ADMIN_PASSWORD');
      return;
    }
    this.generated = { username: 'admin', password };
    this.log.warn({ username: 'admin' }, 'no users and PARKOPS_ADMIN_PASSWORD unset: created user admin with a generated password, shown once in the start-up output (not in this log); it must be changed at the first sign-in');
  }

  /** The generated first-admin password, once (for the start-up output), then forgotten. */
  takeGeneratedPassword(): { username: string; password: string } | undefined {
    const g = this.generated;
    this.generated = undefined;
    return g;
  }

  // ------------------------------------------------------------------------------------------
  // Credentials

  /** Resolves a Cookie / Authorization header pair to a user; bad, expired, revoked or disabled ones give undefined. */
  async identify(headers: { cookie?: string | undefined; authorization?: string | undefined }, sessionId?: string): Promise<AuthUser | undefined> {
    if (headers.authorization !== undefined) {
      // An Authorization header decides alone: a bad token must not fall back to a cookie.
      return this.identifyBearer(headers.authorization);
    }
    return sessionId === undefined ? undefined : this.identifySession(sessionId);
  }

  async identifyBearer(authorization: string): Promise<AuthUser | undefined> {
    const m = /^Bearer[ \t]+([A-Za-z0-9_\-.~+/]+=*)[ \t]*$/i.exec(authorization);
    if (!m) return undefined;
    const token = await this.repo.findToken(sha256(m[1]!));
    if (!token) return undefined;
    this.touchToken(token.name);
    return { username: `token:${token.name}`, role: token.role, via: 'token' };
  }

  /** A session id from the cookie; renews the session (slides its idle limit) when it is still valid. */
  async identifySession(sessionId: string): Promise<AuthUser | undefined> {
    const now = this.clock.now();
    const idHash = sha256(sessionId);
    const s = await this.repo.findSession(idHash, now);
    if (!s || s.disabled) return undefined;
    if (s.kiosk === null && now - s.lastSeenAt >= this.idleMs(s.role)) {
      this.enqueue('removing an idle session', () => this.repo.deleteSession(idHash));
      return undefined;
    }
    if (now - s.lastSeenAt >= TOUCH_EVERY_MS) this.enqueue('renewing a session', () => this.repo.touchSession(idHash, now));
    const user: AuthUser = { username: s.username, role: s.role, via: 'session' };
    if (s.kiosk !== null) user.kiosk = s.kiosk;
    if (s.mustChangePassword) user.mustChangePassword = true;
    return user;
  }

  private touchToken(name: string): void {
    const now = this.clock.now();
    const last = this.tokenTouched.get(name);
    if (last !== undefined && now - last < TOKEN_TOUCH_EVERY_MS) return;
    this.tokenTouched.set(name, now);
    this.enqueue('recording a token use', () => this.repo.touchToken(name, this.iso(now)));
  }

  /** A user's role read now (not from the copy): null for no such user, or a disabled one. */
  async currentRole(username: string): Promise<Role | null> {
    const u = await this.repo.findUser(username);
    return u && u.disabledAt === null ? u.role : null;
  }

  /**
   * The current role of a user, or of `token:<name>`: null when there is no such user or token, or the
   * user is disabled. Synchronous, from a copy refreshed after every change made here and every minute.
   */
  roleOf(owner: string): Role | null {
    if (owner.startsWith('token:')) return this.directory.tokens.get(owner.slice(6)) ?? null;
    return this.directory.users.get(owner) ?? null;
  }

  private async refreshDirectory(): Promise<void> {
    const [users, tokens] = await Promise.all([this.repo.listUsers(), this.repo.listTokens()]);
    this.directory = {
      users: new Map(users.map((u) => [u.username, u.disabledAt === undefined ? u.role : null])),
      tokens: new Map(tokens.map((t) => [t.name, t.role])),
    };
  }

  // ------------------------------------------------------------------------------------------
  // Signing in

  /** Checks a password through the limiter; audits and logs the outcome. `via` says which door. */
  async login(usernameInput: string, password: string, ip: string, via: 'api' | 'form' = 'api'): Promise<LoginResult> {
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
    const user = USERNAME_PATTERN.test(username) ? await this.repo.findUser(username) : undefined;
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
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
    if (user.disabledAt !== null) {
      this.audit({ actor: user.username, action: 'login.refused', ip, detail: { via, role: user.role, reason: 'disabled' } });
      return { ok: false, reason: 'disabled' };
    }
    if (needsRehash(user.passwordHash, this.scryptParams)) await this.repo.updateUser(user.username, { passwordHash: await this.hash(password) }, this.iso());
    const now = this.clock.now();
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = now + this.maxSessionMs;
    await this.repo.insertSession({ idHash: sha256(sessionId), owner: { username: user.username }, createdAt: now, expiresAt, ip });
    this.audit({ actor: user.username, action: 'login', ip, detail: { via, role: user.role } });
    return { ok: true, user: { username: user.username, role: user.role, mustChangePassword: user.mustChangePassword }, sessionId, expiresAt };
  }

  /** Ends one session (a logout). */
  async logout(sessionId: string | undefined, actor: string | undefined, ip: string): Promise<void> {
    if (!sessionId) return;
    await this.repo.deleteSession(sha256(sessionId));
    if (actor) this.audit({ actor, action: 'logout', ip });
  }

  /** A wall screen opens its link: a view-only session until the link is revoked. */
  async kioskSignIn(token: string, ip: string): Promise<KioskSignIn> {
    const verdict = this.limiter.check('(kiosk link)', ip);
    if (!verdict.allowed) return { ok: false, reason: 'locked', retryAfterMs: verdict.retryAfterMs };
    const kiosk = token.startsWith(KIOSK_PREFIX) ? await this.repo.findKiosk(sha256(token)) : undefined;
    if (!kiosk) {
      this.audit({ actor: '(kiosk link)', action: 'kiosk.signin_failed', ip });
      if (this.limiter.fail('(kiosk link)', ip)) this.audit({ actor: '(kiosk link)', action: 'login.locked', ip, detail: { scope: 'user', via: 'kiosk' } });
      return { ok: false, reason: 'invalid' };
    }
    const now = this.clock.now();
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = now + KIOSK_SESSION_MS;
    await this.repo.insertSession({ idHash: sha256(sessionId), owner: { kiosk: kiosk.name }, createdAt: now, expiresAt, ip });
    this.enqueue('recording a kiosk sign-in', () => this.repo.touchKiosk(kiosk.name, this.iso(now)));
    this.audit({ actor: `kiosk:${kiosk.name}`, action: 'kiosk.signin', target: kiosk.name, ip });
    return { ok: true, kiosk: kiosk.name, start: kiosk.start, sessionId, expiresAt };
  }

  // ------------------------------------------------------------------------------------------
  // Users (the admin routes call these; refusals are AuthError with an HTTP status and a code)

  async listUsers(): Promise<UserView[]> {
    const now = this.clock.now();
    const [users, sessions] = await Promise.all([this.repo.listUsers(), this.repo.sessionCounts(now, this.idleCutoffs(now))]);
    return users.map((u) => {
      const lockedUntil = this.limiter.lockedUntil(u.username);
      return { ...u, sessions: sessions.get(u.username) ?? 0, ...(lockedUntil !== null ? { lockedUntil: this.iso(lockedUntil) } : {}) };
    });
  }

  async createUser(actor: string, ip: string, input: { username: string; password: string; role: UserRole; mustChangePassword?: boolean | undefined }): Promise<UserView> {
    const hash = await this.hash(input.password);
    const mustChangePassword = input.mustChangePassword ?? false;
    if (!(await this.repo.insertUser({ username: input.username, role: input.role, passwordHash: hash, mustChangePassword, at: this.iso() }))) {
      throw new AuthError(409, `user ${input.username} already exists`, 'auth.user_exists', { username: input.username });
    }
    this.audit({ actor, action: 'user.created', target: input.username, ip, detail: { role: input.role, ...(mustChangePassword ? { mustChangePassword } : {}) } });
    await this.refreshDirectory();
    return this.userView(input.username);
  }

  private async userView(username: string): Promise<UserView> {
    const u = (await this.repo.listUsers()).find((x) => x.username === username);
    if (!u) throw new AuthError(404, `no user ${username}`, 'auth.user_not_found', { username });
    return u;
  }

  private guarded(result: GuardedChange, username: string): void {
    if (result === 'not_found') throw new AuthError(404, `no user ${username}`, 'auth.user_not_found', { username });
    if (result === 'last_admin') throw new AuthError(409, `${username} is the last admin; make another admin first`, 'auth.last_admin', { username });
  }

  /**
   * An admin changes a user: role, a password reset (ends their sessions), disabled (ends their
   * sessions, refuses their sign-ins) or enabled again, "must choose a new password". Each change is
   * audited as its own entry.
   */
  async updateUser(
    actor: string,
    ip: string,
    username: string,
    changes: { role?: UserRole | undefined; password?: string | undefined; disabled?: boolean | undefined; mustChangePassword?: boolean | undefined },
  ): Promise<UserView> {
    const before = await this.repo.findUser(username);
    if (!before) throw new AuthError(404, `no user ${username}`, 'auth.user_not_found', { username });
    const passwordHash = changes.password === undefined ? undefined : await this.hash(changes.password);
    const at = this.iso();
    const disabling = changes.disabled === true && before.disabledAt === null;
    const enabling = changes.disabled === false && before.disabledAt !== null;
    this.guarded(
      await this.repo.updateUser(
        username,
        {
          ...(changes.role !== undefined ? { role: changes.role } : {}),
          ...(passwordHash !== undefined ? { passwordHash } : {}),
          ...(changes.mustChangePassword !== undefined ? { mustChangePassword: changes.mustChangePassword } : {}),
          ...(disabling ? { disabledAt: at } : enabling ? { disabledAt: null } : {}),
        },
        at,
      ),
      username,
    );
    // A reset password or a disabled account ends the user's sessions everywhere.
    const sessionsEnded = passwordHash !== undefined || disabling ? await this.repo.deleteSessionsOf(username) : 0;
    if (changes.role !== undefined && changes.role !== before.role) this.audit({ actor, action: 'user.role_changed', target: username, ip, detail: { from: before.role, to: changes.role } });
    if (passwordHash !== undefined) this.audit({ actor, action: 'user.password_reset', target: username, ip, detail: { sessionsEnded, mustChangePassword: changes.mustChangePassword ?? before.mustChangePassword } });
    else if (changes.mustChangePassword !== undefined && changes.mustChangePassword !== before.mustChangePassword) this.audit({ actor, action: 'user.must_change_password', target: username, ip, detail: { value: changes.mustChangePassword } });
    if (disabling) this.audit({ actor, action: 'user.disabled', target: username, ip, detail: { sessionsEnded } });
    if (enabling) this.audit({ actor, action: 'user.enabled', target: username, ip });
    await this.refreshDirectory();
    return this.userView(username);
  }

  async deleteUser(actor: string, ip: string, username: string): Promise<void> {
    this.guarded(await this.repo.deleteUser(username), username);
    this.audit({ actor, action: 'user.deleted', target: username, ip });
    await this.refreshDirectory();
  }

  /** An admin lets a user who is locked out by failed sign-ins try again at once. */
  async unlockUser(actor: string, ip: string, username: string): Promise<void> {
    if (!(await this.repo.findUser(username))) throw new AuthError(404, `no user ${username}`, 'auth.user_not_found', { username });
    const addresses = this.limiter.unlock(username);
    this.audit({ actor, action: 'user.unlocked', target: username, ip, detail: { addresses } });
  }

  /** An admin signs a user out everywhere (a lost phone). */
  async endSessions(actor: string, ip: string, username: string): Promise<number> {
    if (!(await this.repo.findUser(username))) throw new AuthError(404, `no user ${username}`, 'auth.user_not_found', { username });
    const ended = await this.repo.deleteSessionsOf(username);
    this.audit({ actor, action: 'user.signed_out', target: username, ip, detail: { sessionsEnded: ended } });
    return ended;
  }

  /** A user changing their own password: needs the current one; ends their other sessions. */
  async changeOwnPassword(username: string, ip: string, current: string, next: string, keepSessionId: string | undefined): Promise<void> {
    const user = await this.repo.findUser(username);
    if (!user || !(await verifyPassword(current, user.passwordHash))) {
      this.audit({ actor: username, action: 'password.change_failed', target: username, ip });
      throw new AuthError(403, 'the current password is wrong', 'auth.wrong_password');
    }
    this.guarded(await this.repo.updateUser(username, { passwordHash: await this.hash(next), mustChangePassword: false }, this.iso()), username);
    const ended = await this.repo.deleteSessionsOf(username, keepSessionId === undefined ? undefined : sha256(keepSessionId));
    this.audit({ actor: username, action: 'password.changed', target: username, ip, detail: { otherSessionsEnded: ended } });
  }

  // ------------------------------------------------------------------------------------------
  // Tokens and wall-screen links

  listTokens(): Promise<TokenView[]> {
    return this.repo.listTokens();
  }

  async createToken(actor: string, ip: string, input: { name: string; role: Role }): Promise<{ name: string; role: Role; token: string }> {
    const token = newSecret(TOKEN_PREFIX);
    if (!(await this.repo.insertToken({ name: input.name, role: input.role, tokenHash: sha256(token), createdBy: actor, at: this.iso() }))) {
      throw new AuthError(409, `token ${input.name} already exists`, 'auth.token_exists', { name: input.name });
    }
    this.audit({ actor, action: 'token.created', target: input.name, ip, detail: { role: input.role } });
    await this.refreshDirectory();
    return { name: input.name, role: input.role, token };
  }

  async deleteToken(actor: string, ip: string, name: string): Promise<void> {
    if (!(await this.repo.deleteToken(name))) throw new AuthError(404, `no token ${name}`, 'auth.token_not_found', { name });
    this.tokenTouched.delete(name);
    this.audit({ actor, action: 'token.deleted', target: name, ip });
    await this.refreshDirectory();
  }

  listKiosks(): Promise<KioskView[]> {
    return this.repo.listKiosks(this.clock.now());
  }

  /** A named wall-screen link; its secret is shown this once. */
  async createKiosk(actor: string, ip: string, input: { name: string; start: KioskStart }): Promise<{ name: string; start: KioskStart; token: string }> {
    const token = newSecret(KIOSK_PREFIX);
    const start = input.start;
    if (!(await this.repo.insertKiosk({ name: input.name, start, tokenHash: sha256(token), createdBy: actor, at: this.iso() }))) {
      throw new AuthError(409, `wall screen ${input.name} already exists`, 'auth.kiosk_exists', { name: input.name });
    }
    this.audit({ actor, action: 'kiosk.created', target: input.name, ip, detail: { start } });
    return { name: input.name, start, token };
  }

  /** Revokes the link and signs out every wall screen that opened it. */
  async deleteKiosk(actor: string, ip: string, name: string): Promise<void> {
    if (!(await this.repo.deleteKiosk(name))) throw new AuthError(404, `no wall screen ${name}`, 'auth.kiosk_not_found', { name });
    this.audit({ actor, action: 'kiosk.deleted', target: name, ip });
  }

  // ------------------------------------------------------------------------------------------
  // Audit

  /** Appends to the audit log (who, what, when, from where), in order. Never throws: a failed write is logged. */
  audit(entry: { actor: string; action: string; target?: string; ip?: string; detail?: object }): void {
    const at = this.iso();
    this.enqueue(`audit log write (${entry.action})`, () => this.repo.appendAudit({ at, ...entry }));
  }

  /** The audit log, newest first; waits for entries still queued so a reader sees its own actions. */
  async listAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    await this.writes;
    return this.repo.listAudit(filter);
  }
}
