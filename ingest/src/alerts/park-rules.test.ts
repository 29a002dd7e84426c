import { describe, expect, it } from 'vitest';
import { useHarness, type Harness } from './testing.ts';

let h!: Harness;
useHarness((x) => (h = x));

describe('park rules', () => {
  it('a full zone is an info alert that clears once two bays are free again', async () => {
    await h.bay('A1', 'A', true);
    await h.bay('A2', 'A', true);
    expect(h.changesOf('parking.full')).toEqual([]);
    await h.bay('A3', 'A', true);
    const changes = h.changesOf('parking.full');
    expect(changes.map((c) => [c.change, c.alert.subject, c.alert.severity])).toEqual([['opened', 'parking/A', 'info']]);
    expect(changes[0]!.alert.message).toBe('Zone A is full: 3 of 3 bays occupied');
    await h.bay('A3', 'A', false); // one free: the last-bay flap does not resolve it
    await h.bay('A3', 'A', true);
    await h.bay('A3', 'A', false);
    expect(h.changesOf('parking.full').map((c) => c.change)).toEqual(['opened']);
    await h.bay('A2', 'A', false);
    expect(h.changesOf('parking.full').map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('the whole lot full is its own alert', async () => {
    for (const b of ['A1', 'A2', 'A3']) await h.bay(b, 'A', true);
    for (const b of ['B1', 'B2', 'B3', 'B4']) await h.bay(b, 'B', true);
    expect(h.changesOf('parking.full').map((c) => c.alert.subject).sort()).toEqual(['parking', 'parking/A', 'parking/B']);
  });

  it('a venue over its safe capacity is a warning that clears at 90 %', async () => {
    await h.venue('gym', 50);
    expect(h.changesOf('venue.over-capacity')).toEqual([]);
    await h.venue('gym', 51);
    expect(h.changesOf('venue.over-capacity').map((c) => [c.change, c.alert.subject, c.alert.severity, c.alert.value])).toEqual([['opened', 'venues/gym', 'warning', 51]]);
    await h.venue('gym', 47);
    await h.venue('gym', 52);
    expect(h.changesOf('venue.over-capacity').map((c) => c.change)).toEqual(['opened']);
    await h.venue('gym', 45);
    expect(h.changesOf('venue.over-capacity').map((c) => c.change)).toEqual(['opened', 'resolved']);
  });

  it('low bay batteries are grouped into one alert per zone', async () => {
    await h.bay('B1', 'B', false, 10);
    await h.bay('B2', 'B', false, 12);
    await h.bay('B3', 'B', false, 50);
    await h.bay('B4', 'B', false, 5);
    await h.bay('A1', 'A', false, 80);
    const opened = h.changesOf('parking.low-battery');
    expect(opened.map((c) => [c.change, c.alert.subject])).toEqual([['opened', 'parking/B']]);
    const now = h.openOf('parking.low-battery')[0]!;
    expect(now).toMatchObject({ value: 3, severity: 'info' });
    expect(now.message).toBe('Zone B: 3 bay sensors below 15 % battery (B1, B2, B4)');

    await h.bay('B1', 'B', false, 18); // inside the 5-point hysteresis: still low
    expect(h.openOf('parking.low-battery')[0]!.value).toBe(3);
    await h.bay('B1', 'B', false, 100);
    await h.bay('B2', 'B', false, 100);
    expect(h.openOf('parking.low-battery')[0]!.value).toBe(1);
    await h.bay('B4', 'B', false, 100);
    expect(h.changesOf('parking.low-battery').map((c) => c.change)).toEqual(['opened', 'resolved']);
  });
});
