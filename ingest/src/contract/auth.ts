/**
 * Accounts, sessions, tokens, wall-screen (kiosk) links and the audit log: request bodies and answers of
 * the auth routes (docs/api.md, docs/security.md), as zod schemas with their inferred types. Errors carry a
 * stable `code` (and `params`) beside the English `error`, which the dashboard translates.
 */
import { z } from 'zod';
import { ROLES, USER_ROLES, type Role } from './api.ts';

export const USERNAME_PATTERN = /^[a-z0-9_.-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 10;
/** Start pages a wall screen may open on. */
export const KIOSK_START_PAGES = ['/', '/flood'] as const;

/** "is required" when absent, "must be a string" when of another type. */
const text = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });
export const usernameSchema = text().regex(USERNAME_PATTERN, 'must be 1-64 characters of a-z, 0-9, "_", "." or "-"');
export const passwordSchema = text()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, 'must be at most 1024 characters');
/** People get the ladder's roles; a token may also be `feed` (post warnings only, CONTRACT.md section 8). */
export const userRoleSchema = z.enum(USER_ROLES, {
  error: (issue) => (issue.input === undefined ? 'is required' : issue.input === 'feed' ? 'feed is a role for tokens of warning feeds, not for people' : `must be one of ${USER_ROLES.join(', ')}`),
});
export const tokenRoleSchema = z.enum(ROLES, { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${ROLES.join(', ')}`) });
const flag = z.boolean({ error: 'must be true or false' });

export const loginBody = z.object({
  username: text().min(1, 'is required').max(256, 'is too long'),
  password: text().min(1, 'is required').max(1024, 'is too long'),
});
export const createUserBody = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: userRoleSchema,
  /** The person must choose their own password at their first sign-in (the dashboard asks). Default false. */
  mustChangePassword: flag.optional(),
});
export const updateUserBody = z
  .strictObject({ password: passwordSchema.optional(), role: userRoleSchema.optional(), disabled: flag.optional(), mustChangePassword: flag.optional() })
  .refine((b) => b.password !== undefined || b.role !== undefined || b.disabled !== undefined || b.mustChangePassword !== undefined, 'give a new role, a new password, disabled, or mustChangePassword');
export const changePasswordBody = z.strictObject({ currentPassword: text().min(1, 'is required'), newPassword: passwordSchema });
export const createTokenBody = z.strictObject({ name: usernameSchema, role: tokenRoleSchema });
export const createKioskBody = z.strictObject({
  name: usernameSchema,
  /** the page the screen opens on: chosen, not defaulted (a flood wall and a lobby screen differ) */
  start: z.enum(KIOSK_START_PAGES, { error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${KIOSK_START_PAGES.join(', ')}`) }),
});
export const kioskSignInBody = z.strictObject({ token: text().min(1, 'is required').max(256, 'is too long') });
export const auditQuery = z.object({
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be 1..1000').max(1000, 'must be 1..1000').default(100),
  before: z.coerce.number().int('must be a whole number').positive('must be a positive entry id').optional(),
  actor: z.string().min(1).max(128).optional(),
  /** an action (`login.failed`) or a family of them (`login`, `user`): a prefix up to a dot */
  action: z.string().min(1).max(64).optional(),
  target: z.string().min(1).max(128).optional(),
  from: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional(),
  to: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional(),
});

export type LoginBody = z.infer<typeof loginBody>;
export type CreateUserBody = z.infer<typeof createUserBody>;
export type UpdateUserBody = z.infer<typeof updateUserBody>;
export type CreateKioskBody = z.infer<typeof createKioskBody>;
export type AuditQuery = z.infer<typeof auditQuery>;
export type KioskStart = (typeof KIOSK_START_PAGES)[number];

export interface UserView {
  username: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
  /** set while the account is disabled: no sign-in, no sessions, no push */
  disabledAt?: string;
  /** the person is asked to choose a new password at their next sign-in */
  mustChangePassword?: boolean;
  /** while failed sign-ins keep this user out (from at least one address): when that ends */
  lockedUntil?: string;
  /** sessions that are still valid (phones, browsers) */
  sessions?: number;
}

export interface TokenView {
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface KioskView {
  name: string;
  start: KioskStart;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** wall screens signed in with this link */
  sessions: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

/** `GET /api/auth/me` */
export interface Me {
  username: string;
  role: Role;
  via: 'session' | 'token';
  /** a wall screen's session: view only */
  kiosk?: string;
  mustChangePassword?: true;
}

/** Stable error codes of the auth routes, beside the English `error` (the dashboard translates them). */
export const AUTH_ERROR_CODES = [
  'auth.required',
  'auth.role',
  'auth.invalid',
  'auth.locked',
  'auth.disabled',
  'auth.cross_site',
  'auth.kiosk_view_only',
  'auth.kiosk_invalid',
  'auth.wrong_password',
  'auth.no_password',
  'auth.last_admin',
  'auth.user_exists',
  'auth.user_not_found',
  'auth.token_exists',
  'auth.token_not_found',
  'auth.kiosk_exists',
  'auth.kiosk_not_found',
  'request.invalid',
  'request.not_json',
  'request.too_large',
  'request.encoding',
  'request.bad_url',
  'server.internal',
] as const;
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

export interface ErrorBody {
  error: string;
  code?: string;
  params?: Record<string, string | number>;
}
