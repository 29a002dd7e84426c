/**
 * What the auth module stores: users, sessions, API tokens, wall-screen (kiosk) links and the audit log.
 * Plain data and Promises only, so that a PostgreSQL implementation can stand beside the SQLite one
 * (sqlite-repository.ts); both must pass test/integration/auth-repository.suite.ts.
 *
 * Session ids, tokens and kiosk links are stored as SHA-256 hashes only: all are 256-bit random values,
 * so a fast hash is enough (no dictionary to attack), and a copy of the database lets nobody in.
 * Times are epoch ms for sessions (compared on every request) and ISO strings elsewhere.
 */
import type { Role, UserRole } from '@parkops/contract/api.ts';
import type { AuditEntry, KioskStart, KioskView, TokenView, UserView } from '@parkops/contract/auth.ts';

export interface StoredUser {
  username: string;
  role: UserRole;
  passwordHash: string;
  createdAt: string;
  updatedAt: string;
  disabledAt: string | null;
  mustChangePassword: boolean;
}

export interface NewSession {
  idHash: string;
  /** a person's session, or a wall screen's (exactly one of the two) */
  owner: { username: string } | { kiosk: string };
  createdAt: number;
  /** the absolute end, epoch ms: no use renews past it */
  expiresAt: number;
  ip: string;
}

/** A session as a request sees it: with the owner's role and state as they are now. */
export interface SessionRecord {
  idHash: string;
  /** the user, or `kiosk:<name>` for a wall screen */
  username: string;
  role: Role;
  kiosk: string | null;
  disabled: boolean;
  mustChangePassword: boolean;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** Outcome of a change that must never leave the system without an enabled admin. */
export type GuardedChange = 'ok' | 'not_found' | 'last_admin';

export interface UserChanges {
  role?: UserRole;
  passwordHash?: string;
  mustChangePassword?: boolean;
  /** an ISO time to disable, null to enable again */
  disabledAt?: string | null;
}

/** A person's session unused since `before` has ended; an admin's since `adminBefore` (epoch ms). */
export interface IdleCutoffs {
  before: number;
  adminBefore: number;
}

export interface AuditFilter {
  limit: number;
  before?: number | undefined;
  actor?: string | undefined;
  /** exact action, or every action under a prefix when it has no dot (`login` -> `login`, `login.failed`, ...) */
  action?: string | undefined;
  target?: string | undefined;
  /** ISO times, inclusive */
  from?: string | undefined;
  to?: string | undefined;
}

export interface AuthRepository {
  /** Brings the schema up to date (before the shared migration runner takes this over). */
  init(): Promise<void>;

  countUsers(): Promise<number>;
  findUser(username: string): Promise<StoredUser | undefined>;
  listUsers(): Promise<UserView[]>;
  /** false when the username is taken */
  insertUser(user: { username: string; role: UserRole; passwordHash: string; mustChangePassword: boolean; at: string }): Promise<boolean>;
  /**
   * Applies the changes atomically; 'last_admin' (and nothing changed) when they would leave no enabled
   * admin (a demotion or disabling of the last one).
   */
  updateUser(username: string, changes: UserChanges, at: string): Promise<GuardedChange>;
  /** Deletes the user and their sessions; 'last_admin' when they are the last enabled admin. */
  deleteUser(username: string): Promise<GuardedChange>;

  insertSession(session: NewSession): Promise<void>;
  /** The session unless it has reached its absolute end (idle limits are the service's: they depend on the role). */
  findSession(idHash: string, now: number): Promise<SessionRecord | undefined>;
  touchSession(idHash: string, lastSeenAt: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Ends every session of a user but one; returns how many ended. */
  deleteSessionsOf(username: string, exceptIdHash?: string): Promise<number>;
  /** Removes sessions past their absolute end or idle past the cutoffs (wall screens have no idle limit); returns how many. */
  deleteExpiredSessions(now: number, idle: IdleCutoffs): Promise<number>;
  /** Sessions still valid, per user (for the admin's user list). */
  sessionCounts(now: number, idle: IdleCutoffs): Promise<Map<string, number>>;

  insertToken(token: { name: string; role: Role; tokenHash: string; createdBy: string; at: string }): Promise<boolean>;
  findToken(tokenHash: string): Promise<TokenView | undefined>;
  touchToken(name: string, at: string): Promise<void>;
  listTokens(): Promise<TokenView[]>;
  deleteToken(name: string): Promise<boolean>;

  insertKiosk(kiosk: { name: string; start: KioskStart; tokenHash: string; createdBy: string; at: string }): Promise<boolean>;
  findKiosk(tokenHash: string): Promise<Omit<KioskView, 'sessions'> | undefined>;
  touchKiosk(name: string, at: string): Promise<void>;
  listKiosks(now: number): Promise<KioskView[]>;
  /** Deletes the link and signs out every wall screen that used it. */
  deleteKiosk(name: string): Promise<boolean>;

  appendAudit(entry: { at: string; actor: string; action: string; target?: string | undefined; ip?: string | undefined; detail?: object | undefined }): Promise<void>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<AuditEntry[]>;
}
