/**
 * Uplink payload bytes as the real devices send them, written from the same published byte tables the
 * ParkOps codecs read (see docs/devices.md for the sources). The simulated network server uses them,
 * and encoders.test.ts checks each against its ParkOps codec.
 */

/** Milesight channel/type/data records: little-endian values. */
function milesight(records: Array<[channel: number, type: number, data: number[]]>): Uint8Array {
  return Uint8Array.from(records.flatMap(([c, t, d]) => [c, t, ...d]));
}
const u16le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const u32le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const clampU16 = (n: number): number => Math.min(0xffff, Math.max(0, Math.round(n)));

/** Milesight EM310-UDL: battery (0x01 0x75, %), distance (0x03 0x82, mm), position (0x04 0x00, 0 normal / 1 tilt). */
export function em310Udl(distanceMm: number, batteryPct: number, tilted = false): Uint8Array {
  return milesight([
    [0x01, 0x75, [Math.round(batteryPct)]],
    [0x03, 0x82, u16le(clampU16(distanceMm))],
    [0x04, 0x00, [tilted ? 1 : 0]],
  ]);
}

/** Milesight EM500-SWL: battery (0x01 0x75, %), water level (0x03 0x77, cm). */
export function em500Swl(levelCm: number, batteryPct: number): Uint8Array {
  return milesight([
    [0x01, 0x75, [Math.round(batteryPct)]],
    [0x03, 0x77, u16le(clampU16(levelCm))],
  ]);
}

/** Milesight VS133/VS135 line totals (0x03+3(n-1) / 0x04+3(n-1), type 0xd2, UINT32). */
export function vs133Totals(line: number, totalIn: number, totalOut: number): Uint8Array {
  const c = 3 * (line - 1);
  return milesight([
    [0x03 + c, 0xd2, u32le(totalIn)],
    [0x04 + c, 0xd2, u32le(totalOut)],
  ]);
}

/** Dragino LDDS75 on FPort 2: battery mV, distance mm (big-endian), interrupt 0, temperature 0, sensor flag 1. */
export function ldds75(distanceMm: number, batteryMv: number): Uint8Array {
  const d = clampU16(distanceMm);
  const b = clampU16(batteryMv);
  return Uint8Array.from([b >> 8, b & 0xff, d >> 8, d & 0xff, 0x00, 0x00, 0x00, 0x01]);
}

/** Nwave NPS: FPort 1 parking status (bit 0 occupied; bits 7..1 the previous state's compressed duration), FPort 2 heartbeat. */
export function nwave(occupied: boolean, kind: 'status' | 'heartbeat', previousDuration = 0): { fPort: number; bytes: Uint8Array } {
  const status = occupied ? 1 : 0;
  if (kind === 'heartbeat') return { fPort: 2, bytes: Uint8Array.from([status]) };
  return { fPort: 1, bytes: Uint8Array.from([((Math.min(127, previousDuration) << 1) | status) & 0xff]) };
}
