/**
 * Words for alerts. The server's `message` is kept as the detail; the title and the
 * time-to-threshold line are built here so they read in the user's language.
 */
import { parseSubject, type SubjectKind } from '@parkops/ingest/contract/subjects.ts';
import type { Alert } from '@parkops/ingest/contract';
import type { MessageKey } from './i18n/messages.ts';
import { formatTime, type Translate } from './format.ts';

const SUBJECT_KINDS: Record<SubjectKind, MessageKey> = {
  parking: 'subject.parking',
  zone: 'subject.zone',
  bay: 'subject.bay',
  gate: 'subject.parking',
  room: 'subject.room',
  'room-level': 'subject.level',
  level: 'subject.level',
  pump: 'subject.pump',
  venue: 'subject.venue',
  'venue-counts': 'subject.venue',
  'device-status': 'subject.parking',
};

/** Rule names of the alert engine (ingest/src/alerts/types.ts RULES) with words in both languages. */
const RULE_KEYS: Record<string, MessageKey> = {
  'flood.level': 'rule.floodLevel',
  'flood.rise': 'rule.floodRise',
  'flood.storm-mode': 'rule.stormMode',
  'flood.sensors-disagree': 'rule.sensorsDisagree',
  'pump.failed-start': 'rule.pumpFailedStart',
  'pump.no-effect': 'rule.pumpNoEffect',
  'pump.current': 'rule.pumpCurrent',
  'pump.short-cycling': 'rule.pumpShortCycling',
  'device.stale': 'rule.deviceStale',
  'parking.full': 'rule.parkingFull',
  'venue.over-capacity': 'rule.venueOverCapacity',
  'parking.low-battery': 'rule.lowBattery',
};

/** "Pump failed to start · P2 · b1-power" from rule "pump.failed-start" and subject "flood/b1-power/pumps/P2". */
export function alertTitle(t: Translate, a: Alert, roomName: (id: string) => string | undefined = () => undefined): string {
  const s = parseSubject(a.subject);
  const room = (id: string): string => roomName(id) ?? id;
  let where: string[];
  switch (s?.kind) {
    case 'level':
      where = [s.sensorId, room(s.roomId)];
      break;
    case 'pump':
      where = [s.pumpId, room(s.roomId)];
      break;
    case 'room':
    case 'room-level':
      where = [room(s.roomId)];
      break;
    case 'zone':
      where = [s.zoneId];
      break;
    case 'bay':
      where = [s.bayId];
      break;
    case 'gate':
      where = [s.gateId];
      break;
    case 'venue':
    case 'venue-counts':
      where = [s.venueId];
      break;
    case 'device-status':
      where = [s.deviceId];
      break;
    case 'parking':
    case undefined:
      where = [];
      break;
  }
  const rule = RULE_KEYS[a.rule];
  if (rule) return [t(rule), ...where].join(' · ');
  if (!s) return a.subject;
  // No known rule: the kind of thing names it, "Water level L1 · B1 room", "Zone A".
  const [first, ...rest] = s.kind === 'room-level' ? ['', ...where] : where;
  return [`${t(SUBJECT_KINDS[s.kind])}${first ? ` ${first}` : ''}`, ...rest].join(' · ');
}

/** Most urgent first, then newest. */
export function bySeverity(a: Alert, b: Alert): number {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return rank[a.severity] - rank[b.severity] || b.startedAt.localeCompare(a.startedAt);
}

/**
 * The server's message plus the value and the time-to-threshold estimate when there is one. Storm
 * mode's alert is worded here from its details, in the reader's language (the warning's own block).
 */
export function describeAlert(t: Translate, a: Alert, lang = 'en'): string {
  if (a.details?.rule === 'flood.storm-mode') return stormAlertText(t, a.details, lang);
  const bits = [a.message];
  if (a.etaMin !== undefined && a.etaMin !== null && Number.isFinite(a.etaMin)) {
    bits.push(a.etaMin <= 0
      ? t('alert.etaNow', { target: etaTargetName(t, a.etaTarget) })
      : t('alert.eta', { n: Math.max(1, Math.round(a.etaMin)), target: etaTargetName(t, a.etaTarget) }));
  }
  return bits.join(' · ');
}

export function etaTargetName(t: Translate, target: string | undefined): string {
  switch (target) {
    case 'warn': case 'warnMm': return t('band.warn');
    case 'alarm': case 'alarmMm': return t('band.alarm');
    case 'critical': case 'criticalMm': return t('band.critical');
    case 'floor': case 'floorMm': case undefined: return t('band.floor');
    default: return target;
  }
}

type StormDetails = Extract<NonNullable<Alert['details']>, { rule: 'flood.storm-mode' }>;

function stormAlertText(t: Translate, d: StormDetails, lang: string): string {
  const want = lang === 'zh-CN' ? 'zh' : 'en';
  const block = d.warning.texts.find((x) => x.language.toLowerCase().startsWith(want)) ?? d.warning.texts[0];
  const headline = block?.headline ?? block?.event ?? d.warning.headline ?? d.warning.event;
  const time = (iso: string | undefined): string => formatTime(lang, iso, true);
  if (d.ended) return t('storm.alertEnded', { at: time(d.ended.at), since: time(d.since), headline });
  return t('storm.alert', { since: time(d.since), headline, onset: time(d.warning.onset), expires: time(d.warning.expires), rate: d.rules.riseWarnMmPerMin, hold: d.rules.holdSec });
}
