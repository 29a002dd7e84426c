/**
 * A contract-valid reading stream mixed as a real site sends it: mostly bay heartbeats and changes,
 * level sensors every 10 s, pump heartbeats, venue counts and gate scans. Deterministic.
 */
import { Topics } from '@parkops/contract/index.ts';
import type { Site } from '@parkops/contract/site/index.ts';

export interface Message {
  topic: string;
  payload: string;
}

export function siteStream(site: Site, n: number, opts: { prefix?: string; startTs?: number } = {}): Message[] {
  const topics = new Topics(opts.prefix ?? 'park');
  const bays = site.bays;
  const room = site.rooms[0]!;
  const base = opts.startTs ?? Date.now() - n - 60_000;
  const out: Message[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const ts = base + i; // unique per subject, never in the future
    const k = i % 100;
    let m: Message;
    if (k < 80) {
      const bay = bays[(i * 7) % bays.length]!;
      m = { topic: topics.bay(bay.id), payload: JSON.stringify({ occupied: (i >> 3) % 2 === 0, ts, battery: 80 + (i % 20) }) };
    } else if (k < 90) {
      const s = room.levels[i % room.levels.length]!;
      m = { topic: topics.level(room.id, s.id), payload: JSON.stringify({ mm: 120 + (i % 50), ts }) };
    } else if (k < 94) {
      const p = room.pumps[i % room.pumps.length]!;
      m = { topic: topics.pump(room.id, p.id), payload: JSON.stringify({ running: false, amps: 0, ts }) };
    } else if (k < 98) {
      const v = site.venues[i % site.venues.length]!;
      m = { topic: topics.venue(v.id), payload: JSON.stringify({ in: i % 3, out: i % 2, ts }) };
    } else {
      const g = site.gates[i % site.gates.length]!;
      m = { topic: topics.gate(g.id), payload: JSON.stringify({ event: g.direction === 'exit' ? 'exit' : 'entry', pass: `QR-${i}`, ts }) };
    }
    out[i] = m;
  }
  return out;
}
