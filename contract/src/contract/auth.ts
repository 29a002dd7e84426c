/**
 * Accounts, sessions, tokens, wall-screen (kiosk) links and the audit log: request bodies and answers of
 * the auth routes (docs/api.md, docs/security.md), as zod schemas with their inferred types. Errors carry a
 * stable `code` (and `params`) beside the English `error`, which the dashboard translates.
 */
import { z } from 'zod';
import { ROLES, USER_ROLES } from './roles.ts';

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
/** People get the ladder's roles; a token may also be `feed` (post warnings only, docs/api.md, official warnings). */
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

const time = () => z.iso.datetime({ offset: false });
const role = z.enum(ROLES);

export const UserViewSchema = z
  .object({
    username: z.string(),
    role,
    createdAt: time(),
    updatedAt: time(),
    /** set while the account is disabled: no sign-in, no sessions, no push */
    disabledAt: time().optional(),
    /** the person is asked to choose a new password at their next sign-in */
    mustChangePassword: z.boolean().optional(),
    /** while failed sign-ins keep this user out (from at least one address): when that ends */
    lockedUntil: time().optional(),
    /** sessions that are still valid (phones, browsers) */
    sessions: z.number().int().optional(),
  })
  .meta({ id: 'User' });
export type UserView = z.infer<typeof UserViewSchema>;

export const TokenViewSchema = z
  .object({ name: z.string(), role, createdBy: z.string(), createdAt: time(), lastUsedAt: time().nullable() })
  .meta({ id: 'Token' });
export type TokenView = z.infer<typeof TokenViewSchema>;

export const KioskViewSchema = z
  .object({
    name: z.string(),
    start: z.enum(KIOSK_START_PAGES),
    createdBy: z.string(),
    createdAt: time(),
    lastUsedAt: time().nullable(),
    /** wall screens signed in with this link */
    sessions: z.number().int(),
  })
  .meta({ id: 'Kiosk' });
export type KioskView = z.infer<typeof KioskViewSchema>;

export const AuditEntrySchema = z
  .object({ id: z.number().int(), at: time(), actor: z.string(), action: z.string(), target: z.string().nullable(), ip: z.string().nullable(), detail: z.record(z.string(), z.unknown()).nullable() })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** `GET /api/auth/me` */
export const MeSchema = z
  .object({
    username: z.string().describe('a username, or token:<name> for a bearer token'),
    role,
    via: z.enum(['session', 'token']),
    /** a wall screen's session: view only */
    kiosk: z.string().optional(),
    mustChangePassword: z.literal(true).optional(),
  })
  .meta({ id: 'Me' });
export type Me = z.infer<typeof MeSchema>;

/** `POST /api/auth/login` (JSON) */
export const LoginResponseSchema = z
  .object({ username: z.string(), role, expiresAt: time(), mustChangePassword: z.literal(true).optional() })
  .meta({ id: 'Login' });
/** `POST /api/auth/kiosk` */
export const KioskSignInResponseSchema = z.object({ kiosk: z.string(), start: z.enum(KIOSK_START_PAGES), expiresAt: time() }).meta({ id: 'KioskSignIn' });
/** `POST /api/tokens`: the secret, shown this once */
export const NewTokenSchema = z.object({ name: z.string(), role, token: z.string().describe('shown this once') }).meta({ id: 'NewToken' });
/** `POST /api/kiosks`: the link's secret and the page path that carries it, shown this once */
export const NewKioskSchema = z
  .object({ name: z.string(), start: z.enum(KIOSK_START_PAGES), token: z.string(), path: z.string().describe('open this on the wall screen: /kiosk#<token>') })
  .meta({ id: 'NewKiosk' });
export const SessionsEndedSchema = z.object({ sessionsEnded: z.number().int() });

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
