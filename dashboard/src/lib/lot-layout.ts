/**
 * Geometry of the lot map: zones as blocks of bay cells, flowed into columns to fit the width.
 * Pure, so it is unit-tested and the canvas code only paints.
 */
export interface LayoutZone { id: string; label: string; bayIds: string[] }
export interface CellBox { x: number; y: number; size: number; bayId: string; zone: string }
export interface ZoneBox { id: string; label: string; x: number; y: number; w: number; h: number }
export interface LotLayout { width: number; height: number; cells: CellBox[]; zones: ZoneBox[]; cell: number }

const HEADER = 22; // px above each zone block for its title
const PAD = 10;

export function layoutLot(zones: LayoutZone[], width: number): LotLayout {
  const w = Math.max(240, Math.floor(width));
  // Wide screens: two zone blocks side by side; narrow ones: one.
  const perRow = w >= 900 ? 2 : 1;
  const blockW = Math.floor((w - PAD * (perRow - 1)) / perRow);
  const cols = perRow === 2 ? 20 : w >= 500 ? 20 : 15;
  const cell = Math.max(14, Math.floor(blockW / cols));
  const cells: CellBox[] = [];
  const boxes: ZoneBox[] = [];
  let y = 0;
  for (let i = 0; i < zones.length; i += perRow) {
    let rowH = 0;
    for (let j = 0; j < perRow && i + j < zones.length; j++) {
      const z = zones[i + j]!;
      const x0 = j * (blockW + PAD);
      const rows = Math.ceil(z.bayIds.length / cols);
      const h = HEADER + rows * cell;
      boxes.push({ id: z.id, label: z.label, x: x0, y, w: cols * cell, h });
      z.bayIds.forEach((bayId, k) => {
        cells.push({ x: x0 + (k % cols) * cell, y: y + HEADER + Math.floor(k / cols) * cell, size: cell, bayId, zone: z.id });
      });
      rowH = Math.max(rowH, h);
    }
    y += rowH + PAD;
  }
  return { width: w, height: Math.max(0, y - PAD), cells, zones: boxes, cell };
}

/** The cell under a point, or -1. */
export function hitCell(layout: LotLayout, x: number, y: number): number {
  return layout.cells.findIndex((c) => x >= c.x && x < c.x + c.size && y >= c.y && y < c.y + c.size);
}

/** Keyboard movement over the grid: the nearest cell in a direction. */
export function moveCell(layout: LotLayout, from: number, key: string): number {
  const cur = layout.cells[from];
  if (!cur) return 0;
  if (key === 'Home') return 0;
  if (key === 'End') return layout.cells.length - 1;
  if (key === 'ArrowRight') return Math.min(layout.cells.length - 1, from + 1);
  if (key === 'ArrowLeft') return Math.max(0, from - 1);
  const dir = key === 'ArrowDown' ? 1 : key === 'ArrowUp' ? -1 : 0;
  if (dir === 0) return from;
  let best = from;
  let bestD = Infinity;
  layout.cells.forEach((c, i) => {
    const dy = (c.y - cur.y) * dir;
    if (dy <= 0) return;
    const d = dy * 4 + Math.abs(c.x - cur.x);
    if (d < bestD) { bestD = d; best = i; }
  });
  return best;
}
