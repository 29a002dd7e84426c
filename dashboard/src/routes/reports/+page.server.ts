import type { PageServerLoad } from './$types';
import { requireRole } from '$lib/server/guard.ts';

export const load: PageServerLoad = ({ locals }) => {
  requireRole(locals, 'manager');
};
