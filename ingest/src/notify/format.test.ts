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
  it('gives a Chinese line built from the site and the English alert message, times in the site zone', () => {
    const t = describeAlert(alert, 'opened', { timezone: 'Asia/Shanghai', room: (id) => (id === 'b1-power' ? { name: 'B1 power room', nameZh: 'B1配电室' } : undefined) });
    expect(t.zh.split('\n')[0]).toBe('【严重】新告警：B1配电室 L1 水位 712 mm');
    expect(t.en.split('\n')[0]).toBe('[CRITICAL] opened: Water level 712 mm (B1 power room)');
    expect(t.zh).toContain('2026-07-14 11:12:05 (Asia/Shanghai)');
    expect(t.title).toBe('【严重】新告警：B1配电室 L1 水位 712 mm / CRITICAL opened');
  });

  it('names places and devices in words, never the subject path, and says the time to a threshold once', () => {
    const site = { timezone: 'Asia/Shanghai', room: (id: string) => (id === 'b1-power' ? { name: 'B1 power room', nameZh: 'B1配电室' } : undefined), zone: (id: string) => (id === 'A' ? { name: 'Zone A', nameZh: 'A 区' } : undefined) };
    const t = describeAlert({ ...alert, etaMin: 14.2, etaTarget: 'floor' }, 'opened', site);
    expect(t.en.split('\n')[1]).toBe('rule flood.level, at B1 power room · L1');
    expect(t.zh.split('\n')[1]).toBe('规则 flood.level，位置 B1配电室 · L1');
    expect(t.en.match(/reaches/g)).toHaveLength(1);
    const full = describeAlert({ ...alert, rule: 'parking.full', severity: 'info', subject: 'parking/A', message: 'Zone A is full: 3 of 3 bays occupied', value: 3 }, 'opened', site);
    expect(full.en.split('\n')[1]).toBe('rule parking.full, at Zone A');
    expect(full.zh.split('\n')[0]).toBe('【提示】新告警：A 区 数值 3');
    for (const text of [t.en, t.zh, full.en, full.zh]) expect(text).not.toMatch(/flood\/|parking\/|2026-07-14T/);
  });
});

describe('buildBody', () => {
  it('keeps WeCom content within its 4096-byte limit without splitting a character', () => {
    const text = { title: 't', zh: '', en: '', markdown: '水'.repeat(3000) };
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
