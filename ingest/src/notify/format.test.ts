import { describe, expect, it } from 'vitest';
import { buildBody, describeAlert, pickFormat, redactTarget, robotError, truncateUtf8 } from './format.ts';
import type { Alert } from '@parkops/contract/api.ts';

const alert: Alert = {
  id: 'a1',
  rule: 'flood.level',
  severity: 'critical',
  state: 'firing',
  subject: 'flood/b1-power/levels/L1',
  message: 'Water level 712 mm',
  value: 712,
  startedAt: '2026-07-14T03:12:05.000Z',
};

describe('pickFormat', () => {
  it('picks the robot format by host under auto, and obeys an explicit setting', () => {
    expect(pickFormat('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k')).toBe('wecom');
    expect(pickFormat('https://oapi.dingtalk.com/robot/send?access_token=t')).toBe('dingtalk');
    expect(pickFormat('https://hooks.example.com/parkops')).toBe('json');
    expect(pickFormat('https://qyapi.weixin.qq.com.evil.example/x')).toBe('json');
    expect(pickFormat('https://hooks.example.com/parkops', 'dingtalk')).toBe('dingtalk');
    expect(pickFormat('not a url')).toBe('json');
  });
});

describe('describeAlert', () => {
  const site = {
    language: 'zh-CN' as const,
    timezone: 'Asia/Shanghai',
    room: (id: string) => (id === 'b1-power' ? { name: 'B1 power room', nameZh: 'B1配电室', levels: [{ id: 'L1', name: 'Level sensor 1', nameZh: '1号水位传感器' }] } : undefined),
    zone: (id: string) => (id === 'A' ? { name: 'Zone A', nameZh: 'A区' } : undefined),
  };
  const details = { rule: 'flood.level' as const, room: 'b1-power', band: 'critical' as const, thresholdMm: 700, levelMm: 712 };

  it('writes the site language first, every line from the renderer, times in the site zone with the date', () => {
    const t = describeAlert({ ...alert, details, etaMin: 14.2, etaTarget: 'floor' }, 'opened', site, Date.parse('2026-07-14T03:13:00Z'));
    expect(t.zh.split('\n')).toEqual(['【严重】新告警：B1配电室 水位 712 mm，危急', 'B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）', '按当前速度约 14 分钟后到达地面', '开始时间 7月14日 11:12:05']);
    expect(t.en.split('\n')).toEqual(['[CRITICAL] new alert: B1 power room: water 712 mm, critical', 'B1 power room: water at 712 mm, critical band (critical at 700 mm)', 'reaches the floor in ~14 min at the current rate', 'started 14 Jul 11:12:05']);
    expect(t.title).toBe('【严重】新告警：B1配电室 水位 712 mm，危急');
    expect(t.markdown.indexOf('严重')).toBeLessThan(t.markdown.indexOf('CRITICAL'));
    expect(t.body).toBe('B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）\n按当前速度约 14 分钟后到达地面\n开始时间 7月14日 11:12:05');
    // The Chinese block has no English but the unit and ids; nothing anywhere is a path or ISO UTC.
    expect(t.zh).not.toMatch(/[a-z]{3,}/);
    for (const text of [t.en, t.zh]) expect(text).not.toMatch(/flood\/|parking\/|2026-07-14T/);
  });

  it('an English site writes English first; an alert stored without details keeps its message and names the place', () => {
    const t = describeAlert({ ...alert, rule: 'parking.full', severity: 'info', subject: 'parking/A', message: 'Zone A is full: 3 of 3 bays occupied', value: 3 }, 'resolved', { ...site, language: 'en' });
    expect(t.title).toBe('[INFO] cleared: Zone A: Parking full');
    expect(t.en.split('\n')[1]).toBe('Zone A is full: 3 of 3 bays occupied');
    expect(t.zh.split('\n')[0]).toBe('【提示】已解除：A区 车位已满');
    expect(t.markdown.indexOf('INFO')).toBeLessThan(t.markdown.indexOf('提示'));
  });

  it('says who acknowledged, with the note, and when it cleared; no time to a threshold once not firing', () => {
    const t = describeAlert({ ...alert, details, etaMin: 3, state: 'resolved', ackedBy: 'zhang.wei', ackNote: '已派人', resolvedAt: '2026-07-14T04:00:00.000Z' }, 'resolved', site);
    expect(t.zh).toContain('确认人 zhang.wei：已派人');
    expect(t.zh).toContain('解除时间 7月14日 12:00:00');
    expect(t.en).toContain('acknowledged by zhang.wei: 已派人');
    expect(t.zh).not.toContain('分钟后到达');
  });
});

describe('buildBody', () => {
  it('keeps WeCom content within its 4096-byte limit without splitting a character', () => {
    const text = { title: 't', zh: '', en: '', body: '', markdown: '水'.repeat(3000) };
    const body = buildBody('wecom', alert, 'opened', text) as { markdown: { content: string } };
    expect(Buffer.byteLength(body.markdown.content)).toBeLessThanOrEqual(4096);
    expect(body.markdown.content.endsWith('…')).toBe(true);
    expect(truncateUtf8('abc', 10)).toBe('abc');
  });
});

describe('robotError and redactTarget', () => {
  it('reads robot refusals from 200 answers', () => {
    expect(robotError('{"errcode":0,"errmsg":"ok"}')).toBeNull();
    expect(robotError('{"errcode":93000,"errmsg":"invalid webhook url"}')).toBe('errcode 93000: invalid webhook url');
    expect(robotError('ok')).toBeNull();
  });
  it('reads Feishu refusals: StatusCode anywhere, code only from a Feishu/Lark host (other webhooks use code for success too)', () => {
    const feishu = 'https://open.feishu.cn/open-apis/bot/v2/hook/6f1c2e0a';
    expect(robotError('{"code":19024,"data":{},"msg":"Key Words Not Found"}', feishu)).toBe('code 19024: Key Words Not Found');
    expect(robotError('{"StatusCode":0,"StatusMessage":"success","code":0,"msg":"success"}', feishu)).toBeNull();
    expect(robotError('{"StatusCode":19021,"StatusMessage":"sign match fail"}', 'https://example.com/hook')).toBe('StatusCode 19021: sign match fail');
    expect(robotError('{"code":201,"msg":"created"}', 'https://example.com/hook')).toBeNull();
  });
  it('masks query values and long path segments', () => {
    expect(redactTarget('https://oapi.dingtalk.com/robot/send?access_token=abcdef')).toBe('https://oapi.dingtalk.com/robot/send?access_token=***');
    expect(redactTarget('https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX')).toBe('https://hooks.slack.com/services/T0000/B0000/***');
  });
});
