/** Refusals of the auth module, with the HTTP status they map to and a stable code for the dashboard. */
import type { AuthErrorCode } from '@parkops/contract/auth.ts';

export { MIN_PASSWORD_LENGTH, USERNAME_PATTERN } from '@parkops/contract/auth.ts';

/** A refusal with the HTTP status it maps to (404 unknown, 409 conflict, 403 forbidden) and its code. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: AuthErrorCode,
    readonly params?: Record<string, string | number>,
  ) {
    super(message);
  }
}
