/** Who made a request, as the API sees it. */
import type { Role } from '@parkops/contract/api.ts';

export interface AuthUser {
  /** a username, or `token:<name>` for a bearer token (so audit entries and `ackedBy` say which) */
  username: string;
  role: Role;
  via: 'session' | 'token';
  /** a wall screen's session (username `kiosk:<name>`): it may only look */
  kiosk?: string;
  /** the person is asked to choose a new password (the dashboard sends them to do so) */
  mustChangePassword?: true;
}

declare global {
  // Express 4's documented way to type request additions (@types/express-serve-static-core).
  // eslint-disable-next-line @typescript-eslint/no-namespace -- global augmentation needs the namespace form
  namespace Express {
    interface Request {
      /** Set by AuthService.authenticate(); undefined means no (valid) credentials. */
      user?: AuthUser;
    }
  }
}

