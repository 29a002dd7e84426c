/**
 * The auth module: accounts, sessions, tokens, wall-screen links and the audit log (service.ts), the
 * HTTP guard in front of routes (middleware.ts), the routes (routes.ts), the Node-RED editor's gate
 * (nodered-gate.ts), and storage (repository.ts, sqlite-repository.ts).
 */
export { AuthService, type AuthServiceDeps, type LoginResult } from './service.ts';
export { AuthMiddleware } from './middleware.ts';
export { buildRouter as authRouter } from './routes.ts';
export { EditorGate } from './nodered-gate.ts';
export { SqliteAuthRepository, AUTH_MIGRATIONS } from './sqlite-repository.ts';
export type { AuthRepository } from './repository.ts';
export type { AuthUser } from './types.ts';
export { SESSION_COOKIE } from './http.ts';
export { AuthError } from './rules.ts';
