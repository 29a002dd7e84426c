import type { PageServerLoad } from './$types';
import type { AuditEntry } from '$lib/auth-text.ts';
import { loadOr } from '$lib/server/load.ts';

const PAGE = 100;
const FILTERS = ['actor', 'action', 'target', 'from', 'to', 'before'] as const;

/** The filters live in the URL (shareable, back button); the API checks them and names a bad one. */
export const load: PageServerLoad = async ({ fetch, url }) => {
  const q = new URLSearchParams({ limit: String(PAGE) });
  const filters: Partial<Record<(typeof FILTERS)[number], string>> = {};
  for (const f of FILTERS) {
    const v = url.searchParams.get(f)?.trim();
    if (v) {
      q.set(f, v);
      filters[f] = v;
    }
  }
  const r = await loadOr<AuditEntry[]>(fetch, `/api/audit?${q.toString()}`, []);
  return { entries: r.value, error: r.error, filters, more: r.value.length === PAGE };
};
