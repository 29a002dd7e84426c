import type { LayoutServerLoad } from './$types';
import type { ReportsCalendar } from '@parkops/contract/reports.ts';
import { requireRole } from '$lib/server/guard.ts';
import { loadOr } from '$lib/server/load.ts';

/** Managers only; the site's time zone (report days are its days) and caps for the range picker. */
export const load: LayoutServerLoad = async ({ locals, fetch }) => {
  requireRole(locals, 'manager');
  const cal = await loadOr<ReportsCalendar | null>(fetch, '/api/reports/calendar', null);
  return { calendar: cal.value, calendarError: cal.error };
};
