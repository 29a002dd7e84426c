import { describe, expect, it } from 'vitest';
import type { CodecView, DeviceView } from '@parkops/contract';
import { batteryText, codecsFor, filterDevices, NO_FILTER, parseParamsText, summarize } from './devices.ts';

const dev = (over: Partial<DeviceView>): DeviceView => ({ id: 'x', kind: 'bay', name: 'x', stale: false, lowBattery: false, ...over });
const list: DeviceView[] = [
  dev({ id: 'A-001', stale: true, battery: 9, lowBattery: true }),
  dev({ id: 'E-001', binding: { deviceId: 'E-001', devEui: '70B3D5E000000001', codec: 'nwave-nps', params: {}, updatedAt: '', updatedBy: 'admin' } }),
  dev({ id: 'L1', kind: 'level', name: 'Level sensor 1 (radar)', batteryMv: 3387 }),
];

describe('devices page logic', () => {
  it('filters silent, low-battery, unbound and by kind or text', () => {
    expect(filterDevices(list, NO_FILTER)).toHaveLength(3);
    expect(filterDevices(list, { ...NO_FILTER, silent: true }).map((d) => d.id)).toEqual(['A-001']);
    expect(filterDevices(list, { ...NO_FILTER, lowBattery: true }).map((d) => d.id)).toEqual(['A-001']);
    expect(filterDevices(list, { ...NO_FILTER, unboundOnly: true }).map((d) => d.id)).toEqual(['A-001', 'L1']);
    expect(filterDevices(list, { ...NO_FILTER, kind: 'level' }).map((d) => d.id)).toEqual(['L1']);
    expect(filterDevices(list, { ...NO_FILTER, text: '70b3d5' }).map((d) => d.id)).toEqual(['E-001']);
    expect(filterDevices(list, { ...NO_FILTER, text: 'radar' }).map((d) => d.id)).toEqual(['L1']);
    expect(summarize(list)).toEqual({ total: 3, bound: 1, silent: 1, lowBattery: 1 });
  });
  it('offers the codecs of the device kind and reads the params box', () => {
    const codecs: CodecView[] = [
      { name: 'decoded', kinds: ['bay', 'level'], description: '' },
      { name: 'nwave-nps', kinds: ['bay'], description: '' },
    ];
    expect(codecsFor(codecs, 'level').map((c) => c.name)).toEqual(['decoded']);
    expect(parseParamsText('')).toEqual({ ok: true, params: undefined });
    expect(parseParamsText('{"mountMm": 1500}')).toEqual({ ok: true, params: { mountMm: 1500 } });
    expect(parseParamsText('[1]')).toEqual({ ok: false });
    expect(parseParamsText('{mountMm')).toEqual({ ok: false });
  });
  it('shows battery as percent, or volts', () => {
    expect(list.map(batteryText)).toEqual(['9 %', '–', '3.39 V']);
  });
});
