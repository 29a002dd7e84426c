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

/** "Water level L1 · b1-power" from subject "flood/b1-power/levels/L1". */
export function alertTitle(t: Translate, a: Alert): string {
  const parts = a.subject.split('/');
  if (parts[0] === 'flood' && parts.length >= 4) {
    const key = SUBJECT_KINDS[parts[2]!];
    return `${key ? t(key) : parts[2]} ${parts[3]} · ${parts[1]}`;
  }
  if (parts[0] === 'flood' && parts.length >= 2) return `${t('subject.room')} ${parts[1]}`;
  const key = SUBJECT_KINDS[parts[0]!];
  return key ? `${t(key)} ${parts.slice(1).join('/')}`.trim() : a.subject;
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
