/**
 * The `modbus` block of a level sensor or pump in the site file: where the device answers (host, port,
 * unit id), how often to poll it, and which coil, discrete input or register gives each section-1 field.
 *
 * Addresses are the protocol (PDU) addresses, counted from 0, as the Modbus Application Protocol
 * specification v1.1b3 section 4.4 defines them. Manuals in the Modicon style number the same holding
 * register 0 as "40001" and input register 0 as "30001": subtract the table's base and one.
 *
 * A map that does not fit its device kind (`running` on a level sensor, a level sensor without `mm`)
 * is refused with a message naming the field, so a wrong site file stops start-up instead of polling
 * the wrong register.
 */
import { z } from 'zod';

/** The four primary tables of the Modbus data model (specification section 4.3). */
export const MODBUS_TABLES = ['coil', 'discrete-input', 'input-register', 'holding-register'] as const;
export type ModbusTable = (typeof MODBUS_TABLES)[number];
export const REGISTER_TABLES = ['input-register', 'holding-register'] as const;

export const MODBUS_TYPES = ['uint16', 'int16', 'uint32', 'int32', 'float32'] as const;
export type ModbusType = (typeof MODBUS_TYPES)[number];

/** Registers a value of this type spans. */
export const wordsOf = (type: ModbusType): 1 | 2 => (type === 'uint16' || type === 'int16' ? 1 : 2);

/** Names the unknown key and the ones a point has, instead of zod's bare "Unrecognized key". */
const unknownKeys = (keys: string) => ({
  error: (iss: { code?: string; keys?: string[] }) => (iss.code === 'unrecognized_keys' ? `unknown field ${(iss.keys ?? []).map((k) => `"${k}"`).join(', ')}; a point has ${keys}` : undefined),
});

const address = z.number().int('must be a whole number').min(0, 'must be 0..65535 (the protocol address, counted from 0)').max(65535, 'must be 0..65535 (the protocol address, counted from 0)');

/** A number from one register, or two for 32-bit types: value = raw × scale + offset. */
export const numberPoint = z
  .strictObject({
    table: z.enum(REGISTER_TABLES, { error: 'a number comes from an input-register or holding-register (coils and discrete inputs hold one bit)' }),
    address,
    type: z.enum(MODBUS_TYPES, { error: `must be one of ${MODBUS_TYPES.join(', ')}` }).default('uint16'),
    /**
     * Which register of a 32-bit value comes first. Modbus fixes the byte order inside a register (big
     * endian, specification section 4.2) but not the order of two registers: `high-first` is the
     * "ABCD" of many manuals, `low-first` their "CDAB".
     */
    wordOrder: z.enum(['high-first', 'low-first'], { error: 'must be high-first (ABCD) or low-first (CDAB)' }).default('high-first'),
    scale: z
      .number()
      .finite()
      .refine((v) => v !== 0, 'must not be 0')
      .default(1),
    offset: z.number().finite().default(0),
  }, unknownKeys('table, address, type, wordOrder, scale, offset'))
  .superRefine((p, ctx) => {
    if (p.address + wordsOf(p.type) - 1 > 65535) ctx.addIssue({ code: 'custom', path: ['address'], message: `a ${p.type} at ${p.address} runs past register 65535` });
  });

/** A yes/no: a coil or discrete input, or one bit of a register (a panel's status word). */
export const bitPoint = z
  .strictObject({
    table: z.enum(MODBUS_TABLES, { error: `must be one of ${MODBUS_TABLES.join(', ')}` }),
    address,
    /** Bit of a register, 0 = least significant; without it a register means "non-zero". */
    bit: z.number().int().min(0, 'must be 0..15').max(15, 'must be 0..15').optional(),
    /** For contacts wired the other way round (e.g. a "pump stopped" input). */
    invert: z.boolean().default(false),
  }, unknownKeys('table, address, bit, invert'))
  .superRefine((p, ctx) => {
    if (p.bit !== undefined && (p.table === 'coil' || p.table === 'discrete-input')) {
      ctx.addIssue({ code: 'custom', path: ['bit'], message: `a ${p.table} is one bit already; bit applies to registers only` });
    }
  });

