/**
 * Signing and answer reading for the group robots, and the Web Push payload. The expected signatures
 * were computed with the vendors' own Python samples (DingTalk "自定义机器人安全设置", Feishu
 * "自定义机器人使用指南"), run with the secrets and timestamps below.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '@parkops/contract/api.ts';
import { dingTalkSign, judgeDingTalkAnswer, signedDingTalkUrl } from './dingtalk.ts';
import { feishuCard, feishuSign, judgeFeishuAnswer, signedFeishuBody } from './feishu.ts';
import { judgeWeComAnswer } from './wecom.ts';
import { alertPath } from '@parkops/contract/push.ts';
import { alertPushPayload, pushTopic } from './webpush.ts';

const alert: Alert = {
  id: 'al-7',
  rule: 'flood.level',
  severity: 'critical',
  state: 'firing',
  subject: 'flood/b1-power/levels/L1',
  message: 'Water level 712 mm in the B1 power room (critical 700 mm)',
  value: 712,
  startedAt: '2026-07-14T03:12:05.000Z',
  room: 'b1-power',
  details: { rule: 'flood.level', room: 'b1-power', band: 'critical', thresholdMm: 700, levelMm: 712 },
  etaMin: 9.6,
  etaTarget: 'floor',
};
const site = { language: 'zh-CN' as const, timezone: 'Asia/Shanghai', room: (id: string) => (id === 'b1-power' ? { name: 'B1 power room', nameZh: '创启大厦B1配电室' } : undefined) };

describe('DingTalk 加签', () => {
  const secret = 'SECb6a0fcb1f0a2d4c5e8f93a17d2c4b6e0f1a2b3c4d5e6f708192a3b4c5d6e7f80';
  it('signs timestamp + "\\n" + secret with HMAC-SHA256 keyed by the secret, as DingTalk\'s Python sample does', () => {
    expect(dingTalkSign(secret, 1720926725000)).toBe('Xn+N97XsmvkZi4B9srUAKZv7qtmXL2elacUCFZNhU+A=');
  });
  it('puts timestamp and the URL-encoded sign in the query, keeping access_token', () => {
    const url = signedDingTalkUrl('https://oapi.dingtalk.com/robot/send?access_token=abc123', secret, 1720926725000);
    // quote_plus of the sample: "+" -> %2B, "=" -> %3D
    expect(url).toBe('https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1720926725000&sign=Xn%2BN97XsmvkZi4B9srUAKZv7qtmXL2elacUCFZNhU%2BA%3D');
  });
  it('reads errcode: 310000 is a refusal no retry can fix, 130101 (too fast) is retried', () => {
    expect(judgeDingTalkAnswer(200, '{"errcode":0,"errmsg":"ok"}')).toBeNull();
    expect(judgeDingTalkAnswer(200, '{"errcode":310000,"errmsg":"sign not match"}')).toEqual({ error: expect.stringContaining('errcode 310000: sign not match (check PARKOPS_DINGTALK_SECRET'), retryable: false });
    expect(judgeDingTalkAnswer(200, '{"errcode":130101,"errmsg":"send too fast"}')).toMatchObject({ retryable: true });
    expect(judgeDingTalkAnswer(200, 'not json')).toBeNull();
  });
});

describe('Feishu 签名校验', () => {
  const secret = 'kJ8hQ2mZ7vX1pL4nR9tW3y';
  it('uses timestamp + "\\n" + secret as the HMAC KEY over an empty message, as Feishu\'s Python sample does', () => {
    expect(feishuSign(secret, 1720926725)).toBe('+NlXhX3kiMWm0N0aMAWaVLIcvNnXrFTIMHWJSbEPFOw=');
  });
  it('adds timestamp (seconds, as a string) and sign to the stored message', () => {
    const signed = JSON.parse(signedFeishuBody('{"msg_type":"text","content":{"text":"hi"}}', secret, 1720926725999)) as Record<string, unknown>;
    expect(signed).toEqual({ timestamp: '1720926725', sign: '+NlXhX3kiMWm0N0aMAWaVLIcvNnXrFTIMHWJSbEPFOw=', msg_type: 'text', content: { text: 'hi' } });
  });
  it('reads code and StatusCode: 19021 is final, 11232 (rate limit) is retried, 0 is success', () => {
    expect(judgeFeishuAnswer(200, '{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}')).toBeNull();
    expect(judgeFeishuAnswer(200, '{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}')).toEqual({ error: expect.stringContaining('code 19021: sign match fail'), retryable: false });
    expect(judgeFeishuAnswer(200, '{"StatusCode":19024,"StatusMessage":"Key Words Not Found"}')).toMatchObject({ error: 'code 19024: Key Words Not Found', retryable: false });
    expect(judgeFeishuAnswer(200, '{"code":11232,"msg":"frequency limited"}')).toMatchObject({ retryable: true });
  });
  it('builds an interactive card in the site language (Chinese), the English title as a note, red for critical, green once resolved', () => {
    const card = feishuCard(alert, 'opened', site) as { msg_type: string; card: { header: { title: { content: string }; template: string }; elements: { tag: string; text?: { content: string }; elements?: { content: string }[] }[] } };
    expect(card.msg_type).toBe('interactive');
    expect(card.card.header.title.content).toBe('【严重】新告警：创启大厦B1配电室 水位 712 mm，危急');
    expect(card.card.header.template).toBe('red');
    expect(card.card.elements[0]?.text?.content).toBe('创启大厦B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）\n按当前速度约 10 分钟后到达地面\n开始时间 7月14日 11:12:05');
    expect(card.card.elements[2]?.elements?.[0]?.content).toBe('[CRITICAL] new alert: B1 power room: water 712 mm, critical');
    const resolved = feishuCard({ ...alert, state: 'resolved', resolvedAt: '2026-07-14T04:00:00.000Z' }, 'resolved', site) as { card: { header: { template: string } } };
    expect(resolved.card.header.template).toBe('green');
  });
});

describe('WeCom answers', () => {
  it('retries 45009 (rate limit), not 93000 (bad key)', () => {
    expect(judgeWeComAnswer(200, '{"errcode":45009,"errmsg":"api freq out of limit"}')).toMatchObject({ retryable: true });
    expect(judgeWeComAnswer(200, '{"errcode":93000,"errmsg":"invalid webhook url"}')).toMatchObject({ retryable: false, error: expect.stringContaining('PARKOPS_WECOM_URL') });
  });
});

describe('Web Push payload', () => {
  it('carries the alert id, the Chinese title and text from the renderer, and the URL that opens it ready to acknowledge', () => {
    const p = alertPushPayload(alert, 'opened', site, '2026-07-14T03:12:06.000Z');
    expect(p).toEqual({
      v: 1,
      kind: 'alert',
      alertId: 'al-7',
      change: 'opened',
      severity: 'critical',
      state: 'firing',
      room: 'b1-power',
      title: '【严重】新告警：创启大厦B1配电室 水位 712 mm，危急',
      body: '创启大厦B1配电室：水位 712 mm，达到危急等级（危急线 700 mm）\n按当前速度约 10 分钟后到达地面',
      url: '/flood?alert=al-7',
      tag: 'alert-al-7',
      urgent: true,
      at: '2026-07-14T03:12:06.000Z',
    });
    expect(alertPushPayload({ ...alert, state: 'acknowledged', ackedBy: 'zhang.wei' }, 'acknowledged', site, '2026-07-14T03:13:00.000Z')).toMatchObject({ urgent: false, body: expect.stringContaining('确认人 zhang.wei') });
  });
  it('stays far below the 4096-byte push limit even for a huge message', () => {
    const p = alertPushPayload({ ...alert, details: undefined, message: '水'.repeat(10_000) }, 'opened', site, '2026-07-14T03:12:06.000Z');
    expect(Buffer.byteLength(JSON.stringify(p), 'utf8')).toBeLessThan(2000);
  });
  it('makes RFC 8030 topics: at most 32 base64url characters, one per alert', () => {
    const t = pushTopic('alert-al-7');
    expect(t).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(pushTopic('alert-al-7')).toBe(t);
    expect(pushTopic('alert-al-8')).not.toBe(t);
  });
  it('opens the flood page for flood alerts and the overview otherwise', () => {
    expect(alertPath(alert)).toBe('/flood?alert=al-7');
    expect(alertPath({ ...alert, id: 'a b', subject: 'venues/gym', room: undefined })).toBe('/?alert=a%20b');
  });
});
