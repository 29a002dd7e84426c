/**
 * The network server's own decoded object (ChirpStack `object`, The Things Stack `decoded_payload`),
 * which holds the reading's section-1 fields, renamed with `params.fields` where the device profile's
 * decoder calls them something else (`{"fields": {"mm": "water_level"}}`; dotted paths reach into
 * nested objects).
 *
 * Decoders that run inside network servers are known to return strings such as "2116 mm", or to put
 * the battery into the distance. So each field must already have its section-1 type: a number is a
 * JSON number, a boolean is true or false. Anything else refuses the whole uplink with a reason naming
 * the decoded field; nothing is parsed out of text. Ranges are then checked by the section-1 decoder
 * like any reading's.
 */
import { z } from 'zod';
import type { DeviceKind } from '@parkops/contract/site/index.ts';
import { defineCodec, reject, type Telemetry } from './types.ts';

type FieldType = 'number' | 'integer' | 'boolean' | 'string';
interface Field {
  name: string;
  type: FieldType;
  required: boolean;
}

/** Section-1 payload fields per device kind (docs/api.md, devices to ParkOps), without `ts`: the uplink's time is used. */
const FIELDS: Record<DeviceKind, readonly Field[]> = {
  bay: [
    { name: 'occupied', type: 'boolean', required: true },
    { name: 'battery', type: 'number', required: false },
  ],
  gate: [
    { name: 'event', type: 'string', required: true },
    { name: 'pass', type: 'string', required: true },
  ],
  level: [{ name: 'mm', type: 'number', required: true }],
  pump: [
    { name: 'running', type: 'boolean', required: true },
    { name: 'amps', type: 'number', required: false },
  ],
  venue: [
    { name: 'in', type: 'integer', required: true },
    { name: 'out', type: 'integer', required: true },
  ],
};

/** Battery percent is read for every kind as device telemetry (bays also carry it in their reading). */
const BATTERY = 'battery';

const NEEDS: Record<FieldType, string> = { number: 'a number', integer: 'a whole number', boolean: 'true or false', string: 'a string' };

function fits(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function lookup(obj: Record<string, unknown>, path: string): unknown {
  let at: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

export default defineCodec({
  name: 'decoded',
  kinds: ['bay', 'gate', 'level', 'pump', 'venue'],
  description: "the network server's decoded object, which holds the reading's section-1 fields (params.fields renames them)",
  paramsExample: { fields: { mm: 'water_level' } },
  params: z.strictObject({
    fields: z.record(z.string(), z.string().min(1, 'must name a field of the decoded object').max(200)).optional(),
  }),
  checkParams(params, kind) {
    const known = [...FIELDS[kind].map((f) => f.name), BATTERY];
    for (const name of Object.keys(params.fields ?? {})) {
      if (!known.includes(name)) return { field: `params.fields.${name}`, message: `not a field of a ${kind} reading (${[...new Set(known)].join(', ')})` };
    }
    return null;
  },
  decode(input, { kind, params }) {
    const obj = input.decoded;
    if (obj === undefined) {
      return reject('missing_field', '"object"/"decoded_payload": the uplink carries no decoded object; give the device profile a payload codec, or bind a codec that reads the raw payload');
    }
    const rename = params.fields ?? {};
    const fields: Record<string, unknown> = {};
    for (const f of FIELDS[kind]) {
      const source = rename[f.name] ?? f.name;
      const value = lookup(obj, source);
      if (value === undefined || value === null) {
        if (f.required) return reject('missing_field', `decoded field "${source}"${source === f.name ? '' : ` (read as "${f.name}")`} is missing; a ${kind} reading needs "${f.name}"`);
        continue;
      }
      if (!fits(value, f.type)) {
        return reject('wrong_type', `decoded field "${source}"${source === f.name ? '' : ` (read as "${f.name}")`} is ${describe(value)}; "${f.name}" must be ${NEEDS[f.type]}, and ParkOps never reads one out of text`);
      }
      fields[f.name] = value;
    }
    const telemetry: Telemetry = {};
    const battery = kind === 'bay' ? fields.battery : lookup(obj, rename[BATTERY] ?? BATTERY);
    // A non-bay device's battery is telemetry only: a wrong one is left out rather than losing the reading.
    if (typeof battery === 'number' && battery >= 0 && battery <= 100) telemetry.battery = battery;
    return { ok: true, fields, telemetry };
  },
});
