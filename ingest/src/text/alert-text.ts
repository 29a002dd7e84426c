/**
 * Alert text for people, in English and Simplified Chinese, from the structured details each rule
 * reports (`AlertDetails`). This is the one place alert text is written: the alert engine's `message`
 * (in the site's language), the notifications (WeCom, DingTalk, Feishu, Web Push, webhooks) and the
 * dashboard (in the user's language) all render through it. Browser-safe: no Node APIs.
 *
 * Devices and rooms are named as the site file names them (the Chinese name in zh-CN), with the id
 * printed on the device ("1号液位传感器（雷达） L1"); never a topic path or subject. Times are the site's
 * local time (local-time.ts). The time to a threshold is not in the message: it travels as
 * `etaMin`/`etaTarget` and `eta()` says it, once, beside the message.
 */
import type { Alert, AlertDetails, AlertSeverity, FloodBand } from '@parkops/contract/api.ts';
import { parseSubject, roomOf } from '@parkops/contract/subjects.ts';
import { warningText } from '../storm/text.ts';
import { LocalTime } from './local-time.ts';
import { nameIn, type NameSource, type TextLang } from './types.ts';

type Role = 'duty' | 'standby';

const round = (x: number): string => String(Math.round(x));
const oneDecimal = (x: number): string => (Math.round(x * 10) / 10).toFixed(1);
const number = (x: number): string => (Number.isInteger(x) ? String(x) : oneDecimal(x));

type StormDetails = Extract<AlertDetails, { rule: 'flood.storm-mode' }>;
const STORM_ENDED_EN: Record<string, string> = { expired: 'the warning expired', cancelled: 'the warning was cancelled', updated: 'the warning was updated to one that is no longer a rainstorm or flood warning', disabled: 'storm mode was turned off for the room' };
const STORM_ENDED_ZH: Record<string, string> = { expired: '预警已到期', cancelled: '预警已解除', updated: '预警已更新，不再是暴雨或洪水预警', disabled: '该房间已关闭暴雨模式' };

/** Storm mode's alert: the warning that started it, its window, the rules in force; or when it ended and why. */
function stormMessage(d: StormDetails, r: Ctx, lang: 'en' | 'zh'): string {
  const room = r.room(d.room);
  const w = warningText(d.warning, lang);
  const title = w.headline ?? w.event;
  const t = (iso: string | undefined): string => (iso === undefined ? (lang === 'zh' ? '未定' : 'unset') : r.at(iso));
  const rules = d.rules;
  if (lang === 'zh') {
    if (d.ended) return `${room}：暴雨模式已于 ${t(d.ended.at)} 结束${d.ended.reason ? `（${STORM_ENDED_ZH[d.ended.reason]}）` : ''}；自 ${t(d.since)} 起因「${title}」进入暴雨模式`;
    return `${room}：暴雨模式，自 ${t(d.since)} 起。${title}（${w.event}），有效期 ${t(d.warning.onset)} 至 ${t(d.warning.expires)}。涨速告警阈值 ${rules.riseWarnMmPerMin} 毫米/分钟，水位段确认时间 ${rules.holdSec} 秒；请完成暴雨准备检查`;
  }
  if (d.ended) return `${room}: storm mode ended at ${t(d.ended.at)}${d.ended.reason ? ` (${STORM_ENDED_EN[d.ended.reason]})` : ''}; it began at ${t(d.since)} with "${title}"`;
  return `${room}: storm mode since ${t(d.since)}: "${title}" (${w.event}), in force ${t(d.warning.onset)} to ${t(d.warning.expires)}; rise alert at ${rules.riseWarnMmPerMin} mm/min, band hold ${rules.holdSec} s; work through the readiness checklist`;
}

/** The words of one language. Each renderer below is written whole per language, not glued from parts. */
interface Words {
  severity: Record<AlertSeverity, string>;
  band: Record<FloodBand, string>;
  role: Record<Role, string>;
  changes: Record<string, string>;
  rules: Record<string, string>;
  etaTargets: Record<string, string>;
  eta(minutes: number, target: string): string;
  etaNow(target: string): string;
  title(severity: string, change: string, headline: string): string;
  carPark: string;
  /** "Level sensor 2 (pressure) L2": the site's name and the id printed on the device. */
  device(name: string | undefined, id: string): string;
  message(d: AlertDetails, r: Ctx): string;
  headline(d: AlertDetails, r: Ctx): string;
}

