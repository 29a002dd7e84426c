import type { PageServerLoad } from './$types';
import { loadOr } from '$lib/server/load.ts';

export interface StorageFigures {
  countedAt: string | null;
  fileBytes: number;
  walBytes: number;
  tables: Array<{ table: string; rows: number }>;
  oldestReading: string | null;
  lastBackup: { at: string; name: string; bytes: number } | null;
  backups: Array<{ name: string; bytes: number; at: string; download: string }>;
  retention: { readingsDays: number; eventsDays: number; notifyBodyDays: number };
}

export const load: PageServerLoad = async ({ fetch }) => {
  const r = await loadOr<StorageFigures | null>(fetch, '/api/admin/storage', null);
  return { storage: r.value, error: r.error };
};
