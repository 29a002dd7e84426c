/**
 * The site's Modbus devices as the poller sees them: their points, the section-1 payload their values
 * make, and when a reading is worth storing. A 1 s poll of an unchanged pump would otherwise write
 * 86,400 rows a day; a reading goes to ingest when its value changed, or when the device's
 * `intervalSec` passed since the last one (the heartbeat that keeps it from being judged silent).
 */
import type { Topics } from '@parkops/contract/topics.ts';
import type { LevelSensor, Pump, Site } from '@parkops/contract/site/index.ts';
import type { LevelModbus, PumpModbus } from '@parkops/contract/site/modbus-schema.ts';
import { wordsOf } from '@parkops/contract/site/modbus-schema.ts';
import { decodeBit, decodeNumber } from '@parkops/contract/modbus/register-map.ts';
import type { PointRead } from './read-plan.ts';

interface DeviceBase {
  id: string;
  roomId: string;
  /** The section-1 topic its readings are handed to ingest under. */
  topic: string;
  /** `host:port`: one connection per peer. */
  peer: string;
  host: string;
  port: number;
  unitId: number;
  pollMs: number;
  intervalMs: number;
}
export interface LevelDevice extends DeviceBase {
  kind: 'level';
  map: LevelModbus;
}
export interface PumpDevice extends DeviceBase {
  kind: 'pump';
  map: PumpModbus;
}
export type ModbusDevice = LevelDevice | PumpDevice;

export const peerKey = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Every level sensor and pump of the site that has a `modbus` block. */
export function modbusDevices(site: Site, topics: Topics): ModbusDevice[] {
  const out: ModbusDevice[] = [];
  const base = (d: LevelSensor | Pump, roomId: string, m: LevelModbus | PumpModbus, topic: string): DeviceBase => ({
    id: d.id,
    roomId,
    topic,
    peer: peerKey(m.host, m.port),
    host: m.host,
    port: m.port,
    unitId: m.unitId,
    pollMs: Math.round(m.pollSec * 1000),
    intervalMs: Math.round(d.intervalSec * 1000),
  });
  for (const room of site.rooms) {
    for (const l of room.levels) if (l.modbus) out.push({ ...base(l, room.id, l.modbus, topics.level(room.id, l.id)), kind: 'level', map: l.modbus });
    for (const p of room.pumps) if (p.modbus) out.push({ ...base(p, room.id, p.modbus, topics.pump(room.id, p.id)), kind: 'pump', map: p.modbus });
  }
  return out;
}

/** What one poll of the device reads. */
export function pointsOf(d: ModbusDevice): PointRead[] {
  const point = (field: string, table: PointRead['table'], address: number, count: number): PointRead => ({ key: `${d.id}.${field}`, device: d.id, unitId: d.unitId, table, address, count });
  switch (d.kind) {
    case 'level':
      return [point('mm', d.map.mm.table, d.map.mm.address, wordsOf(d.map.mm.type))];
    case 'pump': {
      const out = [point('running', d.map.running.table, d.map.running.address, 1)];
      if (d.map.amps) out.push(point('amps', d.map.amps.table, d.map.amps.address, wordsOf(d.map.amps.type)));
      return out;
    }
  }
}

/** Values read for a device's points, by point key. */
export type PointValues = ReadonlyMap<string, ReadonlyArray<boolean | number>>;

/**
 * The section-1 JSON payload for the values read (no `ts`: ingest stamps it with the poll time).
 * Throws when a point's values are missing, which the peer treats as a failed read of the device.
 */
export function payloadOf(d: ModbusDevice, values: PointValues): string {
  const get = (field: string): ReadonlyArray<boolean | number> => {
    const v = values.get(`${d.id}.${field}`);
    if (v === undefined || v.length === 0) throw new Error(`no value read for ${field}`);
    return v;
  };
  const words = (field: string): number[] => get(field).map((x) => (typeof x === 'number' ? x : x ? 1 : 0));
  switch (d.kind) {
    case 'level':
      return JSON.stringify({ mm: decodeNumber(d.map.mm, words('mm')) });
    case 'pump': {
      const running = decodeBit(d.map.running, get('running')[0]!);
      return JSON.stringify(d.map.amps ? { running, amps: decodeNumber(d.map.amps, words('amps')) } : { running });
    }
  }
}

/** Store on change, or when `intervalMs` passed since the last stored reading (the heartbeat). */
export class ReportGate {
  private last: string | null = null;
  private lastAt = -Infinity;
  constructor(private readonly intervalMs: number) {}

  due(payload: string, now: number): boolean {
    return payload !== this.last || now - this.lastAt >= this.intervalMs;
  }

  /** After the device was unreadable: its next reading goes out whatever its value, so it is fresh again at once. */
  forget(): void {
    this.last = null;
  }

  /** Called once ingest took the reading (committed, or rejected with a reason). */
  sent(payload: string, now: number): void {
    this.last = payload;
    this.lastAt = now;
  }
}
