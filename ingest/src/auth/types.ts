/** Who made a request, as the API sees it. */
import type { Role } from '../contract/api.ts';

export interface AuthUser {
  /** a username, or `token:<name>` for a bearer token (so audit entries and `ackedBy` say which) */
  username: string;
  role: Role;
  via: 'session' | 'token';
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

export interface UserView {
  username: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export interface TokenView {
  name: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}
