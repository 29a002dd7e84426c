/**
 * InfluxDB mode: start() reads the database's retention policies from a real influxd 1.6.7 and says so
 * (a warning and a health problem line) when the default policy is infinite or shorter than
 * PARKOPS_RETENTION_DAYS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type InfluxdServer } from '../harness/influxd.ts';
import { openDatabase } from '../../ingest/src/store/db.ts';
import { InfluxStore, parseInfluxDuration } from '../../ingest/src/store/influx-store.ts';
import { site } from './store-suite.ts';

let influx: InfluxdServer;
const root = mkdtempSync(join(tmpdir(), 'parkops-influx-retention-'));
beforeAll(async () => {
  influx = await startInfluxd();
});
afterAll(async () => {
  await influx?.destroy();
  rmSync(root, { recursive: true, force: true });
});

async function influxql(q: string): Promise<void> {
  const res = await fetch(`${influx.url}/query?${new URLSearchParams({ q }).toString()}`, { method: 'POST' });
  const body = (await res.json()) as { results?: Array<{ error?: string }> };
  if (res.status !== 200 || body.results?.some((r) => r.error)) throw new Error(`${q}: ${res.status} ${JSON.stringify(body)}`);
}

async function problemsWith(database: string, retentionDays: number): Promise<string[]> {
  const db = openDatabase(join(root, `${database}-${retentionDays}-${Math.random().toString(36).slice(2)}`));
  const warnings: string[] = [];
  const log = { info: () => undefined, error: () => undefined, warn: (_o: object, msg: string) => void warnings.push(msg) };
  const store = new InfluxStore({ db, site, url: influx.url, database, retentionDays, log });
  try {
    await store.start();
    const problems = (await store.health()).problems ?? [];
    expect(warnings).toEqual(problems);
    return problems;
  } finally {
    await store.stop();
    db.close();
  }
}

describe('InfluxDB retention policy check', () => {
  it('reads Go durations as InfluxDB prints them', () => {
    expect(parseInfluxDuration('0s')).toBe(0);
    expect(parseInfluxDuration('9600h0m0s')).toBe(400 * 86_400_000);
    expect(parseInfluxDuration('1h30m0s')).toBe(5_400_000);
    expect(parseInfluxDuration('soon')).toBeNull();
  });

  it('warns about the infinite autogen policy a new database gets', async () => {
    const problems = await problemsWith('fresh_db', 400);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/default retention policy "autogen" is infinite.*PARKOPS_RETENTION_DAYS=400/);
  });

  it('is content with a default policy of the setting, and warns about a shorter one', async () => {
    await influxql('CREATE DATABASE kept_db');
    await influxql('CREATE RETENTION POLICY "r400" ON "kept_db" DURATION 400d REPLICATION 1 DEFAULT');
    expect(await problemsWith('kept_db', 400)).toEqual([]);
    await influxql('CREATE RETENTION POLICY "r30" ON "kept_db" DURATION 30d REPLICATION 1 DEFAULT');
    const problems = await problemsWith('kept_db', 400);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/"r30" keeps 30 days, shorter than PARKOPS_RETENTION_DAYS=400/);
    // Keeping for good (0) with a finite policy is a disagreement too.
    expect((await problemsWith('kept_db', 0))[0]).toMatch(/PARKOPS_RETENTION_DAYS=0 asks to keep readings for good/);
  });
});
