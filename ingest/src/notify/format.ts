/**
 * Alert messages for group robots and plain JSON webhooks, in Chinese and English.
 *
 * - WeCom (企业微信) group robot: `{"msgtype":"markdown","markdown":{"content":...}}`, content at most
 *   4096 bytes (WeCom robot API, "markdown类型").
 * - DingTalk (钉钉) custom robot: `{"msgtype":"markdown","markdown":{"title":...,"text":...}}`.
 * - Anything else: a JSON object with the alert, the change and the text.
 *
 * Robots answer HTTP 200 even when they refuse a message and put the reason in the body
 * (`errcode`/`errmsg`, Feishu `code`/`StatusCode`), so `robotError` reads the answer body too. Signed
 * DingTalk and Feishu robots have their own channels (channels/).
 */
import type { Alert, AlertSeverity } from '../contract/api.ts';
import { parseSubject, roomOf } from '../contract/subjects.ts';
import { StormText } from '../storm/text.ts';

export type WebhookFormat = 'wecom' | 'dingtalk' | 'json';
export type FormatSetting = WebhookFormat | 'auto';

/** `auto` picks by host: qyapi.weixin.qq.com is WeCom, oapi.dingtalk.com is DingTalk, anything else JSON. */
export function pickFormat(url: string, setting: FormatSetting = 'auto'): WebhookFormat {
  if (setting !== 'auto') return setting;
  let host = '';
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'json';
  }
  if (host === 'qyapi.weixin.qq.com') return 'wecom';
  if (host === 'oapi.dingtalk.com') return 'dingtalk';
  return 'json';
}

const SEVERITY_ZH: Record<AlertSeverity, string> = { critical: '严重', warning: '警告', info: '提示' };
const SEVERITY_EN: Record<AlertSeverity, string> = { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' };
const CHANGE_ZH: Record<string, string> = {
  opened: '新告警',
  acknowledged: '已确认',
  resolved: '已恢复',
  renotified: '再次提醒',
  escalated: '升级通知',
  worsened: '情况恶化',
  updated: '更新',
};

/** What a message needs to know about the site: room names in both languages, and the site's time zone. */
export interface SiteNames {
  timezone?: string;
  room?(id: string): { name: string; nameZh?: string | undefined } | undefined;
  zone?(id: string): { name: string; nameZh?: string | undefined } | undefined;
  venue?(id: string): { name: string; nameZh?: string | undefined } | undefined;
}

export interface AlertText {
  /** One line, used as the DingTalk title and a chat notification preview. */
  title: string;
  /** Markdown for the robots: a Chinese block, then the English one. */
  markdown: string;
  zh: string;
  en: string;
}

/** Where an alert is, in words for people (never the subject path). */
function placeOf(alert: Alert, site: SiteNames): { zh: string; en: string; isRoom: boolean } {
  const target = parseSubject(alert.subject);
  const room = roomOf(target) ?? alert.room;
  const zone = target?.kind === 'zone' ? target.zoneId : undefined;
  const venue = target?.kind === 'venue' ? target.venueId : undefined;
  if (room) {
    const r = site.room?.(room);
    return { zh: r?.nameZh ?? r?.name ?? room, en: r?.name ?? room, isRoom: true };
  }
  if (zone) {
    const z = site.zone?.(zone);
    return { zh: z?.nameZh ?? z?.name ?? `${zone} 区`, en: z?.name ?? `zone ${zone}`, isRoom: false };
  }
  if (venue) {
    const v = site.venue?.(venue);
    return { zh: v?.nameZh ?? v?.name ?? venue, en: v?.name ?? venue, isRoom: false };
  }
  if (target?.kind === 'parking') return { zh: '停车场', en: 'the car park', isRoom: false };
  return { zh: alert.rule, en: alert.rule, isRoom: false };
}

function fmtNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function fmtTime(iso: string | undefined, timezone: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    // sv-SE gives "2026-07-14 03:12:05": unambiguous for both audiences.
    return `${d.toLocaleString('sv-SE', { timeZone: timezone, hour12: false })} (${timezone})`;
  } catch {
    return iso;
  }
}

/**
 * Chinese and English text for one alert change. The English line carries the alert engine's own
 * message; the Chinese line is built from the severity, the change, the room's Chinese name and the value.
 */
