/**
 * GET /api/usage (docs/api.md, HTTP API) on the SQLite store: a known history written through the real
 * Ingest pipeline (real SQLite file, rollup hook), exact figures, CSV round trip, bucket edge cases and
 * bad parameters. Times are Asia/Shanghai (UTC+8), the default site's zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageResponse } from '@parkops/contract';
import { HISTORY_START, openPipeline, serveReports, writeKnownHistory, type Pipeline, type ReportsHttp } from '../../ingest/src/reports/testing.ts';

const H = 3_600_000;
const D = 86_400_000;
const local = (s: string): string => new Date(Date.parse(`${s}+08:00`)).toISOString();

let p: Pipeline;
let http: ReportsHttp;

beforeAll(async () => {
  p = await openPipeline();
  writeKnownHistory(p);
  http = await serveReports(p);
});
afterAll(async () => {
  await http?.close();
  await p?.close();
});

async function get(path: string, role: 'manager' | 'viewer' | 'admin' | null = 'manager'): Promise<Response> {
  return fetch(`${http.base}${path}`, { headers: role ? http.auth(role) : {} });
}
async function usage(q: Record<string, string>): Promise<UsageResponse & { from: string; to: string }> {
  const res = await get(`/api/usage?${new URLSearchParams(q)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as UsageResponse & { from: string; to: string };
}

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trimEnd().split('\r\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}

describe('usage: parking', () => {
  it('hourly share of zone B on day 1 is 1 from 08:00 to 12:00 local and 0 otherwise', async () => {
    const body = await usage({ subject: 'parking/B', from: local('2026-11-16T00:00:00'), to: local('2026-11-17T00:00:00'), every: '1h' });
    expect(body.subject).toBe('parking/B');
    expect(body.every).toBe('1h');
    expect(body.timezone).toBe('Asia/Shanghai');
    expect(body.points).toHaveLength(24);
    body.points.forEach((pt, h) => {
      expect(pt.t).toBe(new Date(HISTORY_START + h * H).toISOString());
      const on = h >= 8 && h < 12;
      expect(pt.avg).toBe(on ? 1 : 0);
      expect(pt.max).toBe(on ? 1 : 0);
    });
  });

  it('daily buckets start at local midnight: avg 4/24 and max 1 on each of the 5 days', async () => {
    const body = await usage({ subject: 'parking', from: local('2026-11-16T00:00:00'), to: local('2026-11-21T00:00:00'), every: '1d' });
    expect(body.points.map((x) => x.t)).toEqual([0, 1, 2, 3, 4].map((d) => new Date(HISTORY_START + d * D).toISOString()));
    expect(body.points[0]!.t).toBe('2026-11-15T16:00:00.000Z');
    for (const pt of body.points) {
      expect(pt.avg).toBe(Math.round((4 / 24) * 10_000) / 10_000);
      expect(pt.max).toBe(1);
    }
  });

  it('a half-hour share: occupied from 08:00, so 07:30-08:30 in 15m buckets is 0, 0, 1, 1', async () => {
    const body = await usage({ subject: 'parking/B', from: local('2026-11-17T07:30:00'), to: local('2026-11-17T08:30:00'), every: '15m' });
    expect(body.points.map((x) => x.avg)).toEqual([0, 0, 1, 1]);
  });

  it('a range that starts and ends mid-bucket is rounded out to whole buckets', async () => {
    const body = await usage({ subject: 'parking/B', from: local('2026-11-16T11:37:00'), to: local('2026-11-16T12:05:00'), every: '1h' });
    expect(body.from).toBe(local('2026-11-16T11:00:00'));
    expect(body.to).toBe(local('2026-11-16T13:00:00'));
    expect(body.points).toEqual([
      { t: local('2026-11-16T11:00:00'), avg: 1, max: 1 },
      { t: local('2026-11-16T12:00:00'), avg: 0, max: 0 },
    ]);
  });

  it('a range with no data gives null points (gaps), not zeros', async () => {
    const body = await usage({ subject: 'parking', from: local('2026-11-01T00:00:00'), to: local('2026-11-04T00:00:00'), every: '1d' });
    expect(body.points).toEqual([0, 1, 2].map((d) => ({ t: new Date(Date.parse(local('2026-11-01T00:00:00')) + d * D).toISOString(), avg: null, max: null })));
  });

  it('a range longer than the data: gaps before, figures during, the carried heartbeat after, then gaps', async () => {
    const body = await usage({ subject: 'parking/B', from: local('2026-11-14T00:00:00'), to: local('2026-11-23T00:00:00'), every: '1d' });
    const avgs = body.points.map((x) => x.avg);
    const share = Math.round((4 / 24) * 10_000) / 10_000;
    // 11-21: the last heartbeat (23:50, free) holds for the 25-minute gap into the day, then nothing.
    expect(avgs).toEqual([null, null, share, share, share, share, share, 0, null]);
  });

  it('a zone without any bay reporting is all gaps, not zeros', async () => {
    const body = await usage({ subject: 'parking/E', from: local('2026-11-16T00:00:00'), to: local('2026-11-17T00:00:00'), every: '1h' });
    expect(body.points.every((x) => x.avg === null && x.max === null)).toBe(true);
  });

  it('time beyond the heartbeat gap is unknown, not free', async () => {
    // A separate bay reports once, occupied, at 2026-11-10 10:00 local: known for 25 minutes only.
    expect(p.bay('A-010', true, Date.parse(local('2026-11-10T10:00:00')))).toBe('accepted');
    const body = await usage({ subject: 'parking/A', from: local('2026-11-10T10:00:00'), to: local('2026-11-10T11:00:00'), every: '15m' });
    expect(body.points.map((x) => x.avg)).toEqual([1, 1, null, null]);
    const hourly = await usage({ subject: 'parking/A', from: local('2026-11-10T10:00:00'), to: local('2026-11-10T11:00:00'), every: '1h' });
    expect(hourly.points).toEqual([{ t: local('2026-11-10T10:00:00'), avg: 1, max: 1 }]);
  });
});

describe('usage: venues', () => {
  it('people present: 10 from 12:00 to 13:00, so hour 12 is 10 and the day averages 10/24', async () => {
    const hourly = await usage({ subject: 'venues/gym', from: local('2026-11-16T11:00:00'), to: local('2026-11-16T14:00:00'), every: '1h' });
    expect(hourly.points.map((x) => [x.avg, x.max])).toEqual([
      [0, 0],
      [10, 10],
      [0, 0],
    ]);
    const daily = await usage({ subject: 'venues/gym', from: local('2026-11-16T00:00:00'), to: local('2026-11-19T00:00:00'), every: '1d' });
    expect(daily.points.map((x) => x.avg)).toEqual([0.42, 0.42, Math.round(((10 + 2.5) / 24) * 100) / 100]);
    expect(daily.points.map((x) => x.max)).toEqual([10, 10, 10]);
  });
});

describe('usage: CSV', () => {
  it('parses back to the same numbers, with UTC times and local times in the site zone', async () => {
    const q = { subject: 'parking/B', from: local('2026-11-16T00:00:00'), to: local('2026-11-18T00:00:00'), every: '1h' };
    const json = await usage(q);
    const res = await get(`/api/usage?${new URLSearchParams({ ...q, format: 'csv' })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename=".*\.csv"/);
    const text = await res.text();
    expect(text.split('\r\n')[0]).toBe('t,local_time,time_zone,avg,max');
    const rows = parseCsv(text);
    expect(rows).toHaveLength(json.points.length);
    rows.forEach((row, i) => {
      const pt = json.points[i]!;
      expect(row.t).toBe(pt.t);
      expect(row.time_zone).toBe('Asia/Shanghai');
      expect(row.avg === '' ? null : Number(row.avg)).toBe(pt.avg);
      expect(row.max === '' ? null : Number(row.max)).toBe(pt.max);
    });
    expect(rows[8]!.local_time).toBe('2026-11-16 08:00');
    expect(rows[8]!.t).toBe('2026-11-16T00:00:00.000Z');
    expect(rows[8]!.avg).toBe('1');
  });

  it('gaps are empty cells', async () => {
    const res = await get(`/api/usage?${new URLSearchParams({ subject: 'parking/E', from: local('2026-11-16T00:00:00'), to: local('2026-11-16T02:00:00'), format: 'csv' })}`);
    const rows = parseCsv(await res.text());
    expect(rows.map((r) => [r.avg, r.max])).toEqual([
      ['', ''],
      ['', ''],
    ]);
  });
});

describe('usage: bad parameters and roles', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no subject', { every: '1h' }, /subject is required/],
    ['an unknown subject', { subject: 'parking/Z' }, /unknown subject "parking\/Z".*parking\/A/],
    ['a flood subject', { subject: 'flood/b1-power' }, /unknown subject/],
    ['from after to', { subject: 'parking', from: local('2026-11-17T00:00:00'), to: local('2026-11-16T00:00:00') }, /from must be before to/],
    ['from equal to to', { subject: 'parking', from: local('2026-11-17T00:00:00'), to: local('2026-11-17T00:00:00') }, /from must be before to/],
    ['a bad every', { subject: 'parking', every: '5m' }, /every: "5m" is not allowed; use 15m, 1h or 1d/],
    ['a bad time', { subject: 'parking', from: 'yesterday' }, /from: "yesterday" is not an ISO 8601 time/],
    ['15m over 92 days', { subject: 'parking', every: '15m', from: local('2026-07-01T00:00:00'), to: local('2026-11-16T00:00:00') }, /range is too long: at most 92 days/],
    ['1h over 366 days', { subject: 'parking', every: '1h', from: local('2025-01-01T00:00:00'), to: local('2026-11-16T00:00:00') }, /range is too long: at most 366 days/],
    ['a bad format', { subject: 'parking', format: 'xml' }, /format: "xml" is not allowed/],
  ];
  for (const [name, q, message] of cases) {
    it(`${name}: 400 with a clear message`, async () => {
      const res = await get(`/api/usage?${new URLSearchParams(q)}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(message);
      expect(body.error).not.toMatch(/at .*\.ts:\d+/);
    });
  }

  it('needs credentials (401) and the manager role (403 for a viewer); admin may', async () => {
    const q = `/api/usage?subject=parking&from=${encodeURIComponent(local('2026-11-16T00:00:00'))}&to=${encodeURIComponent(local('2026-11-16T01:00:00'))}`;
    expect((await get(q, null)).status).toBe(401);
    expect((await get(q, 'viewer')).status).toBe(403);
    expect((await get(q, 'admin')).status).toBe(200);
  });
});
