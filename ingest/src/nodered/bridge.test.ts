import { describe, expect, it } from 'vitest';
import { EventBus } from '../bus.ts';
import type { Alert } from '@parkops/contract/api.ts';
import { createLogger } from '../log.ts';
import { Bridge, type AlertEvent } from './bridge.ts';

const log = createLogger('silent');
const alert: Alert = { id: 'a1', rule: 'flood.level', severity: 'critical', state: 'firing', subject: 'flood/b1-power/levels/L1', message: 'level 712 mm', value: 712, startedAt: '2026-07-14T03:12:05.000Z' };

function setup(acknowledge: (id: string, by: { username: string }, note?: string) => unknown = () => ({})) {
  const bus = new EventBus(log);
  const bridge = new Bridge({ bus, alerts: { acknowledge, list: () => [] }, webhookFormat: 'auto', log });
  bridge.attach();
  return { bus, bridge };
}

describe('Bridge', () => {
  it('never runs node code inside EventBus.emit, and a throwing node does not stop the others', async () => {
    const { bus, bridge } = setup();
    const got: AlertEvent[] = [];
    bridge.onAlert(() => {
      throw new Error('broken node');
    });
    bridge.onAlert((e) => got.push(e));
    bus.emit('alert.changed', { alert, change: 'opened' });
    expect(got).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(1);
    expect(got[0]?.text.zh).toContain('【严重】新告警');
  });

  it('gives each node its own copy: a flow cannot change the engine\'s alert', async () => {
    const { bus, bridge } = setup();
    const seen: AlertEvent[] = [];
    bridge.onAlert((e) => {
      e.alert.state = 'resolved';
      seen.push(e);
    });
    bridge.onAlert((e) => seen.push(e));
    const original = structuredClone(alert);
    bus.emit('alert.changed', { alert: original, change: 'opened' });
    await new Promise((r) => setImmediate(r));
    expect(original.state).toBe('firing');
    expect(seen[1]?.alert.state).toBe('firing');
  });

  it('acknowledges with a reason for bad input', async () => {
    const calls: unknown[] = [];
    const { bridge } = setup((id, by, note) => calls.push([id, by, note]));
    await expect(bridge.acknowledge(undefined, 'li', 'x')).rejects.toThrow('msg.payload.id must be the alert id');
    await expect(bridge.acknowledge('a1', '', 'x')).rejects.toThrow('msg.payload.by must name who acknowledged');
    await expect(bridge.acknowledge('a1', 'li', 42)).rejects.toThrow('msg.payload.note must be text');
    await bridge.acknowledge(' a1 ', 'li', '  on site ');
    expect(calls).toEqual([['a1', { username: 'li' }, 'on site']]);
  });

  it('stops listening on detach', async () => {
    const { bus, bridge } = setup();
    const got: AlertEvent[] = [];
    bridge.onAlert((e) => got.push(e));
    bridge.detach();
    bus.emit('alert.changed', { alert, change: 'opened' });
    await new Promise((r) => setImmediate(r));
    expect(got).toHaveLength(0);
  });
});
