/**
 * The weather service of the storm scenario: ahead of each storm it issues a rainstorm (暴雨) warning
 * for the site as CAP 1.2 XML, in a zh-CN and an en-US info block, on ParkOps' warnings topic
 * (`park/warnings/{source}`, MQTT QoS 1), and lifts it with a CAP Cancel once the water has gone.
 *
 * The documents are shaped like the CAP 1.2 specification's Appendix A.2 example (a Met warning
 * with responseType, an area with a polygon and geocodes), the way a Chinese weather service words
 * a yellow rainstorm warning. Times, relative to the storm's start (when the rain begins):
 * - issued (sent, effective) STORM_WARNING_LEAD_MS before it;
 * - onset STORM_WARNING_ONSET_LEAD_MS before it: forecasters put the onset ahead of the first rain;
 * - expires 6 hours after it; cancelled STORM_WARNING_CANCEL_AFTER_MS after it (the water is down).
 * A warning issued before the simulation starts and not yet cancelled goes out with the snapshot.
 */
import type { Site } from '@parkops/contract/site';
import type { Topics } from '@parkops/contract';
import { HOUR_MS, MINUTE_MS, type LocalTime } from '../local-time.ts';
import type { WeatherEvent } from '../scenarios.ts';
import type { SimContext, SimEvent, SimMessage } from '../types.ts';

export const STORM_WARNING_LEAD_MS = 60 * MINUTE_MS;
export const STORM_WARNING_ONSET_LEAD_MS = 30 * MINUTE_MS;
export const STORM_WARNING_EXPIRES_MS = 6 * HOUR_MS;
/** The storm profile's sewer head is back down 240 minutes after the start (scenarios.ts). */
export const STORM_WARNING_CANCEL_AFTER_MS = 250 * MINUTE_MS;
/** The warnings topic's source level and the sender of the simulated warnings. */
export const WEATHER_SOURCE = 'sim-weather';
export const WEATHER_SENDER = 'sim-weather@parkops.invalid';

