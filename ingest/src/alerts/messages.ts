/**
 * Alert messages for people, rendered from the structured details each rule reports. This is the one
 * place English alert text is written: rules say what they found (values, thresholds, times, device and
 * room ids) and never format text themselves, so another renderer (zh-CN) can read the same details.
 *
 * Times are the site's local time ("since 05:15:20" today, "since 1 Dec 21:15" another day), never ISO
 * UTC. Devices and rooms are named as the site file names them, never by topic path. The time to a
 * threshold is not in the text: it travels as `etaMin`/`etaTarget`, and whoever shows the alert (the
 * dashboard, the webhook text) says it once, in the reader's language.
 */
import type { AlertDetails } from '../contract/api.ts';
import type { Site } from '../site/index.ts';
import { StormText } from '../storm/text.ts';

export type { AlertDetails } from '../contract/api.ts';

const round = (x: number): number => Math.round(x);
const oneDecimal = (x: number): string => (Math.round(x * 10) / 10).toFixed(1);

/** Local wall-clock text in the site's time zone, relative to `now`. */
export class LocalTimeText {
  private readonly time: Intl.DateTimeFormat;
  private readonly dayMonth: Intl.DateTimeFormat;
  private readonly dayKey: Intl.DateTimeFormat;

  constructor(readonly timezone: string) {
    this.time = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    this.dayMonth = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    this.dayKey = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  }

  /** "05:15:20" on the same local day as `now`, else "1 Dec 21:15". */
  at(iso: string, now: number): string {
    const ms = Date.parse(iso);
    if (!Number.isFinite(ms)) return iso;
    if (this.dayKey.format(ms) === this.dayKey.format(now)) return this.time.format(ms);
    return this.dayMonth.format(ms).replace(',', '');
  }
}

export class AlertMessages {
  private readonly clock: LocalTimeText;
  private readonly storm: StormText;

  constructor(private readonly site: Site) {
    this.clock = new LocalTimeText(site.timezone);
    this.storm = new StormText(site);
  }

  private roomName(id: string): string {
    return this.site.room(id)?.name ?? id;
  }

  /** "Level sensor 2 (pressure) L2": the site's name, and the id printed on the device. */
  private deviceName(roomId: string, id: string): string {
    const room = this.site.room(roomId);
    const name = room?.levels.find((l) => l.id === id)?.name ?? room?.pumps.find((p) => p.id === id)?.name;
    return name && name !== id ? `${name} ${id}` : id;
  }

  /** A time for people, in the site's zone (see LocalTimeText). */
  localTime(ms: number, now: number): string {
    return this.clock.at(new Date(ms).toISOString(), now);
  }

  private since(iso: string, now: number): string {
    return `since ${this.clock.at(iso, now)}`;
  }

