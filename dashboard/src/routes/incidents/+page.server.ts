import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';
import { readIncident } from '$lib/incidents.ts';

export const load: PageServerLoad = async ({ fetch }) => {
  const r = await loadOr<Record<string, unknown>[]>(fetch, '/api/incidents', []);
  return { incidents: r.value.map(readIncident), error: r.error };
};
