/**
 * Roles for the browser. Imported from the contract's roles module alone: the other contract modules
 * hold zod schemas, which the browser does not need (about 25 KB gzipped).
 */
export { ROLES, USER_ROLES, roleAtLeast, type Role } from '@parkops/ingest/contract/roles.ts';
