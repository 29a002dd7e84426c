/**
 * Words for storm mode and the readiness checklist, in English and Chinese, from structured details
 * (DESIGN: text is rendered from `details`, in the site's language for notifications and the alert's
 * `message`, in the reader's language on the dashboard). Times are site-local wall-clock times, never
 * ISO UTC; rooms, pumps and sensors are named as the site file names them.
 *
 * `alerts/messages.ts` (the English alert renderer) and the notification texts call these for the
 * `flood.storm-mode` alert; the storm module writes the checklist's timeline lines with them.
 */
import type { ChecklistFinding, ChecklistItemView, ChecklistState, StormWarningRef } from '@parkops/contract/api.ts';

/** What the words need of the site: its time zone and names (the Site class has them; so do the notifications' site names). */
export interface StormTextSite {
  timezone: string;
  room(id: string):
    | { name: string; nameZh?: string | undefined; pumps?: readonly { id: string; role: 'duty' | 'standby' }[]; levels?: readonly { id: string; name: string }[] }
    | undefined;
}

export type Lang = 'en' | 'zh';

/** Site-local time: "05:15" on the same local day as `now`, else "1 Dec 21:15" / "12月1日 21:15". */
export class StormClock {
  private readonly time: Intl.DateTimeFormat;
  private readonly parts: Intl.DateTimeFormat;
  private readonly dayKey: Intl.DateTimeFormat;

  constructor(timezone: string) {
    this.time = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    this.parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, day: 'numeric', month: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    this.dayKey = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  at(iso: string | undefined, now: number, lang: Lang): string {
    if (iso === undefined) return lang === 'zh' ? '未定' : 'unset';
    const ms = Date.parse(iso);
    if (!Number.isFinite(ms)) return iso;
    const hm = this.time.format(ms);
    if (this.dayKey.format(ms) === this.dayKey.format(now)) return hm;
    const p = Object.fromEntries(this.parts.formatToParts(ms).map((x) => [x.type, x.value]));
    const day = Number(p.day);
    const month = Number(p.month);
    if (lang === 'zh') return `${month}月${day}日 ${hm}`;
    const name = new Intl.DateTimeFormat('en-GB', { month: 'short', timeZone: 'UTC' }).format(Date.UTC(2000, month - 1, 1));
    return `${day} ${name} ${hm}`;
  }
}

/** The warning's text in a language: its block in that language, else the first. */
export function warningText(w: StormWarningRef, lang: Lang): { event: string; headline: string | undefined } {
  const block = w.texts.find((t) => t.language.toLowerCase().startsWith(lang)) ?? w.texts[0];
  return { event: block?.event ?? w.event, headline: block?.headline ?? w.headline };
}


export class StormText {
  private readonly clock: StormClock;

  constructor(private readonly site: StormTextSite) {
    this.clock = new StormClock(site.timezone);
  }

  roomName(id: string, lang: Lang): string {
    const r = this.site.room(id);
    return lang === 'zh' ? (r?.nameZh ?? r?.name ?? id) : (r?.name ?? id);
  }

  /** The storm warning now in force (a warning updated while in storm mode), for the timeline. */
  warningLine(w: StormWarningRef, now: number, lang: Lang): string {
    const x = warningText(w, lang);
    const t = (iso: string | undefined): string => this.clock.at(iso, now, lang);
    return lang === 'zh'
      ? `预警更新：「${x.headline ?? x.event}」（${x.event}），有效期 ${t(w.onset)} 至 ${t(w.expires)}`
      : `warning now: "${x.headline ?? x.event}" (${x.event}, ${w.severity}), in force ${t(w.onset)} to ${t(w.expires)}`;
  }

  private pumpName(roomId: string, id: string, lang: Lang): string {
    const p = this.site.room(roomId)?.pumps?.find((x) => x.id === id);
    if (!p) return id;
    const role = lang === 'zh' ? (p.role === 'duty' ? '主泵' : '备用泵') : p.role === 'duty' ? 'duty pump' : 'standby pump';
    return `${role} ${id}`;
  }

  private sensorName(roomId: string, id: string, lang: Lang): string {
    return lang === 'zh' ? `液位传感器 ${id}` : (() => {
      const l = this.site.room(roomId)?.levels?.find((x) => x.id === id);
      return l && l.name !== id ? `level sensor ${l.name} ${id}` : `level sensor ${id}`;
    })();
  }

