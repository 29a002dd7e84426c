import { redirect, type Handle, type HandleFetch, type HandleServerError } from '@sveltejs/kit';
import { LANG_COOKIE, LANGS, pickLang, type Lang } from '$lib/i18n/index.svelte.ts';
import { apiBase, whoAmI } from '$lib/server/api.ts';

const PUBLIC_PATHS = new Set(['/login']);

export const handle: Handle = async ({ event, resolve }) => {
  const cookieLang = event.cookies.get(LANG_COOKIE);
  const lang: Lang = cookieLang && (LANGS as readonly string[]).includes(cookieLang)
    ? (cookieLang as Lang)
    : pickLang(event.request.headers.get('accept-language'));
  const themeCookie = event.cookies.get('parkops_theme');
  const theme = themeCookie === 'light' || themeCookie === 'dark' ? themeCookie : 'auto';
  event.locals.lang = lang;
  event.locals.theme = theme;
  event.locals.user = await whoAmI(event);

  if (!event.locals.user && !PUBLIC_PATHS.has(event.url.pathname)) {
    const next = event.url.pathname + event.url.search;
    redirect(303, next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
  }
  return resolve(event, {
    transformPageChunk: ({ html }) => html.replace('%parkops.lang%', lang).replace('%parkops.theme%', theme),
  });
};

/** Route the loads' `fetch('/api/...')` to the API itself rather than to SvelteKit's own routes. */
export const handleFetch: HandleFetch = async ({ event, request, fetch }) => {
  const url = new URL(request.url);
  if (url.origin === event.url.origin && url.pathname.startsWith('/api/')) {
    const headers = new Headers(request.headers);
    const cookie = event.request.headers.get('cookie');
    if (cookie) headers.set('cookie', cookie);
    return globalThis.fetch(new URL(url.pathname + url.search, apiBase(event)), {
      method: request.method,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer(),
    });
  }
  return fetch(request);
};

/** Unexpected errors reach the user as a plain, translated message; details stay in the server log. */
export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status !== 404) console.error(`dashboard: ${event.request.method} ${event.url.pathname}:`, error);
  return { message: 'error.unexpected', key: status === 404 ? 'error.notFound' : 'error.unexpected' };
};
