/**
 * Roles for the browser. Imported from the contract's roles module alone: the other contract modules
 * hold zod schemas, which the browser does not need (about 25 KB gzipped).
 */
import type { Role } from '@parkops/contract/roles.ts';

export { ROLES, USER_ROLES, roleAtLeast, type Role } from '@parkops/contract/roles.ts';

/** The signed-in user as the layout's data carries it (hooks.server.ts). */
export interface LayoutUser {
  username: string;
  role: Role;
  kiosk?: string;
  mustChangePassword?: boolean;
}
