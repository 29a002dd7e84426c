import { describe, expect, it } from 'vitest';
import { render } from 'svelte/server';
import type { Alert, FloodBand } from '@parkops/ingest/contract';
import { i18n } from '$lib/i18n/index.svelte.ts';
import { bannerAlerts } from '$lib/alarm.svelte.ts';
import { clock } from '$lib/clock.svelte.ts';
import AlertList from './AlertList.svelte';
import LevelGauge from './LevelGauge.svelte';
import VenueCards from './VenueCards.svelte';

const critical: Alert = {
  id: 'a1', rule: 'level-critical', severity: 'critical', state: 'firing', subject: 'flood/b1-power/levels/L1',
  message: 'Water at 720 mm', value: 720, startedAt: new Date().toISOString(), etaMin: 14.2, etaTarget: 'floor',
};
const thresholds = { warnMm: 300, alarmMm: 500, criticalMm: 700, floorMm: 900 };

describe('AlertList', () => {
  it('offers acknowledge with a note to a responder, with the time-to-threshold estimate', () => {
    i18n.lang = 'en';
    const { body } = render(AlertList, { props: { alerts: [critical], role: 'responder' } });
    expect(body).toContain('Acknowledge');
    expect(body).toContain('reaches Floor in ~14 min at the current rate');
    expect(body).toContain('Water level L1 · b1-power');
  });

  it('tells a viewer they cannot acknowledge, and shows no button', () => {
    i18n.lang = 'zh-CN';
    const { body } = render(AlertList, { props: { alerts: [critical], role: 'viewer' } });
    expect(body).toContain('只有应急响应人员可以确认告警');
    expect(body).not.toContain('data-testid="ack-button"');
  });
});

describe('LevelGauge', () => {
  const level = (mm: number, band: FloodBand, pending?: { band: FloodBand; at: string }) => ({ mm, band, ts: new Date().toISOString(), sensors: ['L1', 'L2'], from: 'L1', ...(pending ? { pending } : {}) });
  it('shows the band the server judged, in words as well as colour, and never works one out itself', () => {
    i18n.lang = 'en';
    expect(render(LevelGauge, { props: { level: level(720, 'critical'), band: 'critical', thresholds } }).body).toContain('Critical');
    expect(render(LevelGauge, { props: { level: level(120, 'normal'), band: 'normal', thresholds } }).body).toContain('Normal');
    // 720 mm is above the critical line, but the server says the alarm band (one sensor, its hold still
    // running): the gauge says Alarm and when critical comes, as the alerts will.
    const held = render(LevelGauge, { props: { level: level(720, 'alarm', { band: 'critical', at: '2026-07-15T06:00:30.000Z' }), band: 'alarm', thresholds } }).body;
    expect(held).toContain('data-band="alarm"');
    expect(held).toMatch(/data-testid="room-band"[^>]*>Alarm</);
    expect(held).not.toMatch(/data-testid="room-band"[^>]*>Critical</);
    expect(held).toContain('data-testid="room-pending"');
  });
  it('with no fresh sensor says so and keeps the held band', () => {
    i18n.lang = 'zh-CN';
    const body = render(LevelGauge, { props: { level: null, band: 'critical', thresholds } }).body;
    expect(body).toContain('危急');
    expect(body).toContain('暂无最新读数');
    expect(body).toMatch(/class="gauge[^"]* stale"/);
  });
});

describe('VenueCards', () => {
  it('shows occupancy against capacity and greys a stale counter with its last-seen age', () => {
    i18n.lang = 'en';
    clock.now = Date.now();
    const ts = new Date(clock.now - 7 * 60_000).toISOString();
    const { body } = render(VenueCards, { props: { venues: [{ id: 'gym', name: 'Indoor gym', capacity: 60, areaM2: 220, occupancy: 66, ts, stale: true }] } });
    expect(body).toContain('66 / 60 people');
    expect(body).toContain('Over safe capacity');
    expect(body).toMatch(/class="[^"]*stale/);
    expect(body).toContain('last seen 7 min ago');
  });
});

describe('bannerAlerts', () => {
  it('holds flood warnings and criticals until acknowledged, critical first; never parking info', () => {
    const warn: Alert = { ...critical, id: 'w', severity: 'warning', startedAt: new Date(Date.now() + 1000).toISOString() };
    const acked: Alert = { ...critical, id: 'k', state: 'acknowledged', ackedAt: new Date().toISOString() };
    const clearedUnacked: Alert = { ...critical, id: 'r', state: 'resolved', resolvedAt: new Date().toISOString() };
    const parking: Alert = { ...critical, id: 'p', severity: 'info', subject: 'parking/zones/A' };
    expect(bannerAlerts([warn, acked, clearedUnacked, parking, critical]).map((a) => a.id)).toEqual(['r', 'a1', 'w']);
  });
});

describe('alertTitle', () => {
  it('names the alert engine rules in both languages, with device and room', async () => {
    const { alertTitle } = await import('$lib/alerts.ts');
    const { translate } = await import('$lib/i18n/index.svelte.ts');
    const a: Alert = { ...critical, rule: 'pump.failed-start', subject: 'flood/b1-power/pumps/P2' };
    expect(alertTitle((k, p) => translate('en', k, p), a)).toBe('Pump failed to start · P2 · b1-power');
    expect(alertTitle((k, p) => translate('zh-CN', k, p), { ...a, rule: 'flood.level', subject: 'flood/b1-power/levels' })).toBe('水位 · b1-power');
  });
});
