import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';

export interface UserRow {
  username: string;
  role: string;
  createdAt?: string;
  disabledAt?: string;
  mustChangePassword?: boolean;
  lockedUntil?: string;
  sessions?: number;
}

export const load: PageServerLoad = async ({ fetch }) => {
  const r = await loadOr<UserRow[]>(fetch, '/api/users', []);
  return { users: r.value, error: r.error };
};
