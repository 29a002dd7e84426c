/**
 * Roles for the browser. Imported from the contract's api module directly: the contract index also
 * pulls in the zod payload schemas, which the dashboard does not need (about 25 KB gzipped).
 */
import type { Role } from '@parkops/ingest/contract/api.ts';

export { ROLES, USER_ROLES, roleAtLeast, type Role } from '@parkops/ingest/contract/api.ts';

/** The signed-in user as the layout's data carries it (hooks.server.ts). */
export interface LayoutUser {
  username: string;
  role: Role;
  kiosk?: string;
  mustChangePassword?: boolean;
}
