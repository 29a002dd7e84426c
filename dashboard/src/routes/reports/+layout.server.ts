import type { LayoutServerLoad } from './$types';
import { requireRole } from '$lib/server/guard.ts';

export const load: LayoutServerLoad = ({ locals }) => {
  requireRole(locals, 'manager');
};