interface Issued {
  storm: WeatherEvent;
  identifier: string;
  sentAt: number;
  alertXml: string;
  cancelXml: string;
  cancelAt: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class WeatherService {
  private readonly issued: Issued[];
  private readonly topic: string;

  constructor(
    private readonly site: Site,
    topics: Topics,
    private readonly local: LocalTime,
    storms: readonly WeatherEvent[],
  ) {
    this.topic = topics.warning(WEATHER_SOURCE);
    this.issued = storms.filter((s) => s.kind === 'storm').map((s) => this.issue(s));
  }

  /** Schedules the warnings and cancels due at or after `from`. */
  start(ctx: SimContext, from: number): void {
    for (const w of this.issued) {
      if (w.sentAt >= from) ctx.schedule(w.sentAt, this.sender(w, 'alert'));
      if (w.cancelAt >= from) ctx.schedule(w.cancelAt, this.sender(w, 'cancel'));
    }
  }

  /** At the start of the run: warnings already issued and not yet cancelled. */
  snapshot(ctx: SimContext): void {
    for (const w of this.issued) if (w.sentAt < ctx.now && w.cancelAt > ctx.now) ctx.emit(this.message(w.alertXml, ctx.now));
  }

  private sender(w: Issued, which: 'alert' | 'cancel'): SimEvent {
    return {
      fire: (ctx) => {
        if (!ctx.silent) ctx.emit(this.message(which === 'alert' ? w.alertXml : w.cancelXml, ctx.now));
      },
    };
  }

  private message(xml: string, at: number): SimMessage {
    return { topic: this.topic, payload: xml, qos: 1, retain: false, at, kind: 'warning', device: WEATHER_SOURCE };
  }

  /** CAP date-time: seconds, the site's offset (CAP 1.2 section 3.3.2). */
  private time(ms: number): string {
    const iso = this.local.iso(Math.floor(ms / 1000) * 1000);
    return `${iso.slice(0, 19)}${iso.slice(23)}`;
  }

  private issue(storm: WeatherEvent): Issued {
    const sentAt = storm.startAt - STORM_WARNING_LEAD_MS;
    const stamp = this.time(sentAt).slice(0, 16).replace(/[-T:]/g, '');
    const identifier = `SIM-${this.site.id}-${stamp}`;
    const sent = this.time(sentAt);
    const onset = this.time(storm.startAt - STORM_WARNING_ONSET_LEAD_MS);
    const expires = this.time(storm.startAt + STORM_WARNING_EXPIRES_MS);
    const cancelAt = storm.startAt + STORM_WARNING_CANCEL_AFTER_MS;
    const area = this.area();
    const head = (id: string, at: string, msgType: string, refs?: string): string =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">\n  <identifier>${id}</identifier>\n  <sender>${WEATHER_SENDER}</sender>\n` +
      `  <sent>${at}</sent>\n  <status>Actual</status>\n  <msgType>${msgType}</msgType>\n  <source>ParkOps simulators</source>\n  <scope>Public</scope>\n` +
      (refs ? `  <references>${refs}</references>\n` : '');
    const info = (lang: 'zh-CN' | 'en-US', text: { event: string; sender: string; headline: string; description: string; instruction: string; areaDesc: string }, when: { effective: string; onset?: string; expires: string }, urgency = 'Expected'): string =>
      `  <info>\n    <language>${lang}</language>\n    <category>Met</category>\n    <event>${esc(text.event)}</event>\n    <responseType>Prepare</responseType>\n` +
      `    <urgency>${urgency}</urgency>\n    <severity>Moderate</severity>\n    <certainty>Likely</certainty>\n` +
      `    <effective>${when.effective}</effective>\n${when.onset ? `    <onset>${when.onset}</onset>\n` : ''}    <expires>${when.expires}</expires>\n` +
      `    <senderName>${esc(text.sender)}</senderName>\n    <headline>${esc(text.headline)}</headline>\n    <description>${esc(text.description)}</description>\n` +
      `    <instruction>${esc(text.instruction)}</instruction>\n    <area>\n      <areaDesc>${esc(text.areaDesc)}</areaDesc>\n${area}    </area>\n  </info>\n`;
    const place = { zh: this.site.nameZh ?? this.site.name, en: this.site.name };
    const alertXml =
      head(identifier, sent, 'Alert') +
      info('zh-CN', {
        event: '暴雨',
        sender: '模拟气象台',
        headline: '模拟气象台发布暴雨黄色预警[Ⅲ级/较重]',
        description: `预计${this.time(storm.startAt).slice(11, 16)}起${place.zh}一带将出现暴雨，1小时降雨量可达50毫米以上，地下室和低洼处可能积水倒灌。`,
        instruction: '地下配电室、车库等低洼处做好排水和防倒灌准备；检查水泵，备好沙袋和挡水板。',
        areaDesc: place.zh,
      }, { effective: sent, onset, expires }) +
      info('en-US', {
        event: 'Rainstorm',
        sender: 'Simulated Meteorological Observatory',
        headline: 'Yellow rainstorm warning [level III / heavy]',
        description: `From about ${this.time(storm.startAt).slice(11, 16)} a rainstorm is expected over ${place.en}, over 50 mm of rain in an hour; basements and low spots may flood and take in backflow.`,
        instruction: 'Prepare drainage and backflow protection in basement power rooms and car parks; check the pumps, have sandbags and flood boards ready.',
        areaDesc: place.en,
      }, { effective: sent, onset, expires }) +
      '</alert>\n';
    const cancelSent = this.time(cancelAt);
    const cancelXml =
      head(`${identifier}-C`, cancelSent, 'Cancel', `${WEATHER_SENDER},${identifier},${sent}`) +
      info('zh-CN', { event: '暴雨', sender: '模拟气象台', headline: '模拟气象台解除暴雨黄色预警', description: '降雨已基本结束，暴雨黄色预警解除。', instruction: '检查积水和设备，恢复正常运行。', areaDesc: place.zh }, { effective: cancelSent, expires }, 'Past') +
      info('en-US', { event: 'Rainstorm', sender: 'Simulated Meteorological Observatory', headline: 'Yellow rainstorm warning lifted', description: 'The rain has mostly ended; the yellow rainstorm warning is lifted.', instruction: 'Check for standing water and equipment, then return to normal operation.', areaDesc: place.en }, { effective: cancelSent, expires }, 'Past') +
      '</alert>\n';
    return { storm, identifier, sentAt, alertXml, cancelXml, cancelAt };
  }

  /** A box of about ±15 km around the site's location and the site's first geocode, as the site file gives them. */
  private area(): string {
    let out = '';
    const loc = this.site.location;
    if (loc) {
      const d = 0.15;
      const p = (lat: number, lon: number): string => `${lat.toFixed(4)},${lon.toFixed(4)}`;
      const ring = [p(loc.lat - d, loc.lon - d), p(loc.lat - d, loc.lon + d), p(loc.lat + d, loc.lon + d), p(loc.lat + d, loc.lon - d), p(loc.lat - d, loc.lon - d)];
      out += `      <polygon>${ring.join(' ')}</polygon>\n`;
    }
    for (const g of this.site.cap.geocodes.slice(0, 1)) out += `      <geocode>\n        <valueName>${esc(g.valueName)}</valueName>\n        <value>${esc(g.value)}</value>\n      </geocode>\n`;
    return out;
  }
}
