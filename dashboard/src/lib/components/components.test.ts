import { describe, expect, it } from 'vitest';
import { render } from 'svelte/server';
import type { Alert, FloodBand, WarningInfoView, WarningView } from '@parkops/contract';
import { i18n } from '$lib/i18n/index.svelte.ts';
import { audibleAlerts, bannerAlerts } from '$lib/alarm.svelte.ts';
import { clock } from '$lib/clock.svelte.ts';
import AlertList from './AlertList.svelte';
import LevelGauge from './LevelGauge.svelte';
import VenueCards from './VenueCards.svelte';
import WarningBanner from './WarningBanner.svelte';

const critical: Alert = {
  id: 'a1', rule: 'flood.level', severity: 'critical', state: 'firing', subject: 'flood/b1-power/levels', room: 'b1-power',
  message: '创启大厦B1配电室：水位 720 mm，达到危急等级（危急线 700 mm）', value: 720, startedAt: new Date().toISOString(), etaMin: 14.2, etaTarget: 'floor',
  details: { rule: 'flood.level', room: 'b1-power', band: 'critical', thresholdMm: 700, levelMm: 720 },
};
const thresholds = { warnMm: 300, alarmMm: 500, criticalMm: 700, floorMm: 900 };

describe('AlertList', () => {
  it('offers acknowledge with a note to a responder, words the alert from its details in the reader\'s language, with the time to the next line', () => {
    i18n.lang = 'en';
    const { body } = render(AlertList, { props: { alerts: [critical], role: 'responder' } });
    expect(body).toContain('Acknowledge');
    expect(body).toContain('b1-power: water at 720 mm, critical band (critical at 700 mm) · reaches the floor in ~14 min at the current rate');
    expect(body).toContain('b1-power: water 720 mm, critical');
    // Not the server's message (the site's language): the user's.
    expect(body).not.toContain('达到危急等级');
    i18n.lang = 'zh-CN';
    const zh = render(AlertList, { props: { alerts: [critical], role: 'responder' } }).body;
    expect(zh).toContain('b1-power：水位 720 mm，达到危急等级（危急线 700 mm） · 按当前速度约 14 分钟后到达地面');
  });

  it('falls back to the stored message for an alert stored without details', () => {
    i18n.lang = 'en';
    const { body } = render(AlertList, { props: { alerts: [{ ...critical, details: undefined, message: 'Water level 720 mm (0.1.0 wording)' }], role: 'viewer' } });
    expect(body).toContain('Water level 720 mm (0.1.0 wording)');
    expect(body).toContain('b1-power: Water level');
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
  const warn: Alert = { ...critical, id: 'w', severity: 'warning', startedAt: new Date(Date.now() + 1000).toISOString() };
  const acked: Alert = { ...critical, id: 'k', state: 'acknowledged', ackedAt: new Date().toISOString() };
  const clearedUnacked: Alert = { ...critical, id: 'r', state: 'resolved', resolvedAt: new Date().toISOString() };
  const parking: Alert = { ...critical, id: 'p', severity: 'info', subject: 'parking/zones/A', room: undefined };
  it('holds flood warnings and criticals until acknowledged, live ones before cleared ones (a cleared critical after a live warning); never parking info', () => {
    expect(bannerAlerts([warn, acked, clearedUnacked, parking, critical]).map((a) => a.id)).toEqual(['a1', 'w', 'r']);
  });
  it('never sounds for a cleared alert, nor for one this tab muted', () => {
    const shown = bannerAlerts([warn, clearedUnacked, critical]);
    expect(audibleAlerts(shown, []).map((a) => a.id)).toEqual(['a1', 'w']);
    expect(audibleAlerts(shown, ['a1', 'w', 'r'])).toEqual([]);
    // Only the cleared one left: silent, though it still waits in the banner for an acknowledgement.
    expect(audibleAlerts(bannerAlerts([clearedUnacked]), [])).toEqual([]);
  });
});

describe('WarningBanner', () => {
  const info = (language: string, event: string, headline: string): WarningInfoView => ({
    language, category: ['Met'], event, urgency: 'Expected', severity: 'Moderate', certainty: 'Likely', onset: '2026-07-08T00:00:00.000Z', expires: '2026-07-08T12:00:00.000Z',
    headline, eventCodes: [], areaDesc: 'Jining', coversSite: true, senderName: language === 'zh-CN' ? '济宁市气象台' : 'Jining Meteorological Observatory',
  });
  const w: WarningView = {
    id: 'w-1', sender: 'sd-jining@cma.gov.cn', event: '暴雨', severity: 'Moderate', urgency: 'Expected', relevant: true, inForce: true, identifier: 'x', sent: '2026-07-07T21:30:00.000Z',
    status: 'Actual', msgType: 'Alert', scope: 'Public', certainty: 'Likely', areaDesc: 'Jining', language: 'zh-CN', storm: true, inForceFrom: '2026-07-08T00:00:00.000Z',
    inForceUntil: '2026-07-08T12:00:00.000Z', references: [], receivedAt: '2026-07-07T21:31:00.000Z', via: 'http',
    infos: [info('zh-CN', '暴雨', '济宁市气象台发布暴雨黄色预警'), info('en-US', 'Rainstorm', 'Jining issues a yellow rainstorm warning')],
  };
  it('shows the event, severity and headline in the reader\'s language', () => {
    i18n.lang = 'en';
    const en = render(WarningBanner, { props: { warnings: [w] } }).body;
    expect(en).toContain('Official weather warning in force');
    expect(en).toContain('Rainstorm');
    expect(en).toContain('Jining issues a yellow rainstorm warning');
    expect(en).toContain('Moderate');
    expect(en).toContain('issued by Jining Meteorological Observatory');
    i18n.lang = 'zh-CN';
    const zh = render(WarningBanner, { props: { warnings: [w] } }).body;
    expect(zh).toContain('生效中的官方气象预警');
    expect(zh).toContain('济宁市气象台发布暴雨黄色预警');
    expect(zh).toContain('较重');
  });
  it('shows nothing without warnings', () => {
    expect(render(WarningBanner, { props: { warnings: [] } }).body).not.toContain('data-testid="warning-banner"');
  });
});
