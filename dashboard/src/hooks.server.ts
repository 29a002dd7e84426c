import { redirect, type Handle, type HandleFetch, type HandleServerError } from '@sveltejs/kit';
import { LANG_COOKIE, LANGS, pickLang, translate, type Lang } from '$lib/i18n/index.svelte.ts';
import { ApiUnreachable, apiBase, whoAmI } from '$lib/server/api.ts';
import { roleAtLeast } from '$lib/roles.ts';

// /kiosk signs a wall screen in with the link in its URL fragment, which only the page's script can read.
const PUBLIC_PATHS = new Set(['/login', '/kiosk']);

export const handle: Handle = async ({ event, resolve }) => {
  const cookieLang = event.cookies.get(LANG_COOKIE);
  const lang: Lang = cookieLang && (LANGS as readonly string[]).includes(cookieLang)
    ? (cookieLang as Lang)
    : pickLang(event.request.headers.get('accept-language'));
  const themeCookie = event.cookies.get('parkops_theme');
  const theme = themeCookie === 'light' || themeCookie === 'dark' ? themeCookie : 'auto';
  event.locals.lang = lang;
  event.locals.theme = theme;
  try {
    const user = await whoAmI(event);
    // Every page is for viewers and up; a role below (a warning feed's) sees none of them.
    event.locals.user = user && roleAtLeast(user.role, 'viewer') ? user : null;
  } catch (e) {
    if (!(e instanceof ApiUnreachable)) throw e;
    // Not a logout: say the server cannot be reached (in the user's language) rather than asking to sign in.
    event.locals.user = null;
    if (event.url.pathname !== '/login') return unreachable(lang);
  }

  if (!event.locals.user && !PUBLIC_PATHS.has(event.url.pathname)) {
    const next = event.url.pathname + event.url.search;
    redirect(303, next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`);
  }
  // A password someone else gave them (a generated first admin, or set by an admin): choose one first.
  if (event.locals.user?.mustChangePassword && event.url.pathname !== '/account' && !PUBLIC_PATHS.has(event.url.pathname)) {
    const next = event.url.pathname + event.url.search;
    redirect(303, next === '/' ? '/account' : `/account?next=${encodeURIComponent(next)}`);
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

/** A small page of its own: with the API gone there is no user, no layout data, no live store. */
function unreachable(lang: Lang): Response {
  const t = (k: Parameters<typeof translate>[1]) => translate(lang, k).replace(/[<>&]/g, '');
  const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>ParkOps</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:90vh;background:#f5f6f8;color:#1b1f24}
@media (prefers-color-scheme:dark){body{background:#0f1216;color:#e6e8eb}}main{max-width:32em;padding:16px}</style></head>
<body><main><h1>ParkOps</h1><p role="alert">${t('error.network')}</p><p>${t('live.connecting')}</p></main></body></html>`;
  return new Response(html, { status: 503, headers: { 'content-type': 'text/html; charset=utf-8', 'retry-after': '5', 'cache-control': 'no-store' } });
}
