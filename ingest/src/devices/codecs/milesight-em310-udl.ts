/**
 * Milesight EM310-UDL ultrasonic distance sensor, mounted above the sump pit looking down at the
 * water: level above the pit floor = `mountMm` (the sensor's height above the floor) − distance.
 *
 * Payload (Milesight-IoT/SensorDecoders em-series/em310-udl/README.md, "Telemetry"):
 *   0x01 0x75  battery, UINT8, %
 *   0x03 0x82  distance, UINT16 little-endian, mm
 *   0x04 0x00  position, UINT8: 0 normal, 1 tilt
 * "Tilt" is a horizontal offset of 20° or more (Milesight EM400-UDL user guide, section 5.2, same
 * sensor family). A tilted sensor measures along a slant, which is longer than the vertical distance,
 * so the level it gives can only be lower than the water really is. It is still stored (a level at or
 * above a band must raise that band's alert whatever else the device says), and the tilt is shown
 * as the device's problem so someone straightens it.
 */
import { z } from 'zod';
import { battery, find, fPortParam, portProblem, readTlv, stopped, tlvTable, u16le } from './milesight.ts';
import { defineCodec } from './types.ts';

const NAME = 'milesight-em310-udl';
const TABLE = tlvTable([
  [0x01, 0x75, 1],
  [0x03, 0x82, 2],
  [0x04, 0x00, 1],
]);

export default defineCodec({
  name: NAME,
  kinds: ['level'],
  description: 'Milesight EM310-UDL ultrasonic sensor looking down at the water: level = mountMm − distance',
  paramsExample: { mountMm: 1500 },
  params: z.strictObject({
    /** the sensor's height above the pit floor, mm */
    mountMm: z.number({ message: 'the sensor\'s height above the pit floor in mm is required' }).finite().positive().max(20_000),
    fPort: fPortParam.optional(),
  }),
  decode(input, { params }) {
    const port = portProblem(NAME, input, params.fPort);
    if (port) return port;
    const read = readTlv(input.bytes, TABLE);
    const distance = find(read, 0x03, 0x82);
    const telemetry: { battery?: number; problem?: string } = {};
    const pct = battery(read);
    if (pct !== undefined) telemetry.battery = pct;
    if (!distance) {
      if (read.stop) return stopped(NAME, read, 'distance');
      return { ok: true, fields: null, telemetry, note: 'no distance in this uplink (device information or battery only)' };
    }
    const mm = u16le(distance.data);
    if (find(read, 0x04, 0x00)?.data[0] === 1) telemetry.problem = 'tilted 20° or more: the distance is measured along a slant, so the level reads low';
    return { ok: true, fields: { mm: params.mountMm - mm }, telemetry };
  },
});
