/**
 * GET /api/reports/{parking,venues,flood,heatmap} on the SQLite store, from the known history in
 * ingest/src/reports/testing.ts (five days, Asia/Shanghai): exact dwell, turnover, overstays,
 * visitors per day, pump run time and starts, time above a band, the hour x weekday heatmap, the
 * previous-period comparison, and the CSV tables parsing back to the same numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloodReport, HeatmapReport, ParkingReport, VenuesReport } from '@parkops/ingest/reports/types.ts';
import { openPipeline, serveReports, writeKnownHistory, type Pipeline, type ReportsHttp } from '../../ingest/src/reports/testing.ts';

const local = (s: string): string => new Date(Date.parse(`${s}+08:00`)).toISOString();
const FROM = local('2026-11-16T00:00:00');
const TO = local('2026-11-21T00:00:00');
const range = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

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

async function get(path: string): Promise<Response> {
  return fetch(`${http.base}${path}`, { headers: http.auth('manager') });
}
async function json<T>(path: string): Promise<T> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}
function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trimEnd().split('\r\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
}
const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));

describe('parking report', () => {
  let r: ParkingReport;
  beforeAll(async () => {
    r = await json<ParkingReport>(`/api/reports/parking?${range}`);
  });

  it('occupancy: average 4/24, peak 1 at 08:00 local on day 1, hourly series', () => {
    expect(r.from).toBe(FROM);
    expect(r.to).toBe(TO);
    expect(r.timezone).toBe('Asia/Shanghai');
    expect(r.every).toBe('1h');
    expect(r.summary.avg).toBe(0.1667);
    expect(r.summary.peak).toEqual({ share: 1, at: local('2026-11-16T08:00:00') });
    expect(r.occupancy).toHaveLength(120);
    expect(r.occupancy[8]).toEqual({ t: local('2026-11-16T08:00:00'), avg: 1, max: 1 });
    expect(r.byHour.filter((h) => h.avg === 1).map((h) => h.hour)).toEqual([8, 9, 10, 11]);
    expect(r.byHour[12]).toEqual({ hour: 12, avg: 0, max: 0 });
  });

  it('sessions, turnover, average and median dwell, overstays', () => {
    // P1 250 min x5, P2 60 min, P3 870 min: 7 sessions.
    expect(r.summary.sessions).toBe(7);
    expect(r.summary.turnover).toBe(Math.round((7 / 600 / 5) * 1000) / 1000);
    expect(r.summary.avgDwellMin).toBe(Math.round((2180 / 7) * 10) / 10);
    expect(r.summary.medianDwellMin).toBe(250);
    expect(r.summary.overstays).toBe(1);
    expect(r.overstays.limitHours).toBe(12);
    expect(r.overstays.items).toEqual([{ pass: 'P3', gateIn: 'north-in', entryAt: local('2026-11-17T18:00:00'), exitAt: local('2026-11-18T08:30:00'), hours: 14.5, open: false }]);
  });

  it('days follow local dates with their own figures', () => {
    expect(r.days.map((d) => d.date)).toEqual(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
    const d0 = r.days[0]!;
    expect(d0).toMatchObject({ avg: 0.1667, max: 1, peakAt: local('2026-11-16T08:00:00'), sessions: 2, avgDwellMin: 155, medianDwellMin: 155, entries: 2, exits: 2, sensorArrivals: 1 });
    expect(r.days[1]).toMatchObject({ sessions: 2, overstays: 1, avgDwellMin: 560, entries: 2, exits: 1 });
    expect(r.days[3]).toMatchObject({ sessions: 1, avgDwellMin: 250, turnover: Math.round((1 / 600) * 1000) / 1000 });
  });

  it('zone comparison: B has the data, the other zones are gaps', () => {
    const byId = Object.fromEntries(r.zones.map((z) => [z.id, z]));
    expect(byId.B).toMatchObject({ bays: 120, avg: 0.1667, max: 1, peakAt: local('2026-11-16T08:00:00') });
    expect(byId.C).toMatchObject({ bays: 140, avg: null, max: null, peakAt: null });
  });

  it('gate-vs-sensor cross-check: 7 entries, 5 sensor arrivals; silent bays listed; no stuck bay', () => {
    expect(r.crossCheck.entries).toBe(7);
    expect(r.crossCheck.exits).toBe(7);
    expect(r.crossCheck.sensorArrivals).toBe(5);
    expect(r.crossCheck.driftPct).toBe(28.6);
    expect(r.crossCheck.drift).toBe(false); // fewer than 5 cars apart
    expect(r.crossCheck.stuckBays).toEqual([]);
    expect(r.crossCheck.silentBays).toHaveLength(599);
    expect(r.crossCheck.silentBays.find((b) => b.bayId === 'B-001')).toBeUndefined();
  });

  it('the heatmap puts Monday..Friday 08:00-11:00 at 1', () => {
    expect(r.heatmap.weekdays).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    for (let d = 0; d < 5; d++) {
      expect(r.heatmap.avg[d]![8]).toBe(1);
      expect(r.heatmap.avg[d]![12]).toBe(0);
    }
    // The weekend has no data: gaps.
    expect(r.heatmap.avg[6]![10]).toBeNull();
  });

  it('the previous period (the 5 days before) has no data: nulls and zero counts, and the change says so', () => {
    expect(r.previous.from).toBe(local('2026-11-11T00:00:00'));
    expect(r.previous.to).toBe(FROM);
    expect(r.previous.summary.avg).toBeNull();
    expect(r.previous.summary.sessions).toBe(0);
    expect(r.change.avg).toBeNull();
    expect(r.change.sessions).toBe(7);
  });

  it('one zone, and a stuck sensor flagged after 72 h without a change while still reporting', async () => {
    // C-001 reports "occupied" every 10 min for 4 days before the range end.
    const end = Date.parse(TO);
    for (let t = end - 4 * 86_400_000; t < end; t += 600_000) expect(p.bay('C-001', true, t)).toBe('accepted');
    const z = await json<ParkingReport>(`/api/reports/parking?${range}&zone=C`);
    expect(z.zone).toBe('C');
    expect(z.bays).toBe(140);
    expect(z.summary.avg).toBe(1);
    expect(z.crossCheck.stuckBays).toEqual([{ bayId: 'C-001', zone: 'C', occupied: true, since: new Date(end - 4 * 86_400_000).toISOString(), hours: 96 }]);
  });

  it('CSV tables parse back to the same numbers', async () => {
    const r = await json<ParkingReport>(`/api/reports/parking?${range}`);
    const days = parseCsv(await (await get(`/api/reports/parking?${range}&format=csv`)).text());
    expect(days.map((d) => d.date)).toEqual(r.days.map((d) => d.date));
    days.forEach((row, i) => {
      const d = r.days[i]!;
      expect(num(row.avg)).toBe(d.avg);
      expect(num(row.sessions)).toBe(d.sessions);
      expect(num(row.avg_dwell_min)).toBe(d.avgDwellMin);
      expect(num(row.median_dwell_min)).toBe(d.medianDwellMin);
      expect(num(row.turnover)).toBe(d.turnover);
      expect(row.time_zone).toBe('Asia/Shanghai');
    });
    const occ = parseCsv(await (await get(`/api/reports/parking?${range}&format=csv&table=occupancy`)).text());
    expect(occ.map((o) => num(o.avg))).toEqual(r.occupancy.map((o) => o.avg));
    const heat = parseCsv(await (await get(`/api/reports/parking?${range}&format=csv&table=heatmap`)).text());
    expect(heat).toHaveLength(168);
    expect(heat.find((h) => h.weekday === 'Wed' && h.hour === '9')!.avg).toBe('1');
    const over = parseCsv(await (await get(`/api/reports/parking?${range}&format=csv&table=overstays`)).text());
    expect(over.map((o) => [o.pass, num(o.hours)])).toEqual([['P3', 14.5]]);
  });
});

describe('a report range that starts and ends mid-hour', () => {
  it('counts only its own quarters, in 15m and 1h series alike', async () => {
    const q = `from=${encodeURIComponent(local('2026-11-16T11:15:00'))}&to=${encodeURIComponent(local('2026-11-16T12:45:00'))}`;
    const r1 = await json<ParkingReport>(`/api/reports/parking?${q}&zone=B&every=1h`);
    const r15 = await json<ParkingReport>(`/api/reports/parking?${q}&zone=B&every=15m`);
    // 11:15-12:00 occupied (45 min), 12:00-12:45 free (45 min).
    expect(r1.summary.avg).toBe(0.5);
    expect(r1.days).toHaveLength(1);
    expect(r1.days[0]).toMatchObject({ date: '2026-11-16', avg: 0.5, max: 1 });
    expect(r1.byHour.find((h) => h.hour === 11)).toEqual({ hour: 11, avg: 1, max: 1 });
    expect(r1.byHour.find((h) => h.hour === 12)).toEqual({ hour: 12, avg: 0, max: 0 });
    expect(r1.occupancy.map((p) => [p.t, p.avg])).toEqual([
      [local('2026-11-16T11:00:00'), 1],
      [local('2026-11-16T12:00:00'), 0],
    ]);
    expect(r15.occupancy.map((p) => p.avg)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(r15.summary).toEqual(r1.summary);
  });
});

describe('venues report', () => {
  it('visitors per day (sum of in), peak with when, busiest hours', async () => {
    const r = await json<VenuesReport>(`/api/reports/venues?${range}&venue=gym`);
    expect(r.venues).toHaveLength(1);
    const gym = r.venues[0]!;
    expect(gym.days.map((d) => d.visitors)).toEqual([10, 10, 15, 10, 10]);
    expect(gym.summary.visitors).toBe(55);
    expect(gym.summary.visitorsPerDay).toBe(11);
    expect(gym.summary.peak).toEqual({ people: 10, at: local('2026-11-16T12:00:00'), ofCapacity: Math.round((10 / 60) * 1000) / 1000 });
    expect(gym.days[2]).toMatchObject({ date: '2026-11-18', max: 10, avg: Math.round((12.5 / 24) * 100) / 100 });
    expect(gym.busiestHours.map((h) => h.hour)).toEqual([12, 18]);
    expect(gym.byHour[12]).toEqual({ hour: 12, avg: 10, max: 10, visitors: 50 });
    expect(gym.heatmap.avg[2]![18]).toBe(2.5);
    const csv = parseCsv(await (await get(`/api/reports/venues?${range}&venue=gym&format=csv`)).text());
    expect(csv.map((c) => num(c.visitors))).toEqual([10, 10, 15, 10, 10]);
  });
});

describe('flood report', () => {
  it('per day: pump run hours and starts, max level and time above each band', async () => {
    const r = await json<FloodReport>(`/api/reports/flood?${range}`);
    const room = r.rooms.find((x) => x.id === 'b1-power')!;
    expect(room.days).toHaveLength(5);
    for (const d of room.days) {
      expect(d.pumps.find((x) => x.id === 'P1')).toEqual({ id: 'P1', runHours: 0.33, starts: 1 });
      expect(d.maxLevelMm).toBe(350);
      expect(d.aboveMin).toEqual({ warn: 10, alarm: 0, critical: 0 });
    }
    expect(room.days[0]!.maxLevelAt).toBe(local('2026-11-16T03:00:00'));
    expect(room.pumps.find((x) => x.id === 'P1')).toMatchObject({ runHours: Math.round((100 / 60) * 100) / 100, starts: 5, startsPerDay: 1 });
    expect(room.pumps.find((x) => x.id === 'P2')).toMatchObject({ runHours: 0, starts: 0 });
    expect(room.summary).toMatchObject({ starts: 5, maxLevelMm: 350, aboveMin: { warn: 50, alarm: 0, critical: 0 } });
    const csv = parseCsv(await (await get(`/api/reports/flood?${range}&format=csv`)).text());
    expect(csv.map((c) => [num(c.P1_run_hours), num(c.P1_starts), num(c.max_level_mm), num(c.above_warn_min)])).toEqual(room.days.map(() => [0.33, 1, 350, 10]));
  });
});

describe('heatmap and report parameters', () => {
  it('GET /api/reports/heatmap for a venue', async () => {
    const h = await json<HeatmapReport>(`/api/reports/heatmap?subject=venues/gym&${range}`);
    expect(h.avg[0]![12]).toBe(10);
    expect(h.avg[0]![3]).toBe(0);
    expect(h.avg[5]![12]).toBeNull();
  });

  const bad: [string, string, RegExp][] = [
    ['/api/reports/parking?zone=Q', 'unknown zone', /zone: unknown zone "Q"/],
    ['/api/reports/venues?venue=pool', 'unknown venue', /venue: unknown venue "pool"/],
    ['/api/reports/flood?room=attic', 'unknown room', /room: unknown flood room "attic"/],
    ['/api/reports/heatmap?subject=parking/Q', 'unknown subject', /unknown subject/],
    [`/api/reports/parking?from=${encodeURIComponent(TO)}&to=${encodeURIComponent(FROM)}`, 'from after to', /from must be before to/],
    ['/api/reports/parking?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'over a year', /range is too long: at most 366 days/],
    ['/api/reports/parking?every=2h', 'bad every', /every: "2h" is not allowed/],
    ['/api/reports/parking?from=2026-01-01T00:00:00Z&to=2026-04-15T00:00:00Z&every=15m', '15m too long', /15m is allowed for ranges up to 92 days/],
    ['/api/reports/parking?format=csv&table=cars', 'bad table', /table: "cars" is not allowed/],
  ];
  for (const [path, name, message] of bad) {
    it(`${name}: 400 with a clear message`, async () => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    });
  }
});
