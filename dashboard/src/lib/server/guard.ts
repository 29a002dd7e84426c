import { error } from '@sveltejs/kit';
import { roleAtLeast, type Role } from '$lib/roles.ts';

/** Pages for a role and above; the API enforces the same again. */
export function requireRole(locals: App.Locals, need: Role): void {
  if (!locals.user || !roleAtLeast(locals.user.role, need)) error(403, { message: 'error.forbidden', key: 'error.forbidden' });
}
