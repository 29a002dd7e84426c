/**
 * Dragino LDDS75 ultrasonic distance sensor, mounted above the pit looking down:
 * level above the pit floor = `mountMm` − distance.
 *
 * Payload on FPort 2, 8 bytes, big-endian (Dragino's example uplink in TheThingsNetwork/lorawan-devices
 * vendor/dragino/ldds75-114-codec.yaml: 0D 3B 0A EF 00 00 00 01 = 3.387 V, 2799 mm, no interrupt,
 * 0.00 °C, sensor flag 1):
 *   bytes 0-1  battery, mV
 *   bytes 2-3  distance, mm
 *   byte  4    interrupt flag
 *   bytes 5-6  DS18B20 temperature (optional probe), 0.1 °C; not read
 *   byte  7    sensor flag: 1 when the ultrasonic probe is connected
 * FPort 5 is Dragino's device-status uplink (model, firmware, band): no reading.
 *
 * The probe measures flat objects from 280 mm to 7500 mm (Dragino LDDS75 user manual, "Features").
 * A distance of 0 is no measurement at all, so no level is made of it. A distance inside the 280 mm
 * blind zone means the water (or something) is closer than the probe can measure: the level is stored
 * as the lowest it can then be (mountMm − 280), which errs towards raising the alarm, not hiding it.
 */
import { z } from 'zod';
import { defineCodec, reject, withoutPayload, type Telemetry } from './types.ts';

const NAME = 'dragino-ldds75';
const DATA_PORT = 2;
const STATUS_PORT = 5;
const BLIND_ZONE_MM = 280;

export default defineCodec({
  name: NAME,
  kinds: ['level'],
  description: 'Dragino LDDS75 ultrasonic sensor looking down at the water: level = mountMm − distance',
  paramsExample: { mountMm: 1500 },
  params: z.strictObject({
    mountMm: z.number({ message: 'the sensor\'s height above the pit floor in mm is required' }).finite().positive().max(20_000),
  }),
  decode(input, { params }) {
    const empty = withoutPayload(input);
    if (empty) return empty;
    if (input.fPort === STATUS_PORT) return { ok: true, fields: null, telemetry: {}, note: 'device status uplink (FPort 5)' };
    if (input.fPort !== DATA_PORT) return reject('unknown_fport', `${NAME} reads FPort ${DATA_PORT} (and ${STATUS_PORT}, device status), the uplink came on FPort ${input.fPort}`);
    const b = input.bytes;
    if (b.length < 8) return reject('payload_too_short', `${NAME} needs 8 bytes on FPort ${DATA_PORT} (battery, distance, interrupt, temperature, sensor flag), got ${b.length}`);
    const telemetry: Telemetry = { batteryMv: (b[0]! << 8) | b[1]! };
    const distance = (b[2]! << 8) | b[3]!;
    if (b[7] !== 1) return { ok: true, fields: null, telemetry: { ...telemetry, problem: 'no ultrasonic probe detected (sensor flag 0): no distance' }, note: 'sensor flag 0' };
    if (distance === 0) return { ok: true, fields: null, telemetry: { ...telemetry, problem: 'distance 0: the probe measured nothing' }, note: 'distance 0' };
    if (distance < BLIND_ZONE_MM) {
      telemetry.problem = `distance ${distance} mm is inside the ${BLIND_ZONE_MM} mm blind zone: the level shown is the lowest the water can be`;
      return { ok: true, fields: { mm: params.mountMm - BLIND_ZONE_MM }, telemetry };
    }
    return { ok: true, fields: { mm: params.mountMm - distance }, telemetry };
  },
});
