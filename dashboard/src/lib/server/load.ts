import { apiFetch, ApiError } from '$lib/api.ts';
import type { MessageKey } from '$lib/i18n/index.svelte.ts';

/** A page's data or the message key of why it could not be loaded; the page shows it in place. */
export async function loadOr<T>(f: typeof fetch, path: string, fallback: T): Promise<{ value: T; error: MessageKey | null }> {
  try {
    return { value: await apiFetch<T>(path, {}, f), error: null };
  } catch (e) {
    return { value: fallback, error: e instanceof ApiError ? e.key : 'error.unexpected' };
  }
}
