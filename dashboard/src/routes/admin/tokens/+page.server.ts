import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';

export interface TokenRow { name: string; role: string; createdAt?: string; lastUsedAt?: string | null }

export const load: PageServerLoad = async ({ fetch }) => {
  const r = await loadOr<TokenRow[]>(fetch, '/api/tokens', []);
  return { tokens: r.value, error: r.error };
};
