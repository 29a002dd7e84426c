/**
 * Alert messages for group robots and plain JSON webhooks, in the site's language first (Chinese for the
 * bundled site), then the other one; every line from the one renderer (text/alert-text.ts).
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
import type { Alert } from '@parkops/contract/api.ts';
import { AlertText, type Named, type NameSource, type TextLang } from '../text/index.ts';

export type WebhookFormat = 'wecom' | 'dingtalk' | 'json';
export type FormatSetting = WebhookFormat | 'auto';

/** `auto` picks by host: qyapi.weixin.qq.com is WeCom, oapi.dingtalk.com is DingTalk, anything else JSON. */
export function pickFormat(url: string, setting: FormatSetting = 'auto'): WebhookFormat {
  if (setting !== 'auto') return setting;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return 'json';
  }
  if (host === 'qyapi.weixin.qq.com') return 'wecom';
  if (host === 'oapi.dingtalk.com') return 'dingtalk';
  return 'json';
}

/** What a message needs to know about the site: its language, time zone and names in both languages. */
export interface SiteNames {
  /** The site's language: its block comes first. Missing: English, as the site file's default. */
  language?: TextLang | undefined;
  timezone?: string | undefined;
  room?(id: string): (Named & { levels?: (Named & { id: string })[]; pumps?: (Named & { id: string })[] }) | undefined;
  zone?(id: string): Named | undefined;
  venue?(id: string): Named | undefined;
}

export interface MessageText {
  /** One line in the site's language: the DingTalk title, a chat or lock-screen preview. */
  title: string;
  /** Markdown for the robots: the site's language first, then the other one. */
  markdown: string;
  /** The plain text in each language: a title line, then the details. */
  zh: string;
  en: string;
  /** The details in the site's language without the title (a push notification's body). */
  body: string;
}

const OTHER: Record<TextLang, TextLang> = { 'zh-CN': 'en', en: 'zh-CN' };

function namesOf(site: SiteNames): NameSource {
  return {
    room: (id) => site.room?.(id),
    device: (roomId, id) => {
      const r = site.room?.(roomId);
      return r?.levels?.find((l) => l.id === id) ?? r?.pumps?.find((p) => p.id === id);
    },
    zone: (id) => site.zone?.(id),
    venue: (id) => site.venue?.(id),
  };
}

/** The renderers for a site: its language first. Made once per channel, not per message. */
export class MessageWriter {
  readonly texts: [AlertText, AlertText];

  constructor(site: SiteNames = {}) {
    const lang = site.language ?? 'en';
    const tz = site.timezone ?? 'Asia/Shanghai';
    const names = namesOf(site);
    this.texts = [new AlertText(lang, tz, names), new AlertText(OTHER[lang], tz, names)];
  }

  get language(): TextLang {
    return this.texts[0].lang;
  }

  /** The lines of one alert change in one language, all from the renderer (text/alert-text.ts). */
  lines(t: AlertText, alert: Alert, change: string, now: number): string[] {
    const zh = t.lang === 'zh-CN';
    const out = [t.title(alert, change), t.alertMessage(alert, now)];
    const eta = alert.state === 'firing' ? t.eta(alert.etaMin, alert.etaTarget) : null;
    if (eta) out.push(eta);
    out.push(zh ? `开始时间 ${t.time.full(alert.startedAt)}` : `started ${t.time.full(alert.startedAt)}`);
    if (alert.ackedBy) {
      const note = alert.ackNote ? (zh ? `：${alert.ackNote}` : `: ${alert.ackNote}`) : '';
      out.push(zh ? `确认人 ${alert.ackedBy}${note}` : `acknowledged by ${alert.ackedBy}${note}`);
    }
    if (alert.resolvedAt) out.push(zh ? `解除时间 ${t.time.full(alert.resolvedAt)}` : `cleared ${t.time.full(alert.resolvedAt)}`);
    return out;
  }

  describe(alert: Alert, change: string, now: number = Date.now()): MessageText {
    const [first, second] = this.texts;
    const a = this.lines(first, alert, change, now);
    const b = this.lines(second, alert, change, now);
    const byLang = { [first.lang]: a, [second.lang]: b } as Record<TextLang, string[]>;
    // Markdown: the title line bold, the rest as quoted detail lines; the site's language first.
    const md = (lines: string[]) => [`**${lines[0]}**`, ...lines.slice(1).map((l) => `> ${l}`)].join('\n');
    return {
      title: truncateUtf8(a[0] ?? '', 256),
      markdown: `${md(a)}\n\n${md(b)}`,
      zh: byLang['zh-CN'].join('\n'),
      en: byLang.en.join('\n'),
      body: a.slice(1).join('\n'),
    };
  }
}

/** Text for one alert change in the site's language and the other one (see MessageWriter). */
export function describeAlert(alert: Alert, change: string, site: SiteNames = {}, now: number = Date.now()): MessageText {
  return new MessageWriter(site).describe(alert, change, now);
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
export function buildBody(format: WebhookFormat, alert: Alert, change: string, text: MessageText): unknown {
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
  if (typeof body.errcode === 'number' && body.errcode !== 0) return `errcode ${body.errcode}: ${typeof body.errmsg === 'string' ? body.errmsg : ''}`.trim();
  if (typeof body.StatusCode === 'number' && body.StatusCode !== 0) return `StatusCode ${body.StatusCode}: ${typeof body.StatusMessage === 'string' ? body.StatusMessage : ''}`.trim();
  if (typeof body.code === 'number' && body.code !== 0 && url !== undefined && isFeishuHost(url)) return `code ${body.code}: ${typeof body.msg === 'string' ? body.msg : ''}`.trim();
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
