/**
 * Sentences for people from what the auth module records: the audit log's action codes and details, and
 * lock-out durations, in the reader's language (messages-auth.ts). Nothing here shows a raw code or JSON.
 */
import type { AuditEntry } from '@parkops/contract/auth.ts';
import type { MessageKey } from './i18n/messages.ts';

type T = (key: MessageKey, params?: Record<string, string | number>) => string;

/** An entry of `GET /api/audit` (the contract's shape). */
export type { AuditEntry };

/** The families the audit filter offers (the part of an action before its dot). */
export const AUDIT_FAMILIES = ['login', 'password', 'user', 'token', 'kiosk', 'editor', 'alert', 'device'] as const;

/** "15 min", "2 h 5 min": a lock-out's length, rounded up to the minute. */
export function durationText(t: T, seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  if (minutes < 60) return t('duration.minutes', { m: minutes });
  return t('duration.hoursMinutes', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** Who did it, as a person reads it: a user's name, or what a token, a wall screen or ParkOps is. */
export function actorText(t: T, actor: string): string {
  if (actor === 'system') return t('audit.actor.system');
  if (actor === 'cli') return t('audit.actor.cli');
  if (actor === '(invalid username)') return t('audit.actor.unknown');
  if (actor.startsWith('token:')) return t('audit.actor.token', { name: actor.slice(6) });
  if (actor.startsWith('kiosk:')) return t('audit.actor.kiosk', { name: actor.slice(6) });
  return actor;
}

const roleText = (t: T, role: unknown): string => (typeof role !== 'string' ? '' : ['feed', 'viewer', 'responder', 'manager', 'admin'].includes(role) ? t(`role.${role as 'viewer'}`) : role);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** One audit entry as a sentence (without the time and address, which the table shows beside it). */
export function auditSentence(t: T, e: AuditEntry): string {
  const d = e.detail ?? {};
  const p = { actor: actorText(t, e.actor), target: e.target ?? '' };
  switch (e.action) {
    case 'login':
      return t('audit.s.login', p);
    case 'login.failed':
      return t(d.reason === 'unknown user' ? 'audit.s.login.failed.unknown' : 'audit.s.login.failed.password', p);
    case 'login.locked':
      return d.scope === 'address' ? t('audit.s.login.lockedAddress', { ip: e.ip ?? '', duration: durationText(t, num(d.lockedForSec)) }) : t('audit.s.login.locked', { ...p, duration: durationText(t, num(d.lockedForSec)) });
    case 'login.refused':
      return t('audit.s.login.refused', p);
    case 'logout':
      return t('audit.s.logout', p);
    case 'password.changed':
      return t('audit.s.password.changed', { ...p, n: num(d.otherSessionsEnded) });
    case 'password.change_failed':
      return t('audit.s.password.change_failed', p);
    case 'user.created':
      return e.actor === 'system' ? t('audit.s.user.createdFirst', p) : t('audit.s.user.created', { ...p, role: roleText(t, d.role) });
    case 'user.role_changed':
      return t('audit.s.user.role_changed', { ...p, from: roleText(t, d.from), to: roleText(t, d.to) });
    case 'user.password_reset':
      return t('audit.s.user.password_reset', { ...p, n: num(d.sessionsEnded) });
    case 'user.must_change_password':
      return t(d.value === false ? 'audit.s.user.must_change_password.off' : 'audit.s.user.must_change_password', p);
    case 'user.disabled':
      return t('audit.s.user.disabled', { ...p, n: num(d.sessionsEnded) });
    case 'user.enabled':
      return t('audit.s.user.enabled', p);
    case 'user.deleted':
      return t('audit.s.user.deleted', p);
    case 'user.unlocked':
      return t('audit.s.user.unlocked', p);
    case 'user.signed_out':
      return t('audit.s.user.signed_out', { ...p, n: num(d.sessionsEnded) });
    case 'token.created':
      return t('audit.s.token.created', { ...p, role: roleText(t, d.role) });
    case 'token.deleted':
      return t('audit.s.token.deleted', p);
    case 'kiosk.created':
      return t('audit.s.kiosk.created', p);
    case 'kiosk.deleted':
      return t('audit.s.kiosk.deleted', p);
    case 'kiosk.signin':
      return t('audit.s.kiosk.signin', p);
    case 'kiosk.signin_failed':
      return t('audit.s.kiosk.signin_failed', p);
    case 'editor.signin':
      return t('audit.s.editor.signin', p);
    case 'alert.acknowledge':
    case 'alert.acknowledged':
      return str(d.note) ? t('audit.s.alert.acknowledgeNote', { ...p, note: str(d.note) }) : t('audit.s.alert.acknowledge', p);
    case 'device.binding_set':
      return t('audit.s.device.binding_set', { ...p, devEui: str(d.devEui), codec: str(d.codec) });
    case 'device.binding_deleted':
      return t('audit.s.device.binding_deleted', p);
    case 'device.bindings_imported':
      return t('audit.s.device.bindings_imported', { ...p, n: Array.isArray(d.devices) ? d.devices.length : 0 });
    case 'device.bindings_seeded':
      return t('audit.s.device.bindings_seeded', { n: num(d.created) });
    default:
      return t('audit.s.other', { ...p, action: e.action });
  }
}
