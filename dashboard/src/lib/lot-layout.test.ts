import { describe, expect, it } from 'vitest';
import { hitCell, layoutLot, moveCell } from './lot-layout.ts';

const zones = [
  { id: 'A', label: 'A', bayIds: Array.from({ length: 100 }, (_, i) => `A-${i}`) },
  { id: 'B', label: 'B', bayIds: Array.from({ length: 120 }, (_, i) => `B-${i}`) },
  { id: 'C', label: 'C', bayIds: Array.from({ length: 140 }, (_, i) => `C-${i}`) },
];

describe('layoutLot', () => {
  it('places every bay once, inside the width, without overlaps', () => {
    for (const width of [390, 800, 1400]) {
      const L = layoutLot(zones, width);
      expect(L.cells).toHaveLength(360);
      expect(new Set(L.cells.map((c) => c.bayId)).size).toBe(360);
      for (const c of L.cells) expect(c.x + c.size).toBeLessThanOrEqual(width);
      const keys = new Set(L.cells.map((c) => `${c.x},${c.y}`));
      expect(keys.size).toBe(360);
    }
  });

  it('puts two zones side by side on a wide screen and stacks them on a phone', () => {
    const wide = layoutLot(zones, 1400);
    expect(wide.zones[1]!.y).toBe(wide.zones[0]!.y);
    const phone = layoutLot(zones, 390);
    expect(phone.zones[1]!.y).toBeGreaterThan(phone.zones[0]!.y);
    expect(phone.cell).toBeGreaterThanOrEqual(14);
  });

  it('finds the bay under a point and moves by arrow keys', () => {
    const L = layoutLot(zones, 1400);
    const c = L.cells[25]!;
    expect(hitCell(L, c.x + 1, c.y + 1)).toBe(25);
    expect(hitCell(L, -5, -5)).toBe(-1);
    expect(moveCell(L, 25, 'ArrowRight')).toBe(26);
    expect(moveCell(L, 0, 'ArrowLeft')).toBe(0);
    const down = L.cells[moveCell(L, 25, 'ArrowDown')]!;
    expect(down.x).toBe(c.x);
    expect(down.y).toBeGreaterThan(c.y);
    expect(moveCell(L, 25, 'End')).toBe(359);
  });
});
