/**
 * Milesight VS133 / VS135 ToF people counter over a venue's door: its line totals become the
 * section-1 counts, people who went in and out since the counter's previous uplink.
 *
 * Payload (Milesight-IoT/SensorDecoders vs-series/vs133/README.md and vs13x/README.md, "Telemetry"):
 *   line n (1..4), c = 3 × (n − 1):
 *   0x03+c 0xd2  total in,  UINT32 little-endian
 *   0x04+c 0xd2  total out, UINT32 little-endian
 *   0x05+c 0xcc  period in (UINT16) + period out (UINT16); skipped
 *   0x0f   0xe3  region counts (4 × UINT8); skipped
 *   0x10   0xe4  dwell time: region + average + maximum; skipped
 *
 * Turning totals into deltas, per line, against the totals of the previous uplink (persisted, so a
 * restart keeps them):
 * - the first totals seen are the baseline: 0 in, 0 out (a lifetime total is not a crowd arriving now);
 * - a total lower than before is a counter reset (reboot, cleared counts): the new total counts since
 *   the reset;
 * - an uplink not newer than the stored totals (a redelivery, or one delivered late) moves nothing.
 * `line` picks one line; without it the lines in the uplink are added up.
 */
import { z } from 'zod';
import { find, fPortParam, portProblem, readTlv, stopped, tlvTable, u32le } from './milesight.ts';
import { defineCodec } from './types.ts';

const NAME = 'milesight-vs133';
const LINES = [1, 2, 3, 4] as const;
const TABLE = tlvTable([
  ...LINES.flatMap((n) => {
    const c = 3 * (n - 1);
    return [
      [0x03 + c, 0xd2, 4],
      [0x04 + c, 0xd2, 4],
      [0x05 + c, 0xcc, 4],
    ] as const;
  }),
  [0x0f, 0xe3, 4],
  [0x10, 0xe4, 5],
]);

/** People through a line since `before`, from a total that may have been reset since. */
const since = (now: number, before: number): number => (now >= before ? now - before : now);

export default defineCodec({
  name: NAME,
  kinds: ['venue'],
  description: 'Milesight VS133/VS135 people counter: line totals turned into the people who went in and out since the previous uplink',
  paramsExample: { line: 1 },
  params: z.strictObject({
    line: z.number().int().min(1).max(4).optional(),
    fPort: fPortParam.optional(),
  }),
  decode(input, { params, counters }) {
    const port = portProblem(NAME, input, params.fPort);
    if (port) return port;
    const read = readTlv(input.bytes, TABLE);
    let people: { in: number; out: number } | null = null;
    for (const n of params.line === undefined ? LINES : [params.line]) {
      const c = 3 * (n - 1);
      const totalIn = find(read, 0x03 + c, 0xd2);
      const totalOut = find(read, 0x04 + c, 0xd2);
      if (!totalIn || !totalOut) continue;
      const now = { in: u32le(totalIn.data), out: u32le(totalOut.data), ts: input.ts };
      const key = `line${n}`;
      const before = counters.get(key);
      people ??= { in: 0, out: 0 };
      if (before === undefined) {
        counters.set(key, now);
      } else if (input.ts > before.ts) {
        people.in += since(now.in, before.in);
        people.out += since(now.out, before.out);
        counters.set(key, now);
      }
    }
    if (people === null) {
      if (read.stop) return stopped(NAME, read, `line ${params.line ?? '1..4'} totals`);
      return { ok: true, fields: null, telemetry: {}, note: `no line ${params.line ?? '1..4'} totals in this uplink (period counts, regions or device information only)` };
    }
    return { ok: true, fields: people, telemetry: {} };
  },
});
