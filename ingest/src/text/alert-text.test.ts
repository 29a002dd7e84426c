import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertDetails } from '@parkops/contract/api.ts';
import { englishWords } from '../../../test/support/english-check.ts';
import { AlertText } from './alert-text.ts';
import { LocalTime } from './local-time.ts';
import type { NameSource } from './types.ts';

const NOW = Date.parse('2026-12-01T21:30:00Z'); // 2 Dec 05:30 in Asia/Shanghai
const TODAY = '2026-12-01T21:15:20.058Z'; // 05:15:20 local
const YESTERDAY = '2026-12-01T13:15:00.000Z'; // 1 Dec 21:15 local

const names: NameSource = {
  room: (id) => (id === 'b1' ? { name: 'B1 power room', nameZh: '创启大厦B1配电室' } : undefined),
  device: (_room, id) =>
    ({ L1: { name: 'Level sensor 1 (radar)', nameZh: '1号水位传感器（雷达）' }, L2: { name: 'Level sensor 2', nameZh: '2号水位传感器' }, P1: { name: 'Duty pump', nameZh: '主排水泵' }, P2: { name: 'Standby pump', nameZh: '备用排水泵' } } as Record<string, { name: string; nameZh: string }>)[id],
  zone: (id) => (id === 'A' ? { name: 'Zone A (north entrance)', nameZh: 'A区（北入口）' } : undefined),
  venue: (id) => (id === 'gym' ? { name: 'Indoor gym', nameZh: '室内健身房' } : undefined),
};

/** Every rule and every branch of its wording. */
const SAMPLES: AlertDetails[] = [
  { rule: 'flood.level', room: 'b1', band: 'alarm', thresholdMm: 500, levelMm: 532, rateMmPerMin: 12.04, pumpsOutpace: true },
  { rule: 'flood.level', room: 'b1', band: 'warning', thresholdMm: 300, levelMm: 260, clearing: { belowMm: 275, at: '2026-12-01T21:32:00.000Z' } },
  { rule: 'flood.level', room: 'b1', band: 'critical', thresholdMm: 700, levelMm: null },
  { rule: 'flood.rise', room: 'b1', rateMmPerMin: 12, windowMin: 5, warnMmPerMin: 10, levelMm: 360, pumpsOutpace: true },
  { rule: 'flood.rise', room: 'b1', rateMmPerMin: 1.2, windowMin: 5, warnMmPerMin: 10, levelMm: null, stopped: { since: TODAY, clearsAt: '2026-12-01T21:35:20.058Z' } },
  { rule: 'flood.sensors-disagree', room: 'b1', diffMm: 300, high: { sensor: 'L2', mm: 400 }, low: { sensor: 'L1', mm: 100 }, allowedMm: 80 },
  { rule: 'pump.failed-start', room: 'b1', pump: 'P1', role: 'duty', startMm: 250, since: YESTERDAY, running: false, graceSec: 60 },
  { rule: 'pump.failed-start', room: 'b1', pump: 'P2', role: 'standby', startMm: 450, since: TODAY, running: null, graceSec: 60 },
  { rule: 'pump.no-effect', room: 'b1', pump: 'P1', role: 'duty', rateMmPerMin: 3, afterMin: 5 },
  { rule: 'pump.current', room: 'b1', pump: 'P1', role: 'duty', kind: 'dry', amps: 1, ampsMin: 3, ampsMax: 9 },
  { rule: 'pump.current', room: 'b1', pump: 'P2', role: 'standby', kind: 'jam', amps: 14.25, ampsMin: 3, ampsMax: 9 },
  { rule: 'pump.short-cycling', room: 'b1', pump: 'P1', role: 'duty', starts: 14, maxPerHour: 12 },
  { rule: 'device.stale', room: 'b1', device: 'L2', kind: 'level', why: 'offline', since: TODAY, expectedSec: 30, blind: true },
  { rule: 'device.stale', room: 'b1', device: 'P1', kind: 'pump', why: 'silent', since: TODAY, expectedSec: 90, blind: false },
  { rule: 'device.stale', room: 'b1', device: 'L1', kind: 'level', why: 'never', since: YESTERDAY, expectedSec: 30, blind: false },
  { rule: 'parking.full', zone: 'A', occupied: 100, total: 100 },
  { rule: 'parking.full', zone: null, occupied: 600, total: 600 },
  { rule: 'venue.over-capacity', venue: 'gym', people: 66, capacity: 60 },
  { rule: 'parking.low-battery', zone: 'A', bays: ['A-001', 'A-002', 'A-003', 'A-004', 'A-005', 'A-006'], listed: 5, belowPct: 15 },
];

