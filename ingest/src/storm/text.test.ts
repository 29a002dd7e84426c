/** Storm mode's words in English and Chinese, site-local times, names from the site file. */
import { describe, expect, it } from 'vitest';
import type { AlertDetails } from '@parkops/contract/api.ts';
import { describeAlert } from '../notify/format.ts';
import { loadSite } from '@parkops/contract/site/index.ts';
import { siteNames } from '../alerts/messages.ts';
import { AlertText } from '../text/index.ts';
import { StormText } from './text.ts';

const site = loadSite();
// The storm-mode alert is worded by the one alert renderer (text/alert-text.ts).
const words = { en: new AlertText('en', site.timezone, siteNames(site)), zh: new AlertText('zh-CN', site.timezone, siteNames(site)) };
const alertText = (d: AlertDetails, now: number, lang: 'en' | 'zh'): string => words[lang].message(d, now);
const text = new StormText(site);
// 2026-07-15 10:00 in Jining (UTC+8).
const NOW = Date.parse('2026-07-15T02:00:00Z');
const details: Extract<AlertDetails, { rule: 'flood.storm-mode' }> = {
  rule: 'flood.storm-mode',
  room: 'b1-power',
  since: '2026-07-15T01:30:00Z',
  warning: {
    id: 'w-1',
    sender: 'sd-jining@cma.gov.cn',
    event: '暴雨',
    severity: 'Moderate',
    onset: '2026-07-15T01:30:00Z',
    expires: '2026-07-15T18:00:00Z',
    texts: [
      { language: 'zh-CN', event: '暴雨', headline: '济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]' },
      { language: 'en-US', event: 'Rainstorm', headline: 'Yellow rainstorm warning [level III / heavy]' },
    ],
  },
  warnings: 1,
  rules: { riseWarnMmPerMin: 5, riseWindowSec: 300, holdSec: 10, clearHoldSec: 120 },
};

describe('storm mode in words', () => {
  it('says the warning in the language asked for, with local times (another day with its date)', () => {
    expect(alertText(details, NOW, 'en')).toBe('Chuangqi building B1 power-distribution room: storm mode since 09:30:00: "Yellow rainstorm warning [level III / heavy]" (Rainstorm), in force 09:30:00 to 16 Jul 02:00; rise alert at 5 mm/min, band hold 10 s; work through the readiness checklist');
    expect(alertText(details, NOW, 'zh')).toBe('创启大厦B1配电室：暴雨模式，自 09:30:00 起。济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]（暴雨），有效期 09:30:00 至 7月16日 02:00。涨速告警阈值 5 毫米/分钟，水位段确认时间 10 秒；请完成暴雨准备检查');
    const ended = { ...details, ended: { at: '2026-07-15T05:40:00Z', reason: 'cancelled' as const } };
    expect(alertText(ended, NOW, 'zh')).toBe('创启大厦B1配电室：暴雨模式已于 13:40:00 结束（预警已解除）；自 09:30:00 起因「济宁市气象台发布暴雨黄色预警[Ⅲ级/较重]」进入暴雨模式');
    expect(alertText({ ...ended, ended: { at: ended.ended.at, reason: null } }, NOW, 'en')).toBe('Chuangqi building B1 power-distribution room: storm mode ended at 13:40:00; it began at 09:30:00 with "Yellow rainstorm warning [level III / heavy]"');
  });

  it('words checklist findings by pump role and id, never by topic path', () => {
    expect(text.finding('b1-power', { code: 'pump-idle', pump: 'P2', lastRunAt: '2026-07-07T02:00:00Z', idleDays: 8, maxIdleDays: 7, lookbackDays: 30 }, NOW, 'zh')).toBe('备用泵 P2 已闲置 8.0 天，最近运行于 7月7日 10:00（要求 7 天内）');
    expect(text.finding('b1-power', { code: 'pump-idle', pump: 'P1', lastRunAt: null, idleDays: null, maxIdleDays: 7, lookbackDays: 30 }, NOW, 'en')).toBe('duty pump P1 not seen running in the last 30 days (must run every 7)');
    expect(text.finding('b1-power', { code: 'sensor-stale', sensor: 'L2', lastSeen: '2026-07-15T01:58:00Z' }, NOW, 'en')).toBe('level sensor Level sensor 2 (pressure) L2 silent, last heard 09:58');
    expect(text.finding('b1-power', { code: 'no-route' }, NOW, 'zh')).toBe('未配置任何通知渠道：仪表板之外无人会收到告警');
  });

  it('the robots\' Chinese line of the storm-mode alert comes from these words', () => {
    const t = describeAlert(
      { id: 'al-s', rule: 'flood.storm-mode', severity: 'info', state: 'firing', subject: 'flood/b1-power', message: alertText(details, NOW, 'en'), startedAt: details.since, room: 'b1-power', details },
      'opened',
      site,
    );
    expect(t.zh.split('\n')[0]).toBe('【提示】新告警：创启大厦B1配电室：暴雨模式');
    expect(t.zh).toMatch(/暴雨模式，自 (09:30:00|7月15日 09:30) 起。济宁市气象台发布暴雨黄色预警/);
  });
});
