import { describe, expect, it } from 'vitest';
import { translate } from './i18n/index.svelte.ts';
import { formatAge, formatDuration, formatLastSeen } from './format.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const en = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p);
const zh = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('zh-CN', k, p);

describe('formatAge', () => {
  it.each([
    [0, 'just now', '刚刚'],
    [4_000, 'just now', '刚刚'],
    [12_000, '12 s ago', '12 秒前'],
    [59_000, '59 s ago', '59 秒前'],
    [60_000, '1 min ago', '1 分钟前'],
    [59 * 60_000, '59 min ago', '59 分钟前'],
    [3 * 3600_000, '3 h ago', '3 小时前'],
    [47 * 3600_000, '47 h ago', '47 小时前'],
    [72 * 3600_000, '3 d ago', '3 天前'],
  ])('%i ms old reads "%s" / "%s"', (ms, english, chinese) => {
    expect(formatAge(en, ago(ms), NOW)).toBe(english);
    expect(formatAge(zh, ago(ms), NOW)).toBe(chinese);
  });

  it('treats a timestamp slightly in the future (clock skew) as just now, and a missing or bad one as never', () => {
    expect(formatAge(en, new Date(NOW + 3000).toISOString(), NOW)).toBe('just now');
    expect(formatAge(en, null, NOW)).toBe('never');
    expect(formatAge(en, 'not a time', NOW)).toBe('never');
  });

  it('says when a stale device was last seen', () => {
    expect(formatLastSeen(en, ago(7 * 60_000), NOW)).toBe('last seen 7 min ago');
    expect(formatLastSeen(zh, ago(7 * 60_000), NOW)).toBe('最后上报：7 分钟前');
    expect(formatLastSeen(en, null, NOW)).toBe('never seen');
  });
});

describe('formatDuration', () => {
  it('gives minutes, then hours and zero-padded minutes', () => {
    expect(formatDuration(en, 42.4)).toBe('42 min');
    expect(formatDuration(en, 125)).toBe('2 h 05 min');
    expect(formatDuration(zh, 125)).toBe('2 小时 05 分');
    expect(formatDuration(en, null)).toBe('–');
  });
});
