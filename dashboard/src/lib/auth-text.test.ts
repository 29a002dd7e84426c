import { describe, expect, it } from 'vitest';
import { actorText, auditSentence, durationText, type AuditEntry } from './auth-text.ts';
import { translate, type Lang, type MessageKey } from './i18n/index.svelte.ts';

const tr = (lang: Lang) => (key: MessageKey, params?: Record<string, string | number>) => translate(lang, key, params);
const entry = (action: string, over: Partial<AuditEntry> = {}): AuditEntry => ({ id: 1, at: '2026-11-25T08:00:00.000Z', actor: 'admin', action, target: null, ip: '10.0.0.5', detail: null, ...over });

describe('audit sentences', () => {
  it('reads every action the auth module records as a sentence, in both languages, with no code or JSON left', () => {
    const cases: AuditEntry[] = [
      entry('login', { detail: { via: 'form', role: 'admin' } }),
      entry('login.failed', { actor: 'ghost', detail: { reason: 'unknown user', via: 'api' } }),
      entry('login.failed', { detail: { reason: 'wrong password', via: 'api' } }),
      entry('login.locked', { detail: { scope: 'user', lockedForSec: 900 } }),
      entry('login.locked', { detail: { scope: 'address', lockedForSec: 7500 } }),
      entry('login.refused', { actor: 'li.wei', detail: { reason: 'disabled' } }),
      entry('logout'),
      entry('password.changed', { detail: { otherSessionsEnded: 2 } }),
      entry('password.change_failed'),
      entry('user.created', { target: 'li.wei', detail: { role: 'responder' } }),
      entry('user.created', { actor: 'system', target: 'admin', detail: { role: 'admin', source: 'generated' } }),
      entry('user.role_changed', { target: 'li.wei', detail: { from: 'responder', to: 'viewer' } }),
      entry('user.password_reset', { target: 'li.wei', detail: { sessionsEnded: 1 } }),
      entry('user.must_change_password', { target: 'li.wei', detail: { value: true } }),
      entry('user.disabled', { target: 'li.wei', detail: { sessionsEnded: 3 } }),
      entry('user.enabled', { target: 'li.wei' }),
      entry('user.deleted', { target: 'li.wei' }),
      entry('user.unlocked', { target: 'li.wei', detail: { addresses: ['10.0.0.9'] } }),
      entry('user.signed_out', { target: 'li.wei', detail: { sessionsEnded: 2 } }),
      entry('token.created', { target: 'bms', detail: { role: 'manager' } }),
      entry('token.deleted', { target: 'bms' }),
      entry('kiosk.created', { target: 'control-room', detail: { start: '/flood' } }),
      entry('kiosk.deleted', { target: 'control-room' }),
      entry('kiosk.signin', { actor: 'kiosk:control-room', target: 'control-room' }),
      entry('kiosk.signin_failed', { actor: '(kiosk link)' }),
      entry('editor.signin'),
      entry('alert.acknowledge', { actor: 'li.wei', target: 'al-7', detail: { rule: 'flood.level', note: 'pump restarted' } }),
      entry('device.binding_set', { target: 'L1', detail: { devEui: '24E124126A148123', codec: 'milesight-em310-udl' } }),
      entry('device.binding_deleted', { target: 'L1' }),
      entry('device.bindings_imported', { detail: { devices: ['L1', 'L2'] } }),
      entry('device.bindings_seeded', { actor: 'simulator', detail: { created: 40 } }),
    ];
    for (const lang of ['en', 'zh-CN'] as const) {
      for (const e of cases) {
        const s = auditSentence(tr(lang), e);
        expect(s, `${lang} ${e.action}`).not.toMatch(/audit\.s\.|\{|\}|"via"|_/);
        expect(s, `${lang} ${e.action}`).not.toContain(e.action.includes('.') ? e.action : `${e.action}.`);
      }
    }
    expect(auditSentence(tr('en'), cases[3]!)).toBe('admin was locked out for 15 min after repeated failed sign-ins.');
    expect(auditSentence(tr('zh-CN'), cases[4]!)).toBe('地址 10.0.0.5 因大量登录失败被锁定 2 小时 5 分。');
    expect(auditSentence(tr('en'), cases[11]!)).toBe('admin changed the role of li.wei from Responder to Viewer.');
    expect(auditSentence(tr('zh-CN'), cases[11]!)).toBe('admin 将 li.wei 的角色从应急响应改为查看者。');
    expect(auditSentence(tr('en'), cases[26]!)).toBe('li.wei acknowledged alert al-7: "pump restarted".');
  });

  it('names who acted as a person reads it', () => {
    const t = tr('en');
    expect([actorText(t, 'system'), actorText(t, 'token:bms'), actorText(t, 'kiosk:wall'), actorText(t, 'li.wei')]).toEqual(['ParkOps', 'API token bms', 'Wall screen wall', 'li.wei']);
  });

  it('says how long a lock-out lasts', () => {
    expect(durationText(tr('en'), 900)).toBe('15 min');
    expect(durationText(tr('zh-CN'), 3600 * 24)).toBe('24 小时 0 分');
    expect(durationText(tr('en'), 1)).toBe('1 min');
  });
});
