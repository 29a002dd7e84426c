/**
 * Milesight EM500-SWL submersible water-level sensor (a pressure probe on the pit floor): level above
 * the pit floor = water depth over the probe + `offsetMm` (the probe's height above the floor).
 *
 * Payload (Milesight-IoT/SensorDecoders em-series/em500-swl/README.md, "Telemetry"; Ursalink
 * "EM500-SWL Payload Structure" V1.0, section 1):
 *   0x01 0x75  battery, UINT8, %
 *   0x03 0x77  water level, UINT16 little-endian, cm
 *   0x20 0xce  historical record: timestamp (4 bytes) + level (2 bytes); skipped, not read
 */
import { z } from 'zod';
import { battery, find, fPortParam, portProblem, readTlv, stopped, tlvTable, u16le } from './milesight.ts';
import { defineCodec } from './types.ts';

const NAME = 'milesight-em500-swl';
const TABLE = tlvTable([
  [0x01, 0x75, 1],
  [0x03, 0x77, 2],
  [0x20, 0xce, 6],
]);

export default defineCodec({
  name: NAME,
  kinds: ['level'],
  description: 'Milesight EM500-SWL submersible level probe: level = depth + offsetMm',
  paramsExample: { offsetMm: 0 },
  params: z.strictObject({
    /** the probe's height above the pit floor, mm */
    offsetMm: z.number().finite().min(-1000).max(10_000).optional(),
    fPort: fPortParam.optional(),
  }),
  decode(input, { params }) {
    const port = portProblem(NAME, input, params.fPort);
    if (port) return port;
    const read = readTlv(input.bytes, TABLE);
    const level = find(read, 0x03, 0x77);
    const telemetry: { battery?: number } = {};
    const pct = battery(read);
    if (pct !== undefined) telemetry.battery = pct;
    if (!level) {
      if (read.stop) return stopped(NAME, read, 'water level');
      return { ok: true, fields: null, telemetry, note: 'no water level in this uplink (device information, battery or historical records only)' };
    }
    return { ok: true, fields: { mm: u16le(level.data) * 10 + (params.offsetMm ?? 0) }, telemetry };
  },
});
