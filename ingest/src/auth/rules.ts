/** Account rules shared by the service and its routes. */

export const USERNAME_PATTERN = /^[a-z0-9_.-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 10;

/** A refusal with the HTTP status it maps to (404 unknown, 409 conflict, 403 forbidden). */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
