import type { PageServerLoad } from './$types';
import { loadLatestIncidents } from '$lib/server/incidents.ts';

export const load: PageServerLoad = async ({ fetch, depends }) => {
  depends('parkops:incidents');
  return { incidents: await loadLatestIncidents(fetch) };
};
