/**
 * Words for alerts. The server's `message` is kept as the detail; the title and the
 * time-to-threshold line are built here so they read in the user's language.
 */
import type { Alert } from '@parkops/ingest/contract';
import type { MessageKey } from './i18n/messages.ts';
import type { Translate } from './format.ts';

const SUBJECT_KINDS: Record<string, MessageKey> = {
  levels: 'subject.level',
  pumps: 'subject.pump',
  bays: 'subject.bay',
  zones: 'subject.zone',
  venues: 'subject.venue',
  parking: 'subject.parking',
  flood: 'subject.room',
};

/** Rule names of the alert engine (ingest/src/alerts/types.ts RULES) with words in both languages. */
const RULE_KEYS: Record<string, MessageKey> = {
  'flood.level': 'rule.floodLevel',
  'flood.rise': 'rule.floodRise',
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
  const parts = a.subject.split('/');
  if (parts[0] === 'flood' && parts[1]) parts[1] = roomName(parts[1]) ?? parts[1];
  const rule = RULE_KEYS[a.rule];
  if (rule) {
    const where = parts[0] === 'flood' ? [parts[3], parts[1]].filter(Boolean).join(' · ') : parts.slice(1).join('/');
    return where ? `${t(rule)} · ${where}` : t(rule);
  }
  if (parts[0] === 'flood' && parts.length >= 4) {
    const key = SUBJECT_KINDS[parts[2]!];
    return `${key ? t(key) : parts[2]} ${parts[3]} · ${parts[1]}`;
  }
  if (parts[0] === 'flood' && parts.length === 3) {
    const key = SUBJECT_KINDS[parts[2]!];
    return `${key ? t(key) : parts[2]} · ${parts[1]}`;
  }
  if (parts[0] === 'flood' && parts.length >= 2) return `${t('subject.room')} ${parts[1]}`;
  const key = SUBJECT_KINDS[parts[0]!];
  return key ? `${t(key)} ${parts.slice(1).join('/')}`.trim() : a.subject;
}

/** Most urgent first, then newest. */
export function bySeverity(a: Alert, b: Alert): number {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return rank[a.severity] - rank[b.severity] || b.startedAt.localeCompare(a.startedAt);
}

/** The server's message plus the value and the time-to-threshold estimate when there is one. */
export function describeAlert(t: Translate, a: Alert): string {
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
