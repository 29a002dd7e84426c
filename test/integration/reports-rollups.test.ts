/**
 * Rollups stay consistent with the raw readings: a back-fill sent newest first gives the same figures
 * as the same history in time order, and after a SIGKILL at an arbitrary point the rollups brought up
 * to date on start equal a rebuild from raw of whatever readings survived.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Every } from '@parkops/ingest/store/types.ts';
import { openPipeline, writeKnownHistory, type Pipeline } from '../../ingest/src/reports/testing.ts';
import type { SqliteStore } from '../../ingest/src/store/sqlite-store.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const local = (s: string): number => Date.parse(`${s}+08:00`);
const RANGE = { from: local('2026-11-15T00:00:00'), to: local('2026-11-22T00:00:00') };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Row = Record<string, number | string | null>;
function rollupRows(p: Pipeline): Row[] {
  return p.db.prepare('SELECT * FROM report_rollup_15m ORDER BY key, bucket').all() as Row[];
}
function roundRows(rows: Row[]): Row[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1000) / 1000 : v])));
}
async function figures(p: Pipeline): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const subject of ['parking', 'parking/B', 'venues/gym']) {
    for (const every of ['15m', '1h', '1d'] as Every[]) out[`${subject} ${every}`] = await p.store.usage(subject, RANGE, every);
  }
  const b = p.reports.builder;
  const range = { from: local('2026-11-16T00:00:00'), to: local('2026-11-21T00:00:00') };
  const parking = await b.parking(range, {});
  const flood = await b.flood(range, {});
  out.parking = { summary: parking.summary, days: parking.days, zones: parking.zones };
  out.flood = flood.rooms;
  return out;
}

describe('rollups', () => {
  it('a back-fill sent newest first gives exactly the figures of the same history in time order', async () => {
    const forward = await openPipeline();
    const reverse = await openPipeline();
    try {
      writeKnownHistory(forward);
      writeKnownHistory(reverse, { order: 'reverse' });
      const a = await figures(forward);
      const b = await figures(reverse);
      expect(b).toEqual(a);
      expect(roundRows(rollupRows(reverse))).toEqual(roundRows(rollupRows(forward)));
      expect(await forward.reports.rollups!.pending()).toBe(0);
    } finally {
      await forward.close();
      await reverse.close();
    }
  });

  it('rollups created on a store that already holds readings roll up its whole history', async () => {
    const p = await openPipeline();
    try {
      writeKnownHistory(p);
      const before = await figures(p);
      const rows = rollupRows(p);
      p.db.exec("DROP TABLE report_rollup_15m; DROP TABLE report_dirty; DELETE FROM schema_versions WHERE module = 'reports'");
      const fresh = await openPipeline({ dir: p.dir });
      try {
        expect(roundRows(rollupRows(fresh))).toEqual(roundRows(rows));
        expect(await figures(fresh)).toEqual(before);
      } finally {
        await fresh.close({ keep: true });
      }
    } finally {
      await p.close();
    }
  });

  it('rolled up in small slices (as the background catch-up does), the figures are the same', async () => {
    const p = await openPipeline();
    try {
      writeKnownHistory(p, { order: 'reverse' });
      const before = await figures(p);
      const rows = rollupRows(p);
      p.db.exec('DELETE FROM report_rollup_15m');
      (p.store as SqliteStore).rollupIndex.markHistory();
      const rollups = p.reports.rollups!;
      let slices = 0;
      while ((await rollups.refresh({ maxMarks: 37 })) > 0) slices++;
      expect(slices).toBeGreaterThan(10);
      expect(roundRows(rollupRows(p))).toEqual(roundRows(rows));
      expect(await figures(p)).toEqual(before);
    } finally {
      await p.close();
    }
  });

  it('after a SIGKILL mid-write, start brings the rollups level with the surviving raw readings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-reports-crash-'));
    dirs.push(dir);
    // node --import tsx, not the tsx wrapper: a SIGKILL must hit the process that writes.
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'ingest/src/reports/testing-writer.ts'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Kill somewhere in the middle of the history (about 10,900 messages), not at a rollup boundary.
    const killAt = 3_000 + Math.floor(Math.random() * 6_000);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const sent = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /sent (\d+)\n(?![\s\S]*sent)/.exec(d.toString());
        if (m && Number(m[1]) >= killAt) {
          child.kill('SIGKILL');
          resolve(Number(m[1]));
        }
        if (d.toString().includes('done')) reject(new Error('the writer finished before it was killed'));
      });
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`writer exited ${code}: ${err}`));
      });
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)));
    expect(sent).toBeGreaterThanOrEqual(killAt);

    const p = await openPipeline({ dir });
    try {
      const readings = Object.values(await p.store.counts()).reduce((a, b) => a + b, 0);
      expect(readings).toBeGreaterThanOrEqual(sent);
      expect(await p.reports.rollups!.pending()).toBe(0);
      const afterStart = rollupRows(p);
      expect(afterStart.length).toBeGreaterThan(0);
      const figs = await figures(p);
      // The same readings rolled up from scratch.
      p.db.exec('DELETE FROM report_rollup_15m');
      (p.store as SqliteStore).rollupIndex.markHistory();
      await p.reports.rollups!.refresh();
      expect(roundRows(rollupRows(p))).toEqual(roundRows(afterStart));
      expect(await figures(p)).toEqual(figs);
    } finally {
      await p.close({ keep: true });
    }
  });
});
