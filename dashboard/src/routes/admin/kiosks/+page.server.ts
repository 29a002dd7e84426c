import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';

export interface KioskRow { name: string; start: string; createdBy: string; createdAt: string; lastUsedAt: string | null; sessions: number }

export const load: PageServerLoad = async ({ fetch }) => {
  const r = await loadOr<KioskRow[]>(fetch, '/api/kiosks', []);
  return { kiosks: r.value, error: r.error };
};
