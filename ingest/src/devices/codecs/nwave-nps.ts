/**
 * Nwave NPS parking sensor (NPS310 / NPS405), in-ground under a bay.
 *
 * Uplinks (Nwave "LoRaWAN Parking Sensor - Getting Started", section 4.2, and Nwave's example uplinks
 * in TheThingsNetwork/lorawan-devices vendor/nwave/nps405-codec.yaml and nps310sm-codec.yaml):
 *   FPort 1   parking status, sent on every change: byte 0 bit 0 = occupied (1) or free (0);
 *             bits 7..1 the compressed duration of the previous state (not read)
 *   FPort 2   heartbeat: byte 0 bit 0 is the current parking status too, so a heartbeat keeps
 *             the bay fresh
 *   FPort 3   startup (firmware version, reset cause): no reading
 *   FPort 10  tag registration: no reading
 * The heartbeat's battery fields changed between firmware generations (Nwave's older table gives
 * Vbat = 2400 + value × 5 mV in byte 1, which the NPS405 example does not follow), so battery is not
 * read rather than guessed.
 */
import { z } from 'zod';
import { defineCodec, reject, withoutPayload } from './types.ts';

const NAME = 'nwave-nps';

export default defineCodec({
  name: NAME,
  kinds: ['bay'],
  description: 'Nwave NPS parking sensor: occupied from the parking-status and heartbeat uplinks',
  params: z.strictObject({}),
  decode(input) {
    const empty = withoutPayload(input);
    if (empty) return empty;
    switch (input.fPort) {
      case 1:
      case 2:
        if (input.bytes.length < 1) return reject('payload_too_short', `${NAME}: the ${input.fPort === 1 ? 'parking status' : 'heartbeat'} uplink has no bytes`);
        return { ok: true, fields: { occupied: (input.bytes[0]! & 0x01) === 1 }, telemetry: {}, ...(input.fPort === 2 ? { note: 'heartbeat' } : {}) };
      case 3:
        return { ok: true, fields: null, telemetry: {}, note: 'startup uplink' };
      case 10:
        return { ok: true, fields: null, telemetry: {}, note: 'tag registration uplink' };
      default:
        return reject('unknown_fport', `${NAME} reads FPorts 1 (parking status), 2 (heartbeat), 3 (startup) and 10 (tag registration), the uplink came on FPort ${input.fPort}`);
    }
  },
});
