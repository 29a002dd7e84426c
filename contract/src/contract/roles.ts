/** The role ladder, without zod: the dashboard's browser code imports this module alone. */

/**
 * Roles, each including the ones before it, except `feed`: a token role for official warning feeds
 * that may only post warnings. It sits first so that every `viewer` route refuses it; the warnings
 * route lets it in by name.
 */
export const ROLES = ['feed', 'viewer', 'responder', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** People's roles: `feed` is for tokens only. */
export const USER_ROLES = ['viewer', 'responder', 'manager', 'admin'] as const satisfies readonly Role[];
export type UserRole = (typeof USER_ROLES)[number];
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}
