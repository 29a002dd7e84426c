/**
 * Words for the readiness checklist (docs/warnings.md): each finding the server reports, structured,
 * worded here in the reader's language. Times are the reader's local time.
 */
import type { ChecklistFinding, FloodRoomView } from '@parkops/contract';
import type { MessageKey } from './i18n/messages.ts';
import { formatNumber, formatTime, type Translate } from './format.ts';

const CHANNELS: Record<string, MessageKey> = {
  webhook: 'storm.channel.webhook',
  wecom: 'storm.channel.wecom',
  dingtalk: 'storm.channel.dingtalk',
  feishu: 'storm.channel.feishu',
  webpush: 'storm.channel.webpush',
  escalation: 'storm.channel.escalation',
};

export function pumpLabel(t: Translate, room: Pick<FloodRoomView, 'pumps'>, id: string): string {
  const p = room.pumps.find((x) => x.id === id);
  return t(p?.role === 'standby' ? 'storm.pump.standby' : 'storm.pump.duty', { id });
}

export function findingText(t: Translate, lang: string, room: Pick<FloodRoomView, 'pumps'>, f: ChecklistFinding): string {
  const time = (iso: string | null | undefined): string => (iso ? formatTime(lang, iso, true) : t('storm.f.never'));
  const days = (n: number | null): string => formatNumber(lang, n, 1);
  const pump = (id: string): string => pumpLabel(t, room, id);
  const channel = (c: string): string => (CHANNELS[c] ? t(CHANNELS[c]) : c);
  switch (f.code) {
    case 'pump-running':
      return t('storm.f.pumpRunning', { pump: pump(f.pump) });
    case 'pump-ran':
      return t('storm.f.pumpRan', { pump: pump(f.pump), time: time(f.lastRunAt), days: days(f.idleDays) });
    case 'pump-idle':
      return f.lastRunAt === null
        ? t('storm.f.pumpNever', { pump: pump(f.pump), lookback: f.lookbackDays, max: f.maxIdleDays })
        : t('storm.f.pumpIdle', { pump: pump(f.pump), days: days(f.idleDays), time: time(f.lastRunAt), max: f.maxIdleDays });
    case 'standby-started':
      return f.amps === null
        ? t('storm.f.standbyNoCurrent', { pump: pump(f.pump), time: time(f.startedAt) })
        : t('storm.f.standbyStarted', { pump: pump(f.pump), time: time(f.startedAt), amps: formatNumber(lang, f.amps, 1), min: f.ampsMin, max: f.ampsMax });
    case 'standby-current':
      return t('storm.f.standbyCurrent', { pump: pump(f.pump), time: time(f.startedAt), amps: formatNumber(lang, f.amps, 1), min: f.ampsMin, max: f.ampsMax });
    case 'standby-no-current':
      return t('storm.f.standbyNoCurrent', { pump: pump(f.pump), time: time(f.startedAt) });
    case 'standby-not-started':
      return t('storm.f.standbyNotStarted', { pump: pump(f.pump), lookback: f.lookbackDays });
    case 'standby-alert':
      return t('storm.f.standbyAlert', { pump: pump(f.pump) });
    case 'no-standby':
      return t('storm.f.noStandby');
    case 'sensor-fresh':
      return t('storm.f.sensorFresh', { sensor: t('storm.sensor', { id: f.sensor }), time: time(f.lastSeen) });
    case 'sensor-stale':
      return t('storm.f.sensorStale', { sensor: t('storm.sensor', { id: f.sensor }), time: time(f.lastSeen) });
    case 'route-ok':
      return t('storm.f.routeOk', { channel: channel(f.channel), time: time(f.at) });
    case 'route-failed':
      return t('storm.f.routeFailed', { channel: channel(f.channel), time: time(f.at) });
    case 'route-untried':
      return t('storm.f.routeUntried', { channel: channel(f.channel) });
    case 'no-route':
      return t('storm.f.noRoute');
    case 'ticked':
      return t('storm.f.ticked', { by: f.by, time: time(f.at) }) + (f.note ? `: ${f.note}` : '');
    case 'unticked':
      return t('storm.f.unticked', { by: f.by, time: time(f.at) }) + (f.note ? `: ${f.note}` : '');
    case 'not-ticked':
      return t('storm.f.notTicked');
    case 'no-data':
      return t('storm.f.noData');
  }
}
