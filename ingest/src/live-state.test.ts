import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testSiteFile } from './alerts/testing.ts';
import type { Reading } from '@parkops/contract/readings.ts';
import { LiveState, SqliteLiveRepository } from './live-state.ts';
import { SqliteTransactions } from './db/tx.ts';
import { parseSite } from '@parkops/contract/site/index.ts';
import { openDatabase, type Db } from './store/db.ts';

const T0 = Date.parse('2026-07-15T06:00:00Z');
let dir: string;
let db: Db;
let live: LiveState;

/** As ingest does it: plan, apply to memory, persist in a transaction. */
function apply(r: Reading, receivedAt: number, replayed = false): boolean {
  const plan = live.plan(r, receivedAt, replayed);
  live.commit(plan);
  new SqliteTransactions(db).run(function* (tx) {
    yield live.persistBatch(tx, [plan]);
  });
  return plan.applies;
}
const bay = (occupied: boolean, ts: number): Reading => ({ kind: 'bay', subject: 'parking/bays/A1', ts, bayId: 'A1', zoneId: 'A', occupied });
const status = (deviceId: string, online: boolean, at: number): Reading => ({ kind: 'status', subject: `devices/${deviceId}/status`, ts: at, deviceId, online });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parkops-live-'));
  db = openDatabase(dir);
  live = new LiveState(new SqliteLiveRepository(db), parseSite(testSiteFile()));
  await live.load();
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live state: a reading is proof of life', () => {
  it('offline stands only until the next reading', () => {
    apply(bay(true, T0), T0);
    apply(status('A1', false, T0 + 1000), T0 + 1000);
    expect(live.bayView('A1', T0 + 2000)!.stale).toBe(true);
    apply(bay(true, T0 + 3000), T0 + 3000);
    expect(live.bayView('A1', T0 + 4000)!.stale).toBe(false);
  });

  it('staleness counts from receipt, not from the device clock', () => {
    // Stamped an hour ago by a device with a wrong clock, received now.
    apply(bay(true, T0 - 3_600_000), T0);
    expect(live.bayView('A1', T0 + 1000)!.stale).toBe(false);
  });

  it('a retained status the broker replays on subscribe is ignored for a device already known', () => {
    apply(bay(true, T0), T0);
    expect(apply(status('A1', false, T0 + 1000), T0 + 1000, true)).toBe(false);
    expect(live.bayView('A1', T0 + 2000)!.stale).toBe(false);
    // A device never heard of: the replay is all ParkOps knows, so it counts (until the first reading).
    expect(apply(status('A2', false, T0 + 1000), T0 + 1000, true)).toBe(true);
    // A live status (not replayed) always counts.
    expect(apply(status('A1', false, T0 + 5000), T0 + 5000)).toBe(true);
    expect(live.bayView('A1', T0 + 6000)!.stale).toBe(true);
  });
});
