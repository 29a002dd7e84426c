/**
 * What a codec is: it turns one network-server uplink into the section-1 fields of its bound
 * device's reading (docs/api.md, LoRaWAN). The registry adds the uplink's time as `ts`, builds the
 * section-1 topic and hands both to the ordinary decoder, so every range and type rule of section 1
 * is checked in one place (contract/decode.ts), for uplinks too.
 */
import type { z } from 'zod';
import { rejection, type Rejection, type RejectionCode } from '@parkops/contract/reasons.ts';
import type { DeviceKind } from '@parkops/contract/site/index.ts';

export interface CodecInput {
  fPort: number;
  /** The FRMPayload; empty when the uplink carried none. */
  bytes: Uint8Array;
  /** The network server's decoded object (`object` / `decoded_payload`), if it has a codec of its own. */
  decoded: Record<string, unknown> | undefined;
  /** The uplink's time, epoch ms (the time of receipt when the uplink carried none). */
  ts: number;
}

/** What an uplink says about the device itself, kept per device and shown in GET /api/devices. */
export interface Telemetry {
  /** percent, 0..100 */
  battery?: number;
  /** battery voltage in millivolts, for devices that report a voltage instead of a percentage */
  batteryMv?: number;
  /** Something the device reports about its own measurement, for the admin Devices page. */
  problem?: string;
}

/** Running totals a counting codec keeps per device and key between uplinks; the registry persists them. */
export interface CounterState {
  in: number;
  out: number;
  /** uplink time of these totals, epoch ms */
  ts: number;
}
export interface CounterStore {
  get(key: string): CounterState | undefined;
  set(key: string, value: CounterState): void;
}

export interface CodecContext<P> {
  kind: DeviceKind;
  params: P;
  counters: CounterStore;
}

export type CodecResult =
  /** `fields: null`: a valid uplink without a reading (device information, a startup frame); `note` says which. */
  | { ok: true; fields: Record<string, unknown> | null; telemetry: Telemetry; note?: string }
  | { ok: false; rejection: Rejection };

export interface Codec<P> {
  name: string;
  /** The device kinds whose readings it produces. */
  kinds: readonly DeviceKind[];
  /** One line for the admin page and docs/devices.md. */
  description: string;
  params: z.ZodType<P>;
  /** Typical params, shown as the hint in the admin page's binding form. */
  paramsExample?: P;
  /** Checks that need the device kind (the `decoded` codec's field names); a message naming the field, or null. */
  checkParams?(params: P, kind: DeviceKind): { field: string; message: string } | null;
  decode(input: CodecInput, ctx: CodecContext<P>): CodecResult;
}

export type ParamsResult = { ok: true; params: unknown } | { ok: false; field: string; message: string };

/** A codec with its parameter type erased, as the table holds it. */
export interface AnyCodec {
  name: string;
  kinds: readonly DeviceKind[];
  description: string;
  paramsExample: Record<string, unknown> | undefined;
  parseParams(raw: unknown, kind: DeviceKind): ParamsResult;
  decode(input: CodecInput, ctx: CodecContext<unknown>): CodecResult;
}

export function defineCodec<P>(codec: Codec<P>): AnyCodec {
  return {
    name: codec.name,
    kinds: codec.kinds,
    description: codec.description,
    paramsExample: codec.paramsExample as Record<string, unknown> | undefined,
    parseParams(raw, kind) {
      const parsed = codec.params.safeParse(raw ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        if (issue.code === 'unrecognized_keys') {
          return { ok: false, field: ['params', ...issue.path.map(String), issue.keys[0] ?? ''].join('.'), message: `not a parameter of ${codec.name}` };
        }
        return { ok: false, field: ['params', ...issue.path.map(String)].join('.'), message: issue.message };
      }
      const problem = codec.checkParams?.(parsed.data, kind);
      if (problem) return { ok: false, ...problem };
      return { ok: true, params: parsed.data };
    },
    decode: (input, ctx) => codec.decode(input, ctx as CodecContext<P>),
  };
}

export const reject = (code: RejectionCode, detail: string): CodecResult => ({ ok: false, rejection: rejection(code, detail) });

export const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/**
 * An uplink without application payload (FPort 0 carries only MAC commands, LoRaWAN 1.0.x section
 * 4.3.1.6): the device is alive, but there is no reading in it.
 */
export function withoutPayload(input: CodecInput): CodecResult | null {
  return input.fPort === 0 && input.bytes.length === 0 ? { ok: true, fields: null, telemetry: {}, note: 'uplink without application payload (FPort 0)' } : null;
}
