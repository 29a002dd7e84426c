/**
 * Errors that reach a client: `{"error": string}` as docs/api.md, HTTP API says, plus a stable `code`
 * and its `params` (DESIGN: text for people), which the dashboard words in the user's language. The
 * English `error` stays for integrators and logs. Codes are never renamed; new ones may be added.
 */
import { AUTH_ERROR_CODES } from './auth.ts';

const OWN_CODES = [
  // requests
  'validation', // params: field, problem (English, for the log)
  'request.bad_json',
  'request.too_large',
  'request.encoding',
  'request.bad',
  'route.not_found',
  'internal',
  // sign-in and roles (the auth module)
  'auth.required',
  'auth.forbidden', // params: need, have
  'auth.invalid',
  'auth.locked', // params: minutes
  // alerts
  'alert.not_found', // params: id
  'alert.already_acked', // params: by, at (ISO)
  'alert.resolved_acked', // params: by, at (ISO)
  'room.not_found', // params: room
  // phones (Web Push)
  'push.off',
  'push.no_subscription',
  'push.subscription_not_found',
  'push.host_not_allowed', // params: host
] as const;
/** Every code: these and the account routes' own (contract/auth.ts). */
export const ERROR_CODES = [...OWN_CODES, ...AUTH_ERROR_CODES.filter((c) => !(OWN_CODES as readonly string[]).includes(c))] as const;
export type ErrorCode = (typeof OWN_CODES)[number] | (typeof AUTH_ERROR_CODES)[number];

export type ErrorParams = Record<string, string | number>;

export interface ApiErrorBody {
  error: string;
  code?: ErrorCode;
  params?: ErrorParams;
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}
