/**
 * Usage on the InfluxDB store (InfluxQL GROUP BY time(), ingest/src/reports/influx-usage.ts) against a
 * real influxd 1.6.7: the known history written through the real Ingest pipeline with the InfluxDB
 * store (SQLite outbox, drained), then the same figures as the SQLite store gives, and GET /api/usage
 * answered through the report router with the InfluxDB store behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageResponse } from '@parkops/contract';
import type { ParkingReport, VenuesReport } from '@parkops/ingest/reports/types.ts';
import { startInfluxd, type InfluxdServer } from '../harness/influxd.ts';
import { InfluxStore } from '../../ingest/src/store/influx-store.ts';
import type { Every, TimeRange } from '../../ingest/src/store/types.ts';
import { influxUsage, type InfluxQueryResult } from '../../ingest/src/reports/influx-usage.ts';
import { openPipeline, serveReports, writeKnownHistory, type Pipeline, type ReportsHttp } from '../../ingest/src/reports/testing.ts';

const local = (s: string): number => Date.parse(`${s}+08:00`);

let influx: InfluxdServer;
let onInflux: Pipeline;
let onSqlite: Pipeline;
let http: ReportsHttp;

async function query(q: string): Promise<InfluxQueryResult> {
  const res = await fetch(`${influx.url}/query?${new URLSearchParams({ db: influx.database, epoch: 'ms', q })}`);
  const body = (await res.json()) as InfluxQueryResult;
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (error) throw new Error(`InfluxQL: ${error}\n${q}`);
  return body;
}

/** The InfluxDB store with usage() wired as docs/reports.md tells the store's owner to. */
class WiredInfluxStore extends InfluxStore {
  override async usage(subject: string, range: TimeRange, every: Every) {
    return influxUsage(query, onInflux.site, subject, range, every);
  }
}

beforeAll(async () => {
  influx = await startInfluxd();
  onInflux = await openPipeline({ store: (db, site) => new WiredInfluxStore({ db, site, url: influx.url, database: influx.database, outbox: { lingerMs: 5 } }) });
  onSqlite = await openPipeline();
  writeKnownHistory(onInflux);
  writeKnownHistory(onSqlite);
  await (onInflux.store as InfluxStore).drained(60_000);
  http = await serveReports(onInflux);
});
afterAll(async () => {
  await http?.close();
  await onInflux?.close();
  await onSqlite?.close();
  await influx?.destroy();
});

describe('usage on InfluxDB', () => {
  const cases: [string, Every, string, string][] = [
    ['parking/B', '1h', '2026-11-16T00:00:00', '2026-11-17T00:00:00'],
    // Gaps before the data, then the data. (The day after differs by design: SQLite carries the last
    // heartbeat 25 minutes into it, time-weighted; InfluxQL only sees readings, and there are none.)
    ['parking', '1d', '2026-11-14T00:00:00', '2026-11-21T00:00:00'],
    ['parking/B', '15m', '2026-11-17T07:00:00', '2026-11-17T13:00:00'],
    ['parking/E', '1h', '2026-11-16T00:00:00', '2026-11-16T06:00:00'],
    ['venues/gym', '1h', '2026-11-16T00:00:00', '2026-11-17T00:00:00'],
    ['venues/gym', '1d', '2026-11-16T00:00:00', '2026-11-21T00:00:00'],
  ];
  for (const [subject, every, from, to] of cases) {
    it(`${subject} every ${every}: the same points as the SQLite store`, async () => {
      const range = { from: local(from), to: local(to) };
      const a = await onInflux.store.usage(subject, range, every);
      const b = await onSqlite.store.usage(subject, range, every);
      expect(a).toEqual(b);
      expect(a.length).toBeGreaterThan(0);
    });
  }

  it('daily buckets start at local midnight (tz), with exact figures', async () => {
    const pts = await onInflux.store.usage('parking', { from: local('2026-11-16T00:00:00'), to: local('2026-11-18T00:00:00') }, '1d');
    expect(pts).toEqual([
      { t: '2026-11-15T16:00:00.000Z', avg: 0.1667, max: 1 },
      { t: '2026-11-16T16:00:00.000Z', avg: 0.1667, max: 1 },
    ]);
  });

  it('the parking and venue reports through the router with the InfluxDB store behind it', async () => {
    const q = new URLSearchParams({ from: new Date(local('2026-11-16T00:00:00')).toISOString(), to: new Date(local('2026-11-21T00:00:00')).toISOString() });
    const parking = (await (await fetch(`${http.base}/api/reports/parking?${q}`, { headers: http.auth('manager') })).json()) as ParkingReport;
    expect(parking.summary).toMatchObject({ avg: 0.1667, sessions: 7, medianDwellMin: 250, avgDwellMin: Math.round((2180 / 7) * 10) / 10, overstays: 1 });
    expect(parking.crossCheck.entries).toBe(7);
    const venues = (await (await fetch(`${http.base}/api/reports/venues?${q}&venue=gym`, { headers: http.auth('manager') })).json()) as VenuesReport;
    expect(venues.venues[0]!.days.map((d) => d.visitors)).toEqual([10, 10, 15, 10, 10]);
  });

  it('GET /api/usage through the router with the InfluxDB store behind it', async () => {
    const q = new URLSearchParams({ subject: 'venues/gym', every: '1h', from: new Date(local('2026-11-16T11:00:00')).toISOString(), to: new Date(local('2026-11-16T14:00:00')).toISOString() });
    const res = await fetch(`${http.base}/api/usage?${q}`, { headers: http.auth('manager') });
    expect(res.status).toBe(200);
    const body = (await res.json()) as UsageResponse;
    expect(body.points.map((p) => [p.avg, p.max])).toEqual([
      [0, 0],
      [10, 10],
      [0, 0],
    ]);
  });
});