describe('LocalTime', () => {
  it('says the site-local time of day for today, the date for another day, in each language; never ISO UTC', () => {
    const en = new LocalTime('en', 'Asia/Shanghai');
    const zh = new LocalTime('zh-CN', 'Asia/Shanghai');
    expect(en.at(TODAY, NOW)).toBe('05:15:20');
    expect(en.at(YESTERDAY, NOW)).toBe('1 Dec 21:15');
    expect(zh.at(YESTERDAY, NOW)).toBe('12月1日 21:15');
    expect(zh.full('2026-07-14T03:12:05.000Z')).toBe('7月14日 11:12:05');
    expect(en.full('2026-07-14T03:12:05.000Z')).toBe('14 Jul 11:12:05');
    expect(new LocalTime('en', 'Europe/Berlin').at(TODAY, NOW)).toBe('22:15:20');
    // Midnight is 00, not 24.
    expect(zh.full('2026-07-13T16:00:00.000Z')).toBe('7月14日 00:00:00');
  });
});

describe('AlertText in Chinese', () => {
  const zh = new AlertText('zh-CN', 'Asia/Shanghai', names);

  it('words every rule in Chinese with the Chinese names, local times and no English', () => {
    for (const d of SAMPLES) {
      for (const text of [zh.message(d, NOW), zh.headline(d)]) {
        expect(englishWords(text), `${d.rule}: ${text}`).toEqual([]);
        expect(text).not.toMatch(/\d{4}-\d\d-\d\dT|flood\/|b1-power/);
      }
    }
  });

  it('reads as the flood team expects', () => {
    expect(zh.message(SAMPLES[0]!, NOW)).toBe('创启大厦B1配电室：水位 532 mm，达到报警等级（报警线 500 mm）；每分钟上涨 12.0 mm；运行泵和备用泵的排水能力应能在水漫到地面前压住水位');
    expect(zh.message(SAMPLES[1]!, NOW)).toBe('创启大厦B1配电室：水位回落至 260 mm，低于预警线（300 mm）；若一直不高于 275 mm，将于 05:32:00 解除');
    expect(zh.message(SAMPLES[6]!, NOW)).toBe('创启大厦B1配电室：主泵 主排水泵 P1 未能启动：自 12月1日 21:15 起水位高于其启动水位 250 mm，60 秒后仍未运行');
    expect(zh.message(SAMPLES[12]!, NOW)).toBe('创启大厦B1配电室：水位传感器 2号水位传感器 L2 自 05:15:20 起报告离线，此后没有再上报；该房间已没有水位传感器在上报');
    expect(zh.message(SAMPLES[18]!, NOW)).toBe('A区（北入口）：6 个车位传感器电量低于 15%（A-001、A-002、A-003、A-004、A-005 等，另有 1 个）');
    expect(zh.headline(SAMPLES[0]!)).toBe('创启大厦B1配电室 水位 532 mm，报警');
  });

  it('says the time to a threshold once, in Chinese', () => {
    expect(zh.eta(12.4, 'floor')).toBe('按当前速度约 12 分钟后到达地面');
    expect(zh.eta(0.2, 'criticalMm')).toBe('按当前速度约 1 分钟后到达危急线');
    expect(zh.eta(0, 'critical')).toBe('已到达危急线');
    expect(zh.eta(undefined, 'floor')).toBeNull();
  });

  it('titles a notification with severity, change and headline', () => {
    const alert = { details: SAMPLES[0]!, rule: 'flood.level', subject: 'flood/b1/levels/L1', room: 'b1', severity: 'critical' as const };
    expect(zh.title(alert, 'opened')).toBe('【严重】新告警：创启大厦B1配电室 水位 532 mm，报警');
    // An alert stored before details existed: rule and place by name.
    expect(zh.title({ ...alert, details: undefined }, 'resolved')).toBe('【严重】已解除：创启大厦B1配电室 水位');
  });

  it('has no English for any details a rule can report (property)', () => {
    const time = fc.integer({ min: NOW - 3 * 86_400_000, max: NOW }).map((ms) => new Date(ms).toISOString());
    const mm = fc.double({ min: -100, max: 10_000, noNaN: true });
    const rate = fc.double({ min: -50, max: 50, noNaN: true });
    const role = fc.constantFrom('duty' as const, 'standby' as const);
    const details: fc.Arbitrary<AlertDetails> = fc.oneof(
      fc.record({ rule: fc.constant('flood.level' as const), room: fc.constant('b1'), band: fc.constantFrom('warning' as const, 'alarm' as const, 'critical' as const), thresholdMm: fc.integer({ min: 0, max: 900 }), levelMm: fc.option(mm, { nil: null }), rateMmPerMin: fc.option(rate, { nil: undefined }), pumpsOutpace: fc.option(fc.boolean(), { nil: undefined }), clearing: fc.option(fc.record({ belowMm: fc.integer(), at: time }), { nil: undefined }) }),
      fc.record({ rule: fc.constant('flood.rise' as const), room: fc.constant('b1'), rateMmPerMin: rate, windowMin: fc.integer({ min: 1, max: 60 }), warnMmPerMin: fc.integer({ min: 1, max: 30 }), levelMm: fc.option(mm, { nil: null }), stopped: fc.option(fc.record({ since: time, clearsAt: time }), { nil: undefined }) }),
      fc.record({ rule: fc.constant('pump.failed-start' as const), room: fc.constant('b1'), pump: fc.constantFrom('P1', 'P2'), role, startMm: fc.integer(), since: time, running: fc.constantFrom(false as const, null), graceSec: fc.integer({ min: 1, max: 600 }) }),
      fc.record({ rule: fc.constant('pump.current' as const), room: fc.constant('b1'), pump: fc.constantFrom('P1', 'P2'), role, kind: fc.constantFrom('dry' as const, 'jam' as const), amps: fc.double({ min: 0, max: 100, noNaN: true }), ampsMin: fc.integer({ min: 0, max: 5 }), ampsMax: fc.integer({ min: 6, max: 20 }) }),
      fc.record({ rule: fc.constant('device.stale' as const), room: fc.constant('b1'), device: fc.constantFrom('L1', 'L2', 'P1', 'P2', 'X9'), kind: fc.constantFrom('level' as const, 'pump' as const), why: fc.constantFrom('offline' as const, 'silent' as const, 'never' as const), since: time, expectedSec: fc.integer({ min: 1, max: 3600 }), blind: fc.boolean() }),
      fc.record({ rule: fc.constant('parking.full' as const), zone: fc.constantFrom('A', 'Q', null), occupied: fc.nat(), total: fc.nat() }),
    );
    fc.assert(
      fc.property(details, (d) => {
        const text = `${zh.message(d, NOW)} ${zh.headline(d)}`;
        return englishWords(text).length === 0 && !/\d{4}-\d\d-\d\dT/.test(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('AlertText in English', () => {
  const en = new AlertText('en', 'Asia/Shanghai', names);

  it('words every rule in English with local times and names, no topic path', () => {
    for (const d of SAMPLES) {
      const text = en.message(d, NOW);
      expect(text).not.toMatch(/\p{Script=Han}|\d{4}-\d\d-\d\dT|flood\//u);
    }
    expect(en.message(SAMPLES[6]!, NOW)).toBe('B1 power room: duty pump Duty pump P1 failed to start: water above its start level of 250 mm since 1 Dec 21:15, not running after 60 s');
    expect(en.message(SAMPLES[15]!, NOW)).toBe('Zone A (north entrance) is full: 100 of 100 bays occupied');
    expect(en.message(SAMPLES[16]!, NOW)).toBe('The car park is full: 600 of 600 bays occupied');
    expect(en.eta(12.4, 'floor')).toBe('reaches the floor in ~12 min at the current rate');
    expect(en.title({ details: SAMPLES[0]!, rule: 'flood.level', subject: 'flood/b1/levels/L1', room: 'b1', severity: 'critical' }, 'opened')).toBe('[CRITICAL] new alert: B1 power room: water 532 mm, alarm');
  });
});