  render(d: AlertDetails, now: number): string {
    switch (d.rule) {
      case 'flood.level': {
        const room = this.roomName(d.room);
        if (d.levelMm === null) return `${room}: ${d.band} band (${d.band} at ${d.thresholdMm} mm) kept: no level sensor is reporting, the water was last seen in this band`;
        let text =
          d.clearing !== undefined
            ? `${room}: water back at ${round(d.levelMm)} mm, below the ${d.band} band (${d.band} at ${d.thresholdMm} mm); clears at ${this.clock.at(d.clearing.at, now)} if it stays at or below ${d.clearing.belowMm} mm`
            : `${room}: water at ${round(d.levelMm)} mm, ${d.band} band (${d.band} at ${d.thresholdMm} mm)`;
        if (d.rateMmPerMin !== undefined) text += `; rising ${oneDecimal(d.rateMmPerMin)} mm/min`;
        if (d.pumpsOutpace === true) text += '; the running and standby pumps should outpace it before the floor';
        return text;
      }
      case 'flood.rise': {
        const room = this.roomName(d.room);
        if (d.stopped !== undefined) {
          return `${room}: water no longer rising fast (${oneDecimal(d.rateMmPerMin)} mm/min) ${this.since(d.stopped.since, now)}; this alert clears at ${this.clock.at(d.stopped.clearsAt, now)} if it stays so${d.levelMm !== null ? `, now ${round(d.levelMm)} mm` : ''}`;
        }
        let text = `${room}: water rising ${oneDecimal(d.rateMmPerMin)} mm/min over ${round(d.windowMin)} min (alert at ${d.warnMmPerMin} mm/min${d.storm === true ? ' in storm mode' : ''})`;
        if (d.levelMm !== null) text += `, now ${round(d.levelMm)} mm`;
        if (d.pumpsOutpace === true) text += '; the running and standby pumps should outpace it before the floor';
        return text;
      }
      case 'flood.storm-mode':
        return this.storm.alert(d, now, 'en');
      case 'flood.sensors-disagree':
        return `${this.roomName(d.room)}: level sensors disagree by ${round(d.diffMm)} mm (${this.deviceName(d.room, d.high.sensor)} ${round(d.high.mm)} mm, ${this.deviceName(d.room, d.low.sensor)} ${round(d.low.mm)} mm; allowed ${d.allowedMm} mm); the room's level follows the higher one, check the lower sensor`;
      case 'pump.failed-start':
        return `${this.roomName(d.room)}: ${d.role} pump ${this.deviceName(d.room, d.pump)} failed to start: water above its start level of ${d.startMm} mm ${this.since(d.since, now)}, ${d.running === false ? 'not running' : 'not reporting whether it runs'} after ${d.graceSec} s`;
      case 'pump.no-effect':
        return `${this.roomName(d.room)}: ${d.role} pump ${this.deviceName(d.room, d.pump)} is running but not moving water: level still rising ${oneDecimal(d.rateMmPerMin)} mm/min ${d.afterMin} min after it started, no drop at its start`;
      case 'pump.current':
        return d.kind === 'dry'
          ? `${this.roomName(d.room)}: ${d.role} pump ${this.deviceName(d.room, d.pump)} is dry running: ${d.amps} A below its ${d.ampsMin}-${d.ampsMax} A band`
          : `${this.roomName(d.room)}: ${d.role} pump ${this.deviceName(d.room, d.pump)} is jammed: ${d.amps} A above its ${d.ampsMin}-${d.ampsMax} A band`;
      case 'pump.short-cycling':
        return `${this.roomName(d.room)}: ${d.role} pump ${this.deviceName(d.room, d.pump)} is short cycling: ${d.starts} starts in the last hour (at most ${d.maxPerHour})`;
      case 'device.stale': {
        const what = `${d.kind === 'level' ? 'level sensor' : 'pump'} ${this.deviceName(d.room, d.device)}`;
        const why =
          d.why === 'offline'
            ? `reported offline ${this.since(d.since, now)} and has sent nothing since`
            : d.why === 'never'
              ? `not heard from ${this.since(d.since, now)} (expected within ${d.expectedSec} s)`
              : `silent ${this.since(d.since, now)} (expected within ${d.expectedSec} s)`;
        let text = `${this.roomName(d.room)}: ${what} ${why}`;
        if (d.blind) text += '; no level sensor of the room is reporting';
        return text;
      }
      case 'parking.full':
        return `${d.zone === null ? 'The car park' : (this.site.zone(d.zone)?.name ?? d.zone)} is full: ${d.occupied} of ${d.total} bays occupied`;
      case 'venue.over-capacity': {
        const v = this.site.venue(d.venue);
        return `${v?.name ?? d.venue}: ${d.people} people present, over its safe capacity of ${d.capacity} (${Math.round((d.people / d.capacity) * 100)} %)`;
      }
      case 'parking.low-battery': {
        const named = d.bays.slice(0, d.listed).join(', ') + (d.bays.length > d.listed ? ` and ${d.bays.length - d.listed} more` : '');
        return `${this.site.zone(d.zone)?.name ?? d.zone}: ${d.bays.length} bay sensor${d.bays.length === 1 ? '' : 's'} below ${d.belowPct} % battery (${named})`;
      }
    }
  }
}
