import { describe, expect, it } from 'vitest';
import { parseSite } from '@parkops/contract/site/index.ts';
import { AlertMessages, LocalTimeText } from './messages.ts';
import { testSiteFile } from './testing.ts';

const NOW = Date.parse('2026-12-01T21:30:00Z'); // 2 Dec 05:30 in Asia/Shanghai

describe('LocalTimeText', () => {
  it('says the site-local time of day for today, and the date for another day, never ISO UTC', () => {
    const t = new LocalTimeText('Asia/Shanghai');
    expect(t.at('2026-12-01T21:15:20.058Z', NOW)).toBe('05:15:20');
    expect(t.at('2026-12-01T13:15:20.000Z', NOW)).toBe('1 Dec 21:15');
    expect(new LocalTimeText('Europe/Berlin').at('2026-12-01T21:15:20.058Z', NOW)).toBe('22:15:20');
  });
});

describe('AlertMessages', () => {
  const m = new AlertMessages(parseSite(testSiteFile()));

  it('names devices and rooms as the site file does, with local times, and no topic path', () => {
    const text = m.render({ rule: 'device.stale', room: 'b1', device: 'L2', kind: 'level', why: 'offline', since: '2026-12-01T21:15:20.058Z', expectedSec: 30, blind: true }, NOW);
    expect(text).toBe('B1 power room: level sensor Level 2 L2 reported offline since 05:15:20 and has sent nothing since; no level sensor of the room is reporting');
    const failed = m.render({ rule: 'pump.failed-start', room: 'b1', pump: 'P1', role: 'duty', startMm: 250, since: '2026-12-01T13:15:00.000Z', running: false, graceSec: 60 }, NOW);
    expect(failed).toBe('B1 power room: duty pump Duty pump P1 failed to start: water above its start level of 250 mm since 1 Dec 21:15, not running after 60 s');
    for (const s of [text, failed]) {
      expect(s).not.toMatch(/\d{4}-\d\d-\d\dT/);
      expect(s).not.toContain('flood/');
    }
  });

  it('never says the time to a threshold: it travels as etaMin and etaTarget', () => {
    const level = m.render({ rule: 'flood.level', room: 'b1', band: 'alarm', thresholdMm: 500, levelMm: 532, rateMmPerMin: 12.04 }, NOW);
    expect(level).toBe('B1 power room: water at 532 mm, alarm band (alarm at 500 mm); rising 12.0 mm/min');
    const clearing = m.render({ rule: 'flood.level', room: 'b1', band: 'warning', thresholdMm: 300, levelMm: 260, clearing: { belowMm: 275, at: '2026-12-01T21:32:00.000Z' } }, NOW);
    expect(clearing).toBe('B1 power room: water back at 260 mm, below the warning band (warning at 300 mm); clears at 05:32:00 if it stays at or below 275 mm');
    expect(`${level}${clearing}`).not.toMatch(/reaches|in ~\d+ min/);
    // Blind: the band is held, and the text does not pass the threshold off as a reading.
    expect(m.render({ rule: 'flood.level', room: 'b1', band: 'critical', thresholdMm: 700, levelMm: null }, NOW)).toBe(
      'B1 power room: critical band (critical at 700 mm) kept: no level sensor is reporting, the water was last seen in this band',
    );
  });
});

describe('AlertMessages in the site language', () => {
  it('writes messages in Chinese for a zh-CN site, with its Chinese names; API errors keep English times', () => {
    const file = testSiteFile({ nameZh: 'B1配电室' });
    const site = parseSite({ ...file, language: 'zh-CN' });
    const m = new AlertMessages(site);
    expect(m.render({ rule: 'flood.level', room: 'b1', band: 'critical', thresholdMm: 700, levelMm: 712 }, NOW)).toBe('B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）');
    expect(m.localTime(Date.parse('2026-12-01T13:15:20.000Z'), NOW)).toBe('1 Dec 21:15');
  });
});