export function describeAlert(alert: Alert, change: string, site: SiteNames = {}): AlertText {
  const sevZh = SEVERITY_ZH[alert.severity] ?? alert.severity;
  const sevEn = SEVERITY_EN[alert.severity] ?? alert.severity.toUpperCase();
  const changeZh = CHANGE_ZH[change] ?? change;
  const target = parseSubject(alert.subject);
  const kind = target?.kind === 'level' || target?.kind === 'room-level' ? 'levels' : target?.kind === 'pump' ? 'pumps' : undefined;
  const device = target?.kind === 'level' ? target.sensorId : target?.kind === 'pump' ? target.pumpId : undefined;
  const place = placeOf(alert, site);
  const placeZh = place.zh;
  const placeEn = place.en;

  let valueZh = '';
  if (alert.value !== undefined) {
    if (kind === 'levels') valueZh = `水位 ${fmtNumber(alert.value)} mm`;
    else if (kind === 'pumps') valueZh = `水泵${device ? ` ${device}` : ''} 读数 ${fmtNumber(alert.value)}`;
    else valueZh = `数值 ${fmtNumber(alert.value)}`;
  }
  const etaZh = alert.etaMin !== undefined ? `，按当前速度约 ${Math.round(alert.etaMin)} 分钟后到达${alert.etaTarget === 'floor' || !alert.etaTarget ? '地面' : alert.etaTarget}` : '';
  const etaEn = alert.etaMin !== undefined ? ` (reaches ${alert.etaTarget ?? 'the floor'} in ~${Math.round(alert.etaMin)} min at the current rate)` : '';

  // Storm mode's alert carries the warning: its Chinese words come from the storm renderer (storm/text.ts).
  const storm = alert.details?.rule === 'flood.storm-mode' && site.room ? new StormText({ timezone: site.timezone ?? 'Asia/Shanghai', room: (id) => site.room?.(id) }).alert(alert.details, Date.now(), 'zh') : null;
  const zhHead = storm !== null ? `【${sevZh}】${changeZh}：${storm}` : `【${sevZh}】${changeZh}：${placeZh}${device && kind === 'levels' ? ` ${device}` : ''}${valueZh ? ` ${valueZh}` : ''}${etaZh}`;
  const enHead = `[${sevEn}] ${change}: ${alert.message}${!place.isRoom || alert.message.includes(placeEn) ? '' : ` (${placeEn})`}${etaEn}`;

  // Devices and places by name, never the subject path ("flood/b1-power/levels/L1" is for machines).
  const tz = site.timezone ?? 'Asia/Shanghai';
  const where = device ? ` · ${device}` : '';
  const zhLines = [zhHead, `规则 ${alert.rule}，位置 ${placeZh}${where}`, `开始时间 ${fmtTime(alert.startedAt, tz)}`];
  const enLines = [enHead, `rule ${alert.rule}, at ${placeEn}${where}`, `started ${fmtTime(alert.startedAt, tz)}`];
  if (alert.ackedBy) {
    zhLines.push(`确认人 ${alert.ackedBy}${alert.ackNote ? `：${alert.ackNote}` : ''}`);
    enLines.push(`acknowledged by ${alert.ackedBy}${alert.ackNote ? `: ${alert.ackNote}` : ''}`);
  }
  if (alert.resolvedAt) {
    zhLines.push(`恢复时间 ${fmtTime(alert.resolvedAt, tz)}`);
    enLines.push(`resolved ${fmtTime(alert.resolvedAt, tz)}`);
  }
  const zh = zhLines.join('\n');
  const en = enLines.join('\n');
  const title = `${zhHead} / ${sevEn} ${change}`;
  // Markdown: heading line bold, the rest as quoted detail lines, Chinese first.
  const md = (lines: string[]) => [`**${lines[0]}**`, ...lines.slice(1).map((l) => `> ${l}`)].join('\n');
  return { title: truncateUtf8(title, 256), markdown: `${md(zhLines)}\n\n${md(enLines)}`, zh, en };
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > maxBytes - 3) break;
    out += ch;
    bytes += b;
  }
  return `${out}…`;
}

/** WeCom refuses markdown content over 4096 bytes. */
const WECOM_MAX_BYTES = 4096;

/** The request body for one alert change in the given format. */
export function buildBody(format: WebhookFormat, alert: Alert, change: string, text: AlertText): unknown {
  switch (format) {
    case 'wecom':
      return { msgtype: 'markdown', markdown: { content: truncateUtf8(text.markdown, WECOM_MAX_BYTES) } };
    case 'dingtalk':
      return { msgtype: 'markdown', markdown: { title: text.title, text: text.markdown } };
    case 'json':
      return { source: 'parkops', event: 'alert.changed', change, alert, text: { zh: text.zh, en: text.en } };
  }
}

/**
 * Robots answer 200 with their refusal in the body. WeCom and DingTalk: `{"errcode": n, "errmsg": ...}`,
 * errcode 0 is success. Feishu/Lark custom bots: `{"code": n, "msg": ..., "data": {}}`, and older answers
 * `{"StatusCode": n, "StatusMessage": ...}`; 0 is success (Feishu "自定义机器人使用指南"). `code` alone is
 * too common in other webhook answers to read as a refusal, so it counts only from a Feishu/Lark host.
 * Returns the refusal as a message, or null when the answer is a success or not a robot answer at all.
 */
export function robotError(responseText: string, url?: string): string | null {
  if (!responseText || responseText[0] !== '{') return null;
  let body: { errcode?: unknown; errmsg?: unknown; code?: unknown; msg?: unknown; StatusCode?: unknown; StatusMessage?: unknown };
  try {
    body = JSON.parse(responseText) as typeof body;
  } catch {
    return null; // not JSON: not a robot answer
  }
  if (typeof body.errcode === 'number' && body.errcode !== 0) return `errcode ${body.errcode}: ${String(body.errmsg ?? '')}`.trim();
  if (typeof body.StatusCode === 'number' && body.StatusCode !== 0) return `StatusCode ${body.StatusCode}: ${String(body.StatusMessage ?? '')}`.trim();
  if (typeof body.code === 'number' && body.code !== 0 && url !== undefined && isFeishuHost(url)) return `code ${body.code}: ${String(body.msg ?? '')}`.trim();
  return null;
}

/** Feishu (China) and Lark (international) custom bot hosts. */
function isFeishuHost(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'open.feishu.cn' || host === 'open.larksuite.com' || host === 'open.larkoffice.com';
  } catch {
    return false;
  }
}

/**
 * A webhook URL as it may be shown to viewers. Robot URLs carry their secret in the query
 * (`?key=`, `?access_token=`) and other services in a long path segment, so both are masked.
 */
export function redactTarget(target: string): string {
  try {
    const u = new URL(target);
    const path = u.pathname
      .split('/')
      .map((seg) => (seg.length >= 16 ? '***' : seg))
      .join('/');
    const query = [...u.searchParams.keys()].map((k) => `${k}=***`).join('&');
    return `${u.protocol}//${u.host}${path}${query ? `?${query}` : ''}`;
  } catch {
    return 'invalid URL';
  }
}
