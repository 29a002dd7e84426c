/**
 * Which reads one poll of a peer sends: the points of the due devices, grouped by unit id and table,
 * merged where their addresses are contiguous or overlap, so a two-pump panel whose running coils sit
 * at 0 and 1 costs one request, not two. Points with a gap between them are not merged: a panel may
 * answer "illegal data address" for a register it does not have.
 */
import type { ModbusTable } from '@parkops/contract/site/modbus-schema.ts';

/** One field of one device: what it needs read. */
export interface PointRead {
  /** `{deviceId}.{field}`, unique within a peer. */
  key: string;
  device: string;
  unitId: number;
  table: ModbusTable;
  address: number;
  /** Registers or bits the point spans. */
  count: number;
}

export interface ReadRequest {
  unitId: number;
  table: ModbusTable;
  address: number;
  count: number;
  points: PointRead[];
}

/**
 * Most a single read may ask for: 2000 coils or discrete inputs (function codes 1 and 2), 125
 * registers (function codes 3 and 4), Modbus Application Protocol specification v1.1b3 sections 6.1-6.4.
 */
export const MAX_READ: Record<ModbusTable, number> = { coil: 2000, 'discrete-input': 2000, 'input-register': 125, 'holding-register': 125 };

export function planReads(points: readonly PointRead[]): ReadRequest[] {
  const sorted = [...points].sort((a, b) => a.unitId - b.unitId || a.table.localeCompare(b.table) || a.address - b.address || b.count - a.count);
  const out: ReadRequest[] = [];
  let cur: ReadRequest | undefined;
  for (const p of sorted) {
    const end = p.address + p.count;
    if (cur && cur.unitId === p.unitId && cur.table === p.table && p.address <= cur.address + cur.count && Math.max(end, cur.address + cur.count) - cur.address <= MAX_READ[p.table]) {
      cur.count = Math.max(end, cur.address + cur.count) - cur.address;
      cur.points.push(p);
      continue;
    }
    cur = { unitId: p.unitId, table: p.table, address: p.address, count: p.count, points: [p] };
    out.push(cur);
  }
  return out;
}

/** The slice of a request's answer that belongs to one of its points. */
export function pointValues<T>(req: ReadRequest, point: PointRead, data: readonly T[]): T[] {
  const from = point.address - req.address;
  return data.slice(from, from + point.count);
}

/** The devices whose points a request reads. */
export function devicesOf(req: ReadRequest): Set<string> {
  return new Set(req.points.map((p) => p.device));
}