export type NumberPoint = z.output<typeof numberPoint>;
export type BitPoint = z.output<typeof bitPoint>;

const connection = {
  host: z
    .string()
    .trim()
    .min(1, 'must be the host name or IP address of the Modbus TCP server')
    .max(253)
    .regex(/^[A-Za-z0-9.:_-]+$/, 'must be a host name or IP address'),
  port: z.number().int().min(1, 'must be a port number 1..65535').max(65535, 'must be a port number 1..65535').default(502),
  /** MBAP unit identifier: the device behind a gateway, or whatever the panel's manual says (often 1 or 255). */
  unitId: z.number().int().min(0, 'must be 0..255').max(255, 'must be 0..255').default(1),
  /** How often ParkOps reads the device. Readings are stored only on change and every `intervalSec`. */
  pollSec: z.number().finite().min(0.1, 'must be at least 0.1 s').max(3600, 'must be at most 3600 s').default(1),
};

type Fields = Record<string, { register: string }>;

/** Refuses fields of the other device kind, unknown fields and a missing required field, naming each. */
function fitsKind(kind: 'level sensor' | 'pump', own: Fields, required: string, foreign: Fields) {
  const allowed = [...Object.keys(connection), ...Object.keys(own)];
  return (v: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const key of Object.keys(v)) {
      if (allowed.includes(key)) continue;
      const other = foreign[key];
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: other
          ? `${key} is ${other.register}; a ${kind}'s register map gives ${Object.keys(own).join(' and ')} only`
          : `unknown field; a ${kind}'s modbus block has ${allowed.join(', ')}`,
      });
    }
    if (v[required] === undefined) ctx.addIssue({ code: 'custom', path: [required], message: `a ${kind}'s register map needs ${required}: ${own[required]!.register}` });
  };
}

const LEVEL_FIELDS: Fields = { mm: { register: 'the register that holds the water level in mm above the pit floor' } };
const PUMP_FIELDS: Fields = {
  running: { register: 'the coil, discrete input or register bit that says the motor runs' },
  amps: { register: 'the register that holds the motor current in A' },
};

export const levelModbus = z
  .looseObject({ ...connection, mm: numberPoint.optional() })
  .superRefine(fitsKind('level sensor', LEVEL_FIELDS, 'mm', { running: { register: "a pump's running signal" }, amps: { register: "a pump's motor current" } }))
  .transform(({ host, port, unitId, pollSec, mm }) => ({ host, port, unitId, pollSec, mm: mm as NumberPoint }));

export const pumpModbus = z
  .looseObject({ ...connection, running: bitPoint.optional(), amps: numberPoint.optional() })
  .superRefine(fitsKind('pump', PUMP_FIELDS, 'running', { mm: { register: "a level sensor's water level" } }))
  .transform(({ host, port, unitId, pollSec, running, amps }) => ({ host, port, unitId, pollSec, running: running as BitPoint, amps }));

export type LevelModbus = z.output<typeof levelModbus>;
export type PumpModbus = z.output<typeof pumpModbus>;

/**
 * A device polled less often than it must report would be judged silent between polls: refused.
 * Used by the level sensor and pump schemas, which know the device's `intervalSec`.
 */
export function pollFitsInterval(d: { intervalSec: number; modbus?: { pollSec: number } | undefined }, ctx: z.RefinementCtx): void {
  if (d.modbus && d.modbus.pollSec > d.intervalSec) {
    ctx.addIssue({ code: 'custom', path: ['modbus', 'pollSec'], message: `must not exceed the device's intervalSec (${d.intervalSec} s), or the device would be judged silent between polls` });
  }
}