  /** One finding, as a short phrase. */
  finding(roomId: string, f: ChecklistFinding, now: number, lang: Lang): string {
    const t = (iso: string | null | undefined): string => (iso ? this.clock.at(iso, now, lang) : lang === 'zh' ? '从未' : 'never');
    const pump = (id: string): string => this.pumpName(roomId, id, lang);
    const days = (n: number | null): string => (n === null ? '?' : (Math.round(n * 10) / 10).toFixed(1));
    const zh = lang === 'zh';
    switch (f.code) {
      case 'pump-running':
        return zh ? `${pump(f.pump)} 正在运行` : `${pump(f.pump)} is running now`;
      case 'pump-ran':
        return zh ? `${pump(f.pump)} 最近运行于 ${t(f.lastRunAt)}（${days(f.idleDays)} 天前）` : `${pump(f.pump)} last ran ${t(f.lastRunAt)} (${days(f.idleDays)} days ago)`;
      case 'pump-idle':
        return f.lastRunAt === null
          ? zh ? `${pump(f.pump)} 近 ${f.lookbackDays} 天内未见运行（要求 ${f.maxIdleDays} 天内）` : `${pump(f.pump)} not seen running in the last ${f.lookbackDays} days (must run every ${f.maxIdleDays})`
          : zh ? `${pump(f.pump)} 已闲置 ${days(f.idleDays)} 天，最近运行于 ${t(f.lastRunAt)}（要求 ${f.maxIdleDays} 天内）` : `${pump(f.pump)} idle ${days(f.idleDays)} days, last ran ${t(f.lastRunAt)} (must run every ${f.maxIdleDays})`;
      case 'standby-started':
        return zh
          ? `${pump(f.pump)} 最近一次于 ${t(f.startedAt)} 启动${f.amps !== null ? `，电流 ${f.amps} A（正常 ${f.ampsMin}-${f.ampsMax} A）` : ''}`
          : `${pump(f.pump)} last started ${t(f.startedAt)}${f.amps !== null ? `, ${f.amps} A (normal ${f.ampsMin}-${f.ampsMax} A)` : ''}`;
      case 'standby-current':
        return zh ? `${pump(f.pump)} 于 ${t(f.startedAt)} 启动时电流 ${f.amps} A，超出正常范围 ${f.ampsMin}-${f.ampsMax} A` : `${pump(f.pump)} started ${t(f.startedAt)} at ${f.amps} A, outside its normal ${f.ampsMin}-${f.ampsMax} A`;
      case 'standby-no-current':
        return zh ? `${pump(f.pump)} 于 ${t(f.startedAt)} 启动，但未上报电流` : `${pump(f.pump)} started ${t(f.startedAt)} but reported no current`;
      case 'standby-not-started':
        return zh ? `${pump(f.pump)} 近 ${f.lookbackDays} 天内未见启动` : `${pump(f.pump)} not seen starting in the last ${f.lookbackDays} days`;
      case 'standby-alert':
        return zh ? `${pump(f.pump)} 有未恢复的水泵告警（${f.rule}）` : `${pump(f.pump)} has an open pump alert (${f.rule})`;
      case 'no-standby':
        return zh ? '本房间没有备用泵' : 'the room has no standby pump';
      case 'sensor-fresh':
        return zh ? `${this.sensorName(roomId, f.sensor, lang)} 在线，最近上报 ${t(f.lastSeen)}` : `${this.sensorName(roomId, f.sensor, lang)} reporting, last heard ${t(f.lastSeen)}`;
      case 'sensor-stale':
        return zh ? `${this.sensorName(roomId, f.sensor, lang)} 无上报，最近一次 ${t(f.lastSeen)}` : `${this.sensorName(roomId, f.sensor, lang)} silent, last heard ${t(f.lastSeen)}`;
      case 'route-ok':
        return zh ? `${channelName(f.channel, lang)} 最近一次发送成功（${t(f.at)}）` : `${channelName(f.channel, lang)}: last delivery went through (${t(f.at)})`;
      case 'route-failed':
        return zh ? `${channelName(f.channel, lang)} 最近一次发送失败（${t(f.at)}）` : `${channelName(f.channel, lang)}: last delivery failed (${t(f.at)}${f.error ? `: ${f.error}` : ''})`;
      case 'route-untried':
        return zh ? `${channelName(f.channel, lang)} 已配置，尚未发送过` : `${channelName(f.channel, lang)}: configured, nothing sent yet`;
      case 'no-route':
        return zh ? '未配置任何通知渠道：仪表板之外无人会收到告警' : 'no notification channel is configured: nobody outside the dashboard is told';
      case 'ticked':
        return zh ? `${f.by} 于 ${t(f.at)} 确认完成${f.note ? `：${f.note}` : ''}` : `ticked by ${f.by} at ${t(f.at)}${f.note ? `: ${f.note}` : ''}`;
      case 'unticked':
        return zh ? `${f.by} 于 ${t(f.at)} 取消确认${f.note ? `：${f.note}` : ''}` : `unticked by ${f.by} at ${t(f.at)}${f.note ? `: ${f.note}` : ''}`;
      case 'not-ticked':
        return zh ? '尚无人确认' : 'nobody has ticked it yet';
      case 'no-data':
        return zh ? `无法检查：${f.reason}` : `could not be checked: ${f.reason}`;
    }
  }

  /** "Every pump has run in the last 7 days: flagged: standby pump P2 idle 8.0 days ..." (the timeline line). */
  item(roomId: string, item: ChecklistItemView, now: number, lang: Lang): string {
    const text = lang === 'zh' ? (item.textZh ?? item.text) : item.text;
    const findings = item.findings.map((f) => this.finding(roomId, f, now, lang)).join(lang === 'zh' ? '；' : '; ');
    return `${text}: ${stateName(item.state, lang)}${findings ? ` (${findings})` : ''}`;
  }
}

export function stateName(s: ChecklistState, lang: Lang): string {
  const en: Record<ChecklistState, string> = { ok: 'ok', flagged: 'FLAGGED', unknown: 'not checked', todo: 'to do' };
  const zh: Record<ChecklistState, string> = { ok: '正常', flagged: '有问题', unknown: '无法检查', todo: '待确认' };
  return lang === 'zh' ? zh[s] : en[s];
}

function channelName(channel: string, lang: Lang): string {
  const names: Record<string, [string, string]> = {
    webhook: ['the webhook', 'Webhook'],
    wecom: ['the WeCom robot', '企业微信机器人'],
    dingtalk: ['the DingTalk robot', '钉钉机器人'],
    feishu: ['the Feishu robot', '飞书机器人'],
    webpush: ['phone push', '手机推送'],
    escalation: ['the escalation contacts', '升级联系人'],
  };
  const n = names[channel];
  return n ? (lang === 'zh' ? n[1] : n[0]) : channel;
}
