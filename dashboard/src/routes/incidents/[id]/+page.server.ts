import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';
import { readIncidentDetail } from '$lib/incidents.ts';

export const load: PageServerLoad = async ({ fetch, params }) => {
  const r = await loadOr<Record<string, unknown> | null>(fetch, `/api/incidents/${encodeURIComponent(params.id)}`, null);
  return { incident: r.value ? readIncidentDetail(r.value) : null, error: r.error, id: params.id };
};
