/**
 * Exports a manager can open, on the known five-day history (ingest/src/reports/testing.ts, real SQLite
 * file, the report router behind the real AuthService): CSV headers in the reader's language with local
 * time beside UTC and the UTF-8 BOM, `?range=` periods in the site's days, and the monthly PDF turned
 * back into text with poppler's pdftotext to find its figures and its Chinese headings (pdffonts shows
 * the CJK font embedded). Needs poppler-utils and fonts-noto-cjk (.ci/run installs both).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportsCalendar } from '@parkops/contract/reports.ts';
import type { ParkingReport } from '@parkops/ingest/reports/types.ts';
import { findCjkFont, NO_CJK_FONT, type FloodIncident } from '../../ingest/src/reports/monthly-pdf.ts';
import { openPipeline, serveReports, writeKnownHistory, type Pipeline, type ReportsHttp } from '../../ingest/src/reports/testing.ts';

const local = (s: string): string => new Date(Date.parse(`${s}+08:00`)).toISOString();
const FROM = local('2026-11-16T00:00:00');
const TO = local('2026-11-21T00:00:00');
const range = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;
const BOM = '\uFEFF';

// An incident as the alert engine lists them (the engine itself is exercised in reports-spreadsheet.test.ts).
const INCIDENTS: FloodIncident[] = [{ room: 'b1-power', startedAt: local('2026-11-16T03:00:00'), endedAt: local('2026-11-16T03:40:00'), peakMm: 350, peakAt: local('2026-11-16T03:05:00'), alertCount: 2 }];

let p: Pipeline;
let http: ReportsHttp;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parkops-exports-'));
  p = await openPipeline({ reports: { floodIncidents: async (from, to) => INCIDENTS.filter((i) => Date.parse(i.startedAt) < to && Date.parse(i.endedAt ?? i.startedAt) >= from) } });
  writeKnownHistory(p);
  http = await serveReports(p);
});
afterAll(async () => {
  await http?.close();
  await p?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const get = (path: string): Promise<Response> => fetch(`${http.base}${path}`, { headers: http.auth('manager') });
async function text(path: string): Promise<string> {
  const res = await get(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
}
const rows = (csv: string): string[][] => csv.replace(BOM, '').trimEnd().split('\r\n').map((l) => l.split(','));

describe('CSV for people', () => {
  const tables: [string, string][] = [
    ['parking', 'days'],
    ['parking', 'occupancy'],
    ['parking', 'hours'],
    ['parking', 'heatmap'],
    ['parking', 'zones'],
    ['parking', 'overstays'],
    ['venues', 'days'],
    ['venues', 'occupancy'],
    ['venues', 'hours'],
    ['venues', 'heatmap'],
    ['flood', 'days'],
    ['flood', 'levels'],
    ['flood', 'pumps'],
  ];
  for (const [kind, table] of tables) {
    it(`${kind} ${table}: a BOM, Chinese headers with lang=zh-CN, and the site's time beside UTC`, async () => {
      const zh = await text(`/api/reports/${kind}?${range}&format=csv&table=${table}&lang=zh-CN`);
      expect(zh.startsWith(BOM)).toBe(true);
      const head = rows(zh)[0]!;
      expect(head.every((h) => /[\u4e00-\u9fff]/.test(h) || /^P\d_|^[A-Z]\d /.test(h)), head.join(' | ')).toBe(true);
      // Every table that carries a UTC time also carries the local one; the others name the zone of their local dates and hours.
      const utc = head.filter((h) => h.includes('UTC')).length;
      const localCols = head.filter((h) => h.includes('当地')).length;
      if (utc > 0) expect(localCols).toBeGreaterThanOrEqual(utc);
      else if (table !== 'pumps') expect(head).toContain('时区');
      const en = rows(await text(`/api/reports/${kind}?${range}&format=csv&table=${table}&lang=en`))[0]!;
      expect(en).toHaveLength(head.length);
      expect(en.some((h) => /[A-Z][a-z]+ /.test(h))).toBe(true);
      // Without lang: the machine names of docs/reports.md, which scripts read.
      const machine = rows(await text(`/api/reports/${kind}?${range}&format=csv&table=${table}`))[0]!;
      expect(machine.every((h) => /^[a-z0-9_]+$/i.test(h)), machine.join(',')).toBe(true);
    });
  }

  it('cells people read are in their language too: weekdays, yes/no, zone and venue names', async () => {
    const heat = rows(await text(`/api/reports/parking?${range}&format=csv&table=heatmap&lang=zh-CN`));
    expect(heat[1]!.slice(0, 3)).toEqual(['周一', '0', 'Asia/Shanghai']);
    const over = rows(await text(`/api/reports/parking?${range}&format=csv&table=overstays&lang=zh-CN`));
    expect(over[0]).toEqual(['通行证', '入场闸口', '入场时间（UTC）', '入场时间（当地）', '出场时间（UTC）', '出场时间（当地）', '小时数', '仍在场内']);
    expect(over[1]).toEqual(['P3', 'north-in', local('2026-11-17T18:00:00'), '2026-11-17 18:00', local('2026-11-18T08:30:00'), '2026-11-18 08:30', '14.5', '否']);
    const zones = rows(await text(`/api/reports/parking?${range}&format=csv&table=zones&lang=zh-CN`));
    expect(zones.find((r) => r[0] === 'A')![1]).toBe('A区（北入口）');
    const gym = rows(await text(`/api/reports/venues?${range}&venue=gym&format=csv&lang=zh-CN`));
    expect(gym[1]!.slice(0, 5)).toEqual(['gym', '室内健身房', '2026-11-16', 'Asia/Shanghai', '10']);
    const pumps = rows(await text(`/api/reports/flood?${range}&format=csv&table=pumps&lang=en`));
    expect(pumps.find((r) => r[2] === 'P2')!.slice(3, 4)).toEqual(['standby']);
  });

  it('the usage CSV takes lang too, and a language not offered is a 400 naming lang', async () => {
    const usage = rows(await text(`/api/usage?subject=parking/B&${range}&format=csv&lang=zh-CN`));
    expect(usage[0]).toEqual(['时间（UTC）', '当地时间', '时区', '平均占用率（0-1）', '最高占用率（0-1）']);
    expect(usage[9]!.slice(0, 2)).toEqual([local('2026-11-16T08:00:00'), '2026-11-16 08:00']);
    const res = await get(`/api/reports/parking?${range}&format=csv&lang=fr`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('lang: "fr" is not offered; use en or zh-CN');
  });
});

describe('?range= periods in the site days', () => {
  it('range=week&date=... is the Monday-to-Sunday week of the site zone, the same figures as from/to', async () => {
    const week = (await (await get('/api/reports/parking?range=week&date=2026-11-18')).json()) as ParkingReport;
    expect([week.from, week.to]).toEqual([FROM, local('2026-11-23T00:00:00')]);
    const same = (await (await get(`/api/reports/parking?from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(local('2026-11-23T00:00:00'))}`)).json()) as ParkingReport;
    expect(week.summary).toEqual(same.summary);
    const custom = (await (await get('/api/reports/parking?range=custom&from=2026-11-16&to=2026-11-20')).json()) as ParkingReport;
    expect([custom.from, custom.to, custom.summary.sessions]).toEqual([FROM, TO, 7]);
  });

  const bad: [string, string][] = [
    ['/api/reports/parking?range=fortnight', 'range: "fortnight" is not a period; use day, week, month, custom, 7d, 30d, 12m'],
    ['/api/reports/venues?range=day&date=2026-13-01', 'date: "2026-13-01" is not a date; use YYYY-MM-DD'],
    ['/api/reports/flood?range=custom&from=2025-01-01&to=2026-11-01', 'range: 670 days is too long; at most 366 days'],
    ['/api/usage?subject=parking&every=15m&range=month&date=2026-01-01', ''],
  ];
  for (const [path, message] of bad) {
    it(`${path.slice(5, 60)}: ${message ? 'a 400 naming the parameter' : 'allowed'}`, async () => {
      const res = await get(path);
      if (message === '') return expect(res.status).toBe(200);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe(message);
    });
  }

  it('GET /api/reports/calendar gives the picker the site zone, its today and the caps', async () => {
    const c = (await (await get('/api/reports/calendar')).json()) as ReportsCalendar;
    expect(c.timezone).toBe('Asia/Shanghai');
    expect(c.today).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(c.maxDays.report).toBe(366);
    expect(c.simulated).toBe(false);
  });
});

describe('the monthly PDF', () => {
  function pdfText(buf: ArrayBuffer, name: string): string {
    const file = join(tmp, name);
    writeFileSync(file, Buffer.from(buf));
    return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  }

  it('in Chinese: the headings, the figures of the pages, the incident, and the CJK font embedded', async () => {
    const res = await get('/api/reports/monthly.pdf?month=2026-11&lang=zh-CN');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="parkops_monthly_2026-11_zh-CN.pdf"');
    const buf = await res.arrayBuffer();
    expect(Buffer.from(buf).subarray(0, 5).toString()).toBe('%PDF-');
    const t = pdfText(buf, 'zh.pdf');
    if (process.env.PARKOPS_PRINT_PDF) process.stdout.write(t);
    for (const heading of ['济宁创新谷 月度利用率报告', '2026年11月', '停车', '健身房与广场', '本月防汛事件', '防汛事件（水位达到预警线）', '水位达到预警线的日期']) expect(t, heading).toContain(heading);
    const month = (await (await get(`/api/reports/parking?from=${encodeURIComponent(local('2026-11-01T00:00:00'))}&to=${encodeURIComponent(local('2026-12-01T00:00:00'))}&every=1d`)).json()) as ParkingReport;
    // The same figures as the page for that month: occupancy 17 % (4 of 24 hours; the last reading holds
    // 20 min more into day 6), 7 sessions, 1 overstay.
    expect(Math.round(month.summary.avg! * 100)).toBe(17);
    expect(t).toMatch(/平均占用率\s+17%/);
    expect(t).toMatch(/停车次数（闸口入场）\s+7\s/);
    expect(t).toMatch(/超时停车（超过 12 小时）\s+1\s/);
    expect(t).toMatch(/平均停留\s+5 小时 11 分/); // 2180 min / 7 sessions = 311.4 min
    expect(t).toMatch(/B区（南入口）\s+120\s+17%\s+100%\s+2026-11-16 08:00/);
    expect(t).toMatch(/室内健身房\s+55\s+1\.8/); // 55 visitors over 30 days
    expect(t).toMatch(/创启大厦B1配电室\s+350 mm/);
    expect(t).toMatch(/创启大厦B1配电室\s+2026-11-16 03:00\s+2026-11-16 03:40\s+40 分\s+350 mm\s+2/);
    expect(t).toMatch(/2026-11-18\s+350 mm\s+10 分/);
    expect(t).toContain('第 1 页，共');
    const fonts = execFileSync('pdffonts', [join(tmp, 'zh.pdf')], { encoding: 'utf8' });
    expect(fonts).toMatch(/NotoSansCJKsc-Regular\s+CID Type 0C\s+Identity-H\s+yes\s+yes/);
  });

  it('in English for an English reader', async () => {
    const t = pdfText(await (await get('/api/reports/monthly.pdf?month=2026-11&lang=en')).arrayBuffer(), 'en.pdf');
    for (const s of ['Jining Innovation Valley: monthly utilisation report', 'November 2026', 'Gym and plazas', 'Flood events of the month']) expect(t).toContain(s);
    expect(t).toMatch(/Average occupancy\s+17%\s+–/);
    expect(t).toMatch(/Indoor gym\s+55/);
    expect(t).toMatch(/Page 1 of \d/);
  });

  it('a month with no readings says so; a bad or future month is a 400 naming month', async () => {
    const t = pdfText(await (await get('/api/reports/monthly.pdf?month=2026-01&lang=en')).arrayBuffer(), 'empty.pdf');
    expect(t).toContain('No readings were stored in this month.');
    expect(t).toContain('No flood incidents this month.');
    for (const [q, message] of [
      ['month=2026-13', 'month: "2026-13" is not a month; use YYYY-MM'],
      ['month=2999-01', 'month: 2999-01 has not begun yet'],
      ['month=Nov', 'month: must be a month, YYYY-MM'],
      ['lang=de', 'lang: must be en or zh-CN'],
    ] as const) {
      const res = await get(`/api/reports/monthly.pdf?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe(message);
    }
  });

  it('without a CJK font it fails with a message saying what to install, not a PDF of empty boxes', async () => {
    expect(findCjkFont('/nonexistent/font.ttf')).toBe('PARKOPS_PDF_FONT: /nonexistent/font.ttf does not exist');
    expect(findCjkFont('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf')).toMatch(/^PARKOPS_PDF_FONT: .*DejaVuSans.ttf has no Chinese characters/);
    expect(NO_CJK_FONT).toContain('apt-get install fonts-noto-cjk');
    const q = await openPipeline({ reports: { pdfFont: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' } });
    const h = await serveReports(q);
    try {
      const res = await fetch(`${h.base}/api/reports/monthly.pdf?month=2026-11`, { headers: h.auth('manager') });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/has no Chinese characters/);
    } finally {
      await h.close();
      await q.close();
    }
  });

  it('is for managers: a viewer gets 403', async () => {
    const res = await fetch(`${http.base}/api/reports/monthly.pdf`, { headers: http.auth('viewer') });
    expect(res.status).toBe(403);
  });
});
