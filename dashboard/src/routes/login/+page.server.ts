import { redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

/**
 * The form posts to /api/auth/login itself (it works without JavaScript); a failed plain-form sign-in
 * comes back here with `?error=<code>` (and `&retry=<seconds>` for a lock-out), never with the password.
 */
export const load: PageServerLoad = ({ locals, url }) => {
  const next = safeNext(url.searchParams.get('next'));
  if (locals.user) redirect(303, next);
  const retry = Number(url.searchParams.get('retry'));
  return { next, error: url.searchParams.get('error'), retrySec: Number.isFinite(retry) && retry > 0 ? retry : null };
};

/** Only same-site paths: `next` must not send the user to another origin. */
function safeNext(next: string | null): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/';
}
