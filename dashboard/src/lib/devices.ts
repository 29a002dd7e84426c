/**
 * The admin Devices page's logic, kept out of the component so it can be tested without a browser:
 * filtering the device list and preparing a binding from the assign form.
 */
import type { CodecView, DeviceKindName, DeviceView } from '@parkops/contract';

export type KindFilter = DeviceKindName | 'all';

export interface DeviceFilter {
  kind: KindFilter;
  silent: boolean;
  lowBattery: boolean;
  unboundOnly: boolean;
  /** matches the id, name, DevEUI or codec, case-insensitively */
  text: string;
}

export const NO_FILTER: DeviceFilter = { kind: 'all', silent: false, lowBattery: false, unboundOnly: false, text: '' };

export function filterDevices(devices: readonly DeviceView[], f: DeviceFilter): DeviceView[] {
  const needle = f.text.trim().toLowerCase();
  return devices.filter((d) => {
    if (f.kind !== 'all' && d.kind !== f.kind) return false;
    if (f.silent && !d.stale) return false;
    if (f.lowBattery && !d.lowBattery) return false;
    if (f.unboundOnly && d.binding !== undefined) return false;
    if (needle === '') return true;
    return [d.id, d.name, d.binding?.devEui ?? '', d.binding?.codec ?? ''].some((s) => s.toLowerCase().includes(needle));
  });
}

export function summarize(devices: readonly DeviceView[]): { total: number; bound: number; silent: number; lowBattery: number } {
  return {
    total: devices.length,
    bound: devices.filter((d) => d.binding !== undefined).length,
    silent: devices.filter((d) => d.stale).length,
    lowBattery: devices.filter((d) => d.lowBattery).length,
  };
}

/** The codecs that can feed a device of this kind. */
export function codecsFor(codecs: readonly CodecView[], kind: DeviceKindName | undefined): CodecView[] {
  return kind === undefined ? [...codecs] : codecs.filter((c) => c.kinds.includes(kind));
}

/** The params text box as a params object: empty means none; anything but a JSON object is an error to show. */
export function parseParamsText(text: string): { ok: true; params: Record<string, unknown> | undefined } | { ok: false } {
  const t = text.trim();
  if (t === '') return { ok: true, params: undefined };
  try {
    const v: unknown = JSON.parse(t);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return { ok: true, params: v as Record<string, unknown> };
  } catch {
    // fall through
  }
  return { ok: false };
}

/** Battery as shown: percent, or volts for devices that report only volts. */
export function batteryText(d: DeviceView): string {
  if (d.battery !== undefined) return `${Math.round(d.battery)} %`;
  if (d.batteryMv !== undefined) return `${(d.batteryMv / 1000).toFixed(2)} V`;
  return '–';
}
