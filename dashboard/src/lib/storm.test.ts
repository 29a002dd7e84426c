import { describe, expect, it } from 'vitest';
import type { ChecklistFinding } from '@parkops/contract';
import { translate, type Lang } from './i18n/index.svelte.ts';
import { findingText } from './storm.ts';

const room = { pumps: [{ id: 'P1', name: 'Duty', role: 'duty' as const, running: false, amps: 0, ts: null, changedAt: null, stale: false, online: true }, { id: 'P2', name: 'Standby', role: 'standby' as const, running: false, amps: 0, ts: null, changedAt: null, stale: false, online: true }] };
const at = '2026-07-07T02:00:00.000Z';
const ALL: ChecklistFinding[] = [
  { code: 'pump-running', pump: 'P1' },
  { code: 'pump-ran', pump: 'P1', lastRunAt: at, idleDays: 1, maxIdleDays: 7 },
  { code: 'pump-idle', pump: 'P2', lastRunAt: at, idleDays: 8, maxIdleDays: 7, lookbackDays: 30 },
  { code: 'pump-idle', pump: 'P2', lastRunAt: null, idleDays: null, maxIdleDays: 7, lookbackDays: 30 },
  { code: 'standby-started', pump: 'P2', startedAt: at, amps: 6.2, ampsMin: 3, ampsMax: 9 },
  { code: 'standby-current', pump: 'P2', startedAt: at, amps: 11.5, ampsMin: 3, ampsMax: 9 },
  { code: 'standby-no-current', pump: 'P2', startedAt: at },
  { code: 'standby-not-started', pump: 'P2', lookbackDays: 30 },
  { code: 'standby-alert', pump: 'P2', rule: 'pump.failed-start' },
  { code: 'no-standby' },
  { code: 'sensor-fresh', sensor: 'L1', lastSeen: at },
  { code: 'sensor-stale', sensor: 'L2', lastSeen: null },
  { code: 'route-ok', channel: 'wecom', at },
  { code: 'route-failed', channel: 'webhook', at, error: 'HTTP 500' },
  { code: 'route-untried', channel: 'webpush' },
  { code: 'no-route' },
  { code: 'ticked', by: 'duty', at, note: '40 bags' },
  { code: 'unticked', by: 'duty', at },
  { code: 'not-ticked' },
  { code: 'no-data', reason: 'x' },
];

describe('checklist findings in words', () => {
  for (const lang of ['en', 'zh-CN'] as Lang[]) {
    it(`words every finding in ${lang}, every placeholder filled`, () => {
      const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate(lang, k, p);
      for (const f of ALL) {
        const text = findingText(t, lang, room, f);
        expect(text, f.code).not.toMatch(/\{\w+\}|undefined|storm\./);
        expect(text.length).toBeGreaterThan(4);
      }
    });
  }
  it('names pumps by role and id, in the reader\'s language', () => {
    const zh = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('zh-CN', k, p);
    expect(findingText(zh, 'zh-CN', room, ALL[2]!)).toMatch(/^备用泵 P2 已闲置 8\.0 天，最近运行于 .+（要求 7 天内运行）$/);
    const en = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);
    expect(findingText(en, 'en', room, ALL[0]!)).toBe('Duty pump P1 is running now');
  });
});