/** What a renderer can look up while it words one alert. */
interface Ctx {
  room(id: string): string;
  device(roomId: string, id: string): string;
  zone(id: string | null): string;
  venue(id: string): string;
  at(iso: string): string;
}

const EN: Words = {
  severity: { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' },
  band: { normal: 'normal', warning: 'warning', alarm: 'alarm', critical: 'critical' },
  role: { duty: 'duty', standby: 'standby' },
  changes: { opened: 'new alert', updated: 'updated', worsened: 'worse', acknowledged: 'acknowledged', renotified: 'reminder', escalated: 'escalated', resolved: 'cleared', test: 'test' },
  rules: {
    'flood.level': 'Water level',
    'flood.rise': 'Water rising fast',
    'flood.sensors-disagree': 'Level sensors disagree',
    'pump.failed-start': 'Pump failed to start',
    'pump.no-effect': 'Pump not lowering the water',
    'pump.current': 'Pump current out of range',
    'pump.short-cycling': 'Pump short cycling',
    'device.stale': 'Device silent',
    'parking.full': 'Parking full',
    'venue.over-capacity': 'Over safe capacity',
    'parking.low-battery': 'Bay sensor batteries low',
    'flood.storm-mode': 'Storm mode',
  },
  etaTargets: { warn: 'the warning line', alarm: 'the alarm line', critical: 'the critical line', floor: 'the floor' },
  eta: (n, target) => `reaches ${target} in ~${n} min at the current rate`,
  etaNow: (target) => `at ${target} now`,
  title: (sev, change, headline) => `[${sev}] ${change}: ${headline}`,
  carPark: 'The car park',
  device: (name, id) => (name && name !== id ? `${name} ${id}` : id),
  headline(d, r) {
    switch (d.rule) {
      case 'flood.level':
        return d.levelMm === null ? `${r.room(d.room)}: ${d.band} band kept (no level reading)` : `${r.room(d.room)}: water ${round(d.levelMm)} mm, ${d.band}`;
      case 'flood.rise':
        return d.stopped !== undefined ? `${r.room(d.room)}: water no longer rising fast` : `${r.room(d.room)}: water rising ${oneDecimal(d.rateMmPerMin)} mm/min`;
      case 'flood.sensors-disagree':
        return `${r.room(d.room)}: level sensors disagree by ${round(d.diffMm)} mm`;
      case 'pump.failed-start':
        return `${r.room(d.room)}: pump ${r.device(d.room, d.pump)} failed to start`;
      case 'pump.no-effect':
        return `${r.room(d.room)}: pump ${r.device(d.room, d.pump)} not lowering the water`;
      case 'pump.current':
        return `${r.room(d.room)}: pump ${r.device(d.room, d.pump)} ${d.kind === 'dry' ? 'dry running' : 'jammed'}`;
      case 'pump.short-cycling':
        return `${r.room(d.room)}: pump ${r.device(d.room, d.pump)} short cycling`;
      case 'device.stale':
        return `${r.room(d.room)}: ${d.kind === 'level' ? 'level sensor' : 'pump'} ${r.device(d.room, d.device)} silent`;
      case 'flood.storm-mode':
        return d.ended ? `${r.room(d.room)}: storm mode ended` : `${r.room(d.room)}: storm mode`;
      case 'parking.full':
        return `${r.zone(d.zone)} is full`;
      case 'venue.over-capacity':
        return `${r.venue(d.venue)}: over its safe capacity`;
      case 'parking.low-battery':
        return `${r.zone(d.zone)}: ${d.bays.length} bay sensor${d.bays.length === 1 ? '' : 's'} low on battery`;
    }
  },
  message(d, r) {
    const outpace = '; the running and standby pumps should outpace it before the floor';
    switch (d.rule) {
      case 'flood.storm-mode':
        return stormMessage(d, r, 'en');
      case 'flood.level': {
        const room = r.room(d.room);
        if (d.levelMm === null) return `${room}: ${d.band} band (${d.band} at ${d.thresholdMm} mm) kept: no level sensor is reporting, the water was last seen in this band`;
        let text =
          d.clearing !== undefined
            ? `${room}: water back at ${round(d.levelMm)} mm, below the ${d.band} band (${d.band} at ${d.thresholdMm} mm); clears at ${r.at(d.clearing.at)} if it stays at or below ${d.clearing.belowMm} mm`
            : `${room}: water at ${round(d.levelMm)} mm, ${d.band} band (${d.band} at ${d.thresholdMm} mm)`;
        if (d.rateMmPerMin !== undefined) text += `; rising ${oneDecimal(d.rateMmPerMin)} mm/min`;
        if (d.pumpsOutpace === true) text += outpace;
        return text;
      }
      case 'flood.rise': {
        const room = r.room(d.room);
        if (d.stopped !== undefined) {
          return `${room}: water no longer rising fast (${oneDecimal(d.rateMmPerMin)} mm/min) since ${r.at(d.stopped.since)}; this alert clears at ${r.at(d.stopped.clearsAt)} if it stays so${d.levelMm !== null ? `, now ${round(d.levelMm)} mm` : ''}`;
        }
        let text = `${room}: water rising ${oneDecimal(d.rateMmPerMin)} mm/min over ${round(d.windowMin)} min (alert at ${d.warnMmPerMin} mm/min${d.storm === true ? ' in storm mode' : ''})`;
        if (d.levelMm !== null) text += `, now ${round(d.levelMm)} mm`;
        if (d.pumpsOutpace === true) text += outpace;
        return text;
      }
      case 'flood.sensors-disagree':
        return `${r.room(d.room)}: level sensors disagree by ${round(d.diffMm)} mm (${r.device(d.room, d.high.sensor)} ${round(d.high.mm)} mm, ${r.device(d.room, d.low.sensor)} ${round(d.low.mm)} mm; allowed ${d.allowedMm} mm); the room's level follows the higher one, check the lower sensor`;
      case 'pump.failed-start':
        return `${r.room(d.room)}: ${d.role} pump ${r.device(d.room, d.pump)} failed to start: water above its start level of ${d.startMm} mm since ${r.at(d.since)}, ${d.running === false ? 'not running' : 'not reporting whether it runs'} after ${d.graceSec} s`;
      case 'pump.no-effect':
        return `${r.room(d.room)}: ${d.role} pump ${r.device(d.room, d.pump)} is running but not moving water: level still rising ${oneDecimal(d.rateMmPerMin)} mm/min ${d.afterMin} min after it started, no drop at its start`;
      case 'pump.current':
        return d.kind === 'dry'
          ? `${r.room(d.room)}: ${d.role} pump ${r.device(d.room, d.pump)} is dry running: ${number(d.amps)} A below its ${d.ampsMin}-${d.ampsMax} A band`
          : `${r.room(d.room)}: ${d.role} pump ${r.device(d.room, d.pump)} is jammed: ${number(d.amps)} A above its ${d.ampsMin}-${d.ampsMax} A band`;
      case 'pump.short-cycling':
        return `${r.room(d.room)}: ${d.role} pump ${r.device(d.room, d.pump)} is short cycling: ${d.starts} starts in the last hour (at most ${d.maxPerHour})`;
      case 'device.stale': {
        const what = `${d.kind === 'level' ? 'level sensor' : 'pump'} ${r.device(d.room, d.device)}`;
        const since = r.at(d.since);
        const why =
          d.why === 'offline'
            ? `reported offline since ${since} and has sent nothing since`
            : d.why === 'never'
              ? `not heard from since ${since} (expected within ${d.expectedSec} s)`
              : `silent since ${since} (expected within ${d.expectedSec} s)`;
        return `${r.room(d.room)}: ${what} ${why}${d.blind ? '; no level sensor of the room is reporting' : ''}`;
      }
      case 'parking.full':
        return `${r.zone(d.zone)} is full: ${d.occupied} of ${d.total} bays occupied`;
      case 'venue.over-capacity':
        return `${r.venue(d.venue)}: ${d.people} people present, over its safe capacity of ${d.capacity} (${Math.round((d.people / d.capacity) * 100)} %)`;
      case 'parking.low-battery': {
        const named = d.bays.slice(0, d.listed).join(', ') + (d.bays.length > d.listed ? ` and ${d.bays.length - d.listed} more` : '');
        return `${r.zone(d.zone)}: ${d.bays.length} bay sensor${d.bays.length === 1 ? '' : 's'} below ${d.belowPct} % battery (${named})`;
      }
    }
  },
};

const ZH: Words = {
  severity: { critical: '严重', warning: '警告', info: '提示' },
  band: { normal: '正常', warning: '预警', alarm: '报警', critical: '危急' },
  role: { duty: '主泵', standby: '备用泵' },
  changes: { opened: '新告警', updated: '更新', worsened: '情况恶化', acknowledged: '已确认', renotified: '再次提醒', escalated: '升级通知', resolved: '已解除', test: '测试' },
  rules: {
    'flood.level': '水位',
    'flood.rise': '水位快速上涨',
    'flood.sensors-disagree': '水位传感器读数不一致',
    'pump.failed-start': '水泵未能启动',
    'pump.no-effect': '水泵运行但水位未降',
    'pump.current': '水泵电流异常',
    'pump.short-cycling': '水泵频繁启停',
    'device.stale': '设备失联',
    'parking.full': '车位已满',
    'venue.over-capacity': '超过安全容量',
    'parking.low-battery': '车位传感器电量低',
    'flood.storm-mode': '暴雨模式',
  },
  etaTargets: { warn: '预警线', alarm: '报警线', critical: '危急线', floor: '地面' },
  eta: (n, target) => `按当前速度约 ${n} 分钟后到达${target}`,
  etaNow: (target) => `已到达${target}`,
  title: (sev, change, headline) => `【${sev}】${change}：${headline}`,
  carPark: '停车场',
  device: (name, id) => (name && name !== id ? `${name} ${id}` : id),
  headline(d, r) {
    switch (d.rule) {
      case 'flood.storm-mode':
        return d.ended ? `${r.room(d.room)}：暴雨模式已结束` : `${r.room(d.room)}：暴雨模式`;
      case 'flood.level':
        return d.levelMm === null ? `${r.room(d.room)} 保持${ZH.band[d.band]}等级（无水位读数）` : `${r.room(d.room)} 水位 ${round(d.levelMm)} mm，${ZH.band[d.band]}`;
      case 'flood.rise':
        return d.stopped !== undefined ? `${r.room(d.room)} 水位已不再快速上涨` : `${r.room(d.room)} 水位快速上涨，每分钟 ${oneDecimal(d.rateMmPerMin)} mm`;
      case 'flood.sensors-disagree':
        return `${r.room(d.room)} 水位传感器读数相差 ${round(d.diffMm)} mm`;
      case 'pump.failed-start':
        return `${r.room(d.room)} ${r.device(d.room, d.pump)} 未能启动`;
      case 'pump.no-effect':
        return `${r.room(d.room)} ${r.device(d.room, d.pump)} 运行但水位未降`;
      case 'pump.current':
        return `${r.room(d.room)} ${r.device(d.room, d.pump)} ${d.kind === 'dry' ? '空转' : '卡堵'}`;
      case 'pump.short-cycling':
        return `${r.room(d.room)} ${r.device(d.room, d.pump)} 频繁启停`;
      case 'device.stale':
        return `${r.room(d.room)} ${d.kind === 'level' ? '水位传感器' : '水泵'} ${r.device(d.room, d.device)} 失联`;
      case 'parking.full':
        return `${r.zone(d.zone)}已满`;
      case 'venue.over-capacity':
        return `${r.venue(d.venue)}超过安全容量`;
      case 'parking.low-battery':
        return `${r.zone(d.zone)} ${d.bays.length} 个车位传感器电量低`;
    }
  },
  message(d, r) {
    const outpace = '；运行泵和备用泵的排水能力应能在水漫到地面前压住水位';
    switch (d.rule) {
      case 'flood.storm-mode':
        return stormMessage(d, r, 'zh');
      case 'flood.level': {
        const room = r.room(d.room);
        const band = ZH.band[d.band];
        if (d.levelMm === null) return `${room}：保持${band}等级（${band}线 ${d.thresholdMm} mm）：没有水位传感器在上报，最后读数在此等级`;
        let text =
          d.clearing !== undefined
            ? `${room}：水位回落至 ${round(d.levelMm)} mm，低于${band}线（${d.thresholdMm} mm）；若一直不高于 ${d.clearing.belowMm} mm，将于 ${r.at(d.clearing.at)} 解除`
            : `${room}：水位 ${round(d.levelMm)} mm，达到${band}等级（${band}线 ${d.thresholdMm} mm）`;
        if (d.rateMmPerMin !== undefined) text += `；每分钟上涨 ${oneDecimal(d.rateMmPerMin)} mm`;
        if (d.pumpsOutpace === true) text += outpace;
        return text;
      }
      case 'flood.rise': {
        const room = r.room(d.room);
        if (d.stopped !== undefined) {
          return `${room}：自 ${r.at(d.stopped.since)} 起水位已不再快速上涨（每分钟 ${oneDecimal(d.rateMmPerMin)} mm）；若保持，此告警将于 ${r.at(d.stopped.clearsAt)} 解除${d.levelMm !== null ? `，当前 ${round(d.levelMm)} mm` : ''}`;
        }
        let text = `${room}：水位 ${round(d.windowMin)} 分钟内每分钟上涨 ${oneDecimal(d.rateMmPerMin)} mm（${d.storm === true ? '暴雨模式下' : ''}告警线为每分钟 ${d.warnMmPerMin} mm）`;
        if (d.levelMm !== null) text += `，当前 ${round(d.levelMm)} mm`;
        if (d.pumpsOutpace === true) text += outpace;
        return text;
      }
      case 'flood.sensors-disagree':
        return `${r.room(d.room)}：水位传感器读数相差 ${round(d.diffMm)} mm（${r.device(d.room, d.high.sensor)} ${round(d.high.mm)} mm，${r.device(d.room, d.low.sensor)} ${round(d.low.mm)} mm；允许相差 ${d.allowedMm} mm）；房间水位按较高者计，请检查读数较低的传感器`;
      case 'pump.failed-start':
        return `${r.room(d.room)}：${ZH.role[d.role]} ${r.device(d.room, d.pump)} 未能启动：自 ${r.at(d.since)} 起水位高于其启动水位 ${d.startMm} mm，${d.graceSec} 秒后${d.running === false ? '仍未运行' : '仍未报告是否运行'}`;
      case 'pump.no-effect':
        return `${r.room(d.room)}：${ZH.role[d.role]} ${r.device(d.room, d.pump)} 在运行但没有排水：启动 ${d.afterMin} 分钟后水位仍每分钟上涨 ${oneDecimal(d.rateMmPerMin)} mm，启动时水位未见下降`;
      case 'pump.current':
        return d.kind === 'dry'
          ? `${r.room(d.room)}：${ZH.role[d.role]} ${r.device(d.room, d.pump)} 空转：电流 ${number(d.amps)} A，低于正常范围 ${d.ampsMin}–${d.ampsMax} A`
          : `${r.room(d.room)}：${ZH.role[d.role]} ${r.device(d.room, d.pump)} 卡堵：电流 ${number(d.amps)} A，高于正常范围 ${d.ampsMin}–${d.ampsMax} A`;
      case 'pump.short-cycling':
        return `${r.room(d.room)}：${ZH.role[d.role]} ${r.device(d.room, d.pump)} 频繁启停：近一小时启动 ${d.starts} 次（最多 ${d.maxPerHour} 次）`;
      case 'device.stale': {
        const what = `${d.kind === 'level' ? '水位传感器' : '水泵'} ${r.device(d.room, d.device)}`;
        const since = r.at(d.since);
        const why =
          d.why === 'offline'
            ? `自 ${since} 起报告离线，此后没有再上报`
            : d.why === 'never'
              ? `自 ${since} 起从未收到数据（应每 ${d.expectedSec} 秒内上报）`
              : `自 ${since} 起没有数据（应每 ${d.expectedSec} 秒内上报）`;
        return `${r.room(d.room)}：${what} ${why}${d.blind ? '；该房间已没有水位传感器在上报' : ''}`;
      }
      case 'parking.full':
        return `${r.zone(d.zone)}已满：${d.total} 个车位已占用 ${d.occupied} 个`;
      case 'venue.over-capacity':
        return `${r.venue(d.venue)}：现有 ${d.people} 人，超过安全容量 ${d.capacity} 人（${Math.round((d.people / d.capacity) * 100)}%）`;
      case 'parking.low-battery': {
        const named = d.bays.slice(0, d.listed).join('、') + (d.bays.length > d.listed ? ` 等，另有 ${d.bays.length - d.listed} 个` : '');
        return `${r.zone(d.zone)}：${d.bays.length} 个车位传感器电量低于 ${d.belowPct}%（${named}）`;
      }
    }
  },
};

const WORDS: Record<TextLang, Words> = { en: EN, 'zh-CN': ZH };

/** Where an alert without structured details is (an alert stored by an older release): its room, zone or venue by name. */
function placeOfSubject(subject: string, room: string | undefined, r: Ctx): string | undefined {
  const target = parseSubject(subject);
  const roomId = roomOf(target) ?? room;
  if (roomId) return r.room(roomId);
  if (target?.kind === 'zone') return r.zone(target.zoneId);
  if (target?.kind === 'venue' || target?.kind === 'venue-counts') return r.venue(target.venueId);
  if (target?.kind === 'parking') return r.zone(null);
  return undefined;
}

export class AlertText {
  readonly time: LocalTime;
  private readonly w: Words;

  constructor(
    readonly lang: TextLang,
    readonly timezone: string,
    private readonly names: NameSource,
  ) {
    this.time = new LocalTime(lang, timezone);
    this.w = WORDS[lang];
  }

  private ctx(now: number): Ctx {
    const { lang, names, w } = this;
    return {
      room: (id) => nameIn(lang, names.room(id), id),
      device: (roomId, id) => {
        const n = names.device(roomId, id);
        return w.device(n ? nameIn(lang, n, id) : undefined, id);
      },
      zone: (id) => (id === null ? w.carPark : nameIn(lang, names.zone(id), lang === 'zh-CN' ? `${id}区` : `Zone ${id}`)),
      venue: (id) => nameIn(lang, names.venue(id), id),
      at: (iso) => this.time.at(iso, now),
    };
  }

  /** The alert's message: what the rule found, in full. */
  message(d: AlertDetails, now: number): string {
    return this.w.message(d, this.ctx(now));
  }

  /** A short line: the place and the key figure (a notification title, the banner). */
  headline(d: AlertDetails): string {
    return this.w.headline(d, this.ctx(Date.now()));
  }

  /** An alert's message in this language: from its details, or its stored message when it has none. */
  alertMessage(a: Pick<Alert, 'details' | 'message'>, now: number): string {
    return a.details ? this.message(a.details, now) : a.message;
  }

  /** An alert's headline: from its details, or its rule and place. */
  alertHeadline(a: Pick<Alert, 'details' | 'rule' | 'subject' | 'room'>): string {
    if (a.details) return this.headline(a.details);
    const place = placeOfSubject(a.subject, a.room, this.ctx(Date.now()));
    const rule = this.rule(a.rule);
    return place ? (this.lang === 'zh-CN' ? `${place} ${rule}` : `${place}: ${rule}`) : rule;
  }

  /** "reaches the floor in ~12 min at the current rate", or null without an estimate. */
  eta(etaMin: number | null | undefined, etaTarget: string | null | undefined): string | null {
    if (etaMin === null || etaMin === undefined || !Number.isFinite(etaMin)) return null;
    const target = this.etaTarget(etaTarget);
    return etaMin <= 0 ? this.w.etaNow(target) : this.w.eta(Math.max(1, Math.round(etaMin)), target);
  }

  etaTarget(target: string | null | undefined): string {
    const key = (target ?? 'floor').replace(/Mm$/, '');
    return this.w.etaTargets[key] ?? this.w.etaTargets.floor!;
  }

  severity(s: AlertSeverity): string {
    return this.w.severity[s];
  }

  band(b: FloodBand): string {
    return this.w.band[b];
  }

  role(r: Role): string {
    return this.w.role[r];
  }

  /** An alert change (alerts/types.ts AlertChange) in words; an unknown one as it is. */
  change(c: string): string {
    return this.w.changes[c] ?? c;
  }

  /** A rule's title ("Water rising fast" / "水位快速上涨"); an unknown rule as it is. */
  rule(r: string): string {
    return this.w.rules[r] ?? r;
  }

  /** One line for a notification: "【严重】新告警：创启大厦B1配电室 水位 712 mm，危急". */
  title(a: Pick<Alert, 'details' | 'rule' | 'subject' | 'room' | 'severity'>, change: string): string {
    return this.w.title(this.severity(a.severity), this.change(change), this.alertHeadline(a));
  }
}
