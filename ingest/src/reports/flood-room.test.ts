import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/db.ts';
import { openPipeline, type Pipeline } from './testing.ts';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const T0 = Date.parse('2026-11-16T02:00:00Z');

describe('flood report: the room level is combined as the room judge combines it', () => {
  it('time above a band is the time either sensor saw it (the highest fresh sensor), not the longer of the two', async () => {
    p = await openPipeline();
    // 40 min of readings every 10 s. L1 sees 350 mm (warning band at 300) in minutes 10-20, L2 in minutes
    // 20-30; otherwise both 100 mm. The room was in the warning band for 20 minutes.
    for (let s = 0; s < 40 * 60; s += 10) {
      const min = s / 60;
      p.level('b1-power', 'L1', min >= 10 && min < 20 ? 350 : 100, T0 + s * 1000);
      p.level('b1-power', 'L2', min >= 20 && min < 30 ? 360 : 100, T0 + s * 1000);
    }
    const r = await p.reports.builder.flood({ from: T0, to: T0 + 3_600_000 }, {});
    const room = r.rooms.find((x) => x.id === 'b1-power')!;
    expect(room.summary.aboveMin).toEqual({ warn: 20, alarm: 0, critical: 0 });
    expect(room.summary.maxLevelMm).toBe(360);
    expect(room.summary.maxLevelAt).toBe(new Date(T0 + 20 * 60_000).toISOString());
    // Each sensor's own figures stay its own.
    expect(room.levels.map((l) => [l.id, l.aboveMin.warn, l.maxMm])).toEqual([
      ['L1', 10, 350],
      ['L2', 10, 360],
    ]);
  });

  it('a silent sensor stops counting after its staleAfterSec, as in the live judgement', async () => {
    p = await openPipeline();
    // L1 reads 400 mm once and goes silent; L2 keeps reading 100 mm. L1 counts for 30 s (3 x 10 s).
    p.level('b1-power', 'L1', 400, T0);
    for (let s = 0; s < 600; s += 10) p.level('b1-power', 'L2', 100, T0 + s * 1000);
    const r = await p.reports.builder.flood({ from: T0, to: T0 + 3_600_000 }, {});
    expect(r.rooms[0]!.summary.aboveMin.warn).toBe(0.5);
  });

  it('a database rolled up before the room level existed gets it for its whole history on upgrade', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-reports-upgrade-'));
    try {
      p = await openPipeline({ dir });
      for (let s = 0; s < 600; s += 10) p.level('b1-power', 'L1', 350, T0 + s * 1000);
      await p.reports.rollups!.refresh();
      await p.close({ keep: true });
      p = undefined;
      // What a version-1 database looks like: no room rows, version 1.
      const db = openDatabase(dir);
      db.prepare("DELETE FROM report_rollup_15m WHERE key = 'flood/b1-power/levels'").run();
      db.prepare("UPDATE schema_versions SET version = 1 WHERE module = 'reports'").run();
      db.close();
      p = await openPipeline({ dir });
      const r = await p.reports.builder.flood({ from: T0, to: T0 + 3_600_000 }, {});
      // Readings 0..590 s, the last one held for 30 s: 620 s.
      expect(r.rooms[0]!.summary.aboveMin.warn).toBe(10.3);
    } finally {
      await p?.close({ keep: true });
      p = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
