import { apiFetch, ApiError } from '$lib/api.ts';
import { readIncident, readIncidentDetail, type IncidentDetail } from '$lib/incidents.ts';
import type { MessageKey } from '$lib/i18n/index.svelte.ts';

/** The newest incident of each room with its timeline, or an error key the page shows in place. */
export async function loadLatestIncidents(f: typeof fetch): Promise<{ byRoom: Record<string, IncidentDetail>; error: MessageKey | null }> {
  try {
    const list = (await apiFetch<Record<string, unknown>[]>('/api/incidents', {}, f)).map(readIncident);
    const latest = new Map<string, string>();
    for (const i of list.sort((a, b) => b.startedAt.localeCompare(a.startedAt))) if (!latest.has(i.room)) latest.set(i.room, i.id);
    const byRoom: Record<string, IncidentDetail> = {};
    await Promise.all([...latest].map(async ([room, id]) => {
      byRoom[room] = readIncidentDetail(await apiFetch<Record<string, unknown>>(`/api/incidents/${encodeURIComponent(id)}`, {}, f));
    }));
    return { byRoom, error: null };
  } catch (e) {
    return { byRoom: {}, error: e instanceof ApiError ? e.key : 'error.unexpected' };
  }
}
