/** Test helpers for codecs: hex payloads as the vendors print them, and an in-memory counter store. */
import type { DeviceKind } from '@parkops/contract/site/index.ts';
import { CODECS } from './index.ts';
import type { CodecResult, CounterState, CounterStore } from './types.ts';

/** `"01755C 03824408"` or `"0x0D, 0x3B"` to bytes. */
export function bytes(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) throw new Error(`not hex: ${text}`);
  return new Uint8Array(clean.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

export class MemoryCounters implements CounterStore {
  readonly values = new Map<string, CounterState>();
  get(key: string): CounterState | undefined {
    return this.values.get(key);
  }
  set(key: string, value: CounterState): void {
    this.values.set(key, value);
  }
}

export interface Run {
  fPort: number;
  payload?: string;
  decoded?: Record<string, unknown>;
  ts?: number;
}

/** Decodes one uplink with a codec from the table, its params parsed as the binding API parses them. */
export function run(codec: string, kind: DeviceKind, params: unknown, up: Run, counters: CounterStore = new MemoryCounters()): CodecResult {
  const c = CODECS.get(codec);
  if (!c) throw new Error(`no codec ${codec}`);
  const p = c.parseParams(params, kind);
  if (!p.ok) throw new Error(`bad params: ${p.field}: ${p.message}`);
  return c.decode({ fPort: up.fPort, bytes: bytes(up.payload ?? ''), decoded: up.decoded, ts: up.ts ?? 1_700_000_000_000 }, { kind, params: p.params, counters });
}
