import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';

export const load: PageServerLoad = async ({ fetch }) => {
  const r = await loadOr<Record<string, unknown>[] | { entries: Record<string, unknown>[] }>(fetch, '/api/audit', []);
  const entries = Array.isArray(r.value) ? r.value : r.value.entries ?? [];
  return { entries, error: r.error };
};
