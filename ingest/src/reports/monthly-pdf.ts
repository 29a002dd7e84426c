/**
 * The monthly utilisation report as a PDF (docs/reports.md): parking, the gym and plazas, and the flood
 * events of the month, built from the same report builder as the dashboard's pages, in Chinese or
 * English. pdfkit writes the file; Chinese needs a CJK font embedded (subset) in it, found on the
 * machine (Debian's fonts-noto-cjk; PARKOPS_PDF_FONT names another). Without one the request fails
 * with a message saying what to install, rather than a PDF of empty boxes.
 */
import { existsSync } from 'node:fs';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import { HttpError } from '../api/http-errors.ts';
import { LocalTime } from './local-time.ts';
import { addMonths, midnightOf, parseDate, today } from './periods.ts';
import { localName, type ReportLang } from './report-text.ts';
import type { Reports } from './index.ts';
import type { Site } from '@parkops/contract/site/index.ts';
import { renderInWorker } from './pdf-render.ts';
import type { FloodReport, ParkingReport, VenuesReport } from './types.ts';
import { QUARTER_MS } from './local-time.ts';

export interface MonthRange {
  /** YYYY-MM */
  month: string;
  from: number;
  /** end of the figures: the month's end, or now while the month is under way */
  to: number;
  end: number;
}

/** `?month=YYYY-MM` (default: this month) in the site's zone, or a message naming the parameter. */
export function monthRange(lt: LocalTime, param: string | undefined, now: number): MonthRange | string {
  const month = param ?? today(lt, now).slice(0, 7);
  if (!/^\d{4}-\d{2}$/.test(month) || parseDate(`${month}-01`) === null) return `month: "${month.slice(0, 20)}" is not a month; use YYYY-MM`;
  if (month > today(lt, now).slice(0, 7)) return `month: ${month} has not begun yet`;
  const first = `${month}-01`;
  const from = midnightOf(lt, first);
  const end = midnightOf(lt, addMonths(first, 1));
  return { month, from, end, to: Math.min(end, Math.ceil(now / QUARTER_MS) * QUARTER_MS) };
}

/** A flood incident (from the alert engine): a room's water above its warning band, open to closed. */
export interface FloodIncident {
  room: string;
  startedAt: string;
  endedAt?: string | undefined;
  peakMm?: number | undefined;
  peakAt?: string | undefined;
  alertCount: number;
}

// ---- the CJK font -------------------------------------------------------------------------------

export interface PdfFont {
  regular: { path: string; family?: string | undefined };
  bold: { path: string; family?: string | undefined };
}

/** Where Debian (fonts-noto-cjk, fonts-wqy-zenhei), Alpine (font-noto-cjk) and Fedora put a Simplified Chinese face. */
const CANDIDATES: { regular: [string, string?]; bold?: [string, string?] }[] = [
  { regular: ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'], bold: ['/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc', 'NotoSansCJKsc-Bold'] },
  { regular: ['/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'], bold: ['/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc', 'NotoSansCJKsc-Bold'] },
  { regular: ['/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'], bold: ['/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc', 'NotoSansCJKsc-Bold'] },
  { regular: ['/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 'WenQuanYiZenHei'] },
];

export const NO_CJK_FONT =
  'the monthly PDF needs a font with Chinese characters and none was found: install Debian\'s fonts-noto-cjk (apt-get install fonts-noto-cjk), or set PARKOPS_PDF_FONT to a .ttf/.otf file (or file.ttc#PostScriptName)';

/** Opens a face and checks that it draws Chinese (月, 报, 泵): a Latin font would print empty boxes. */
function drawsChinese(path: string, family: string | undefined): boolean {
  try {
    const f = fontkit.openSync(path, family);
    const face = 'fonts' in f ? f.fonts[0] : f;
    return face !== undefined && [0x6708, 0x62a5, 0x6cf5].every((cp) => face.hasGlyphForCodePoint(cp));
  } catch {
    return false;
  }
}

/** The CJK font to embed: `configured` (PARKOPS_PDF_FONT) first, else the first known one on this machine. */
export function findCjkFont(configured?: string): PdfFont | string {
  if (configured) {
    const [path, family] = configured.split('#') as [string, string | undefined];
    if (!existsSync(path)) return `PARKOPS_PDF_FONT: ${path} does not exist`;
    if (!drawsChinese(path, family)) return `PARKOPS_PDF_FONT: ${configured} has no Chinese characters (or, for a .ttc, give file.ttc#PostScriptName)`;
    return { regular: { path, family }, bold: { path, family } };
  }
  for (const c of CANDIDATES) {
    const [path, family] = c.regular;
    if (!existsSync(path) || !drawsChinese(path, family)) continue;
    const bold = c.bold && existsSync(c.bold[0]) ? { path: c.bold[0], family: c.bold[1] } : { path, family };
    return { regular: { path, family }, bold };
  }
  return NO_CJK_FONT;
}

// ---- words --------------------------------------------------------------------------------------

const T = {
  en: {
    title: (site: string) => `${site}: monthly utilisation report`,
    period: (month: string, from: string, until: string, tz: string) => `${month} (${from} to ${until}, days and hours in ${tz})`,
    soFar: (t: string) => `The month is under way: figures up to ${t}.`,
    generated: (t: string) => `Generated ${t} by ParkOps from the stored readings, the same figures as the Reports pages.`,
    previous: (from: string, until: string) => `Previous period: ${from} to ${until}, the same length just before.`,
    noData: 'No readings were stored in this month.',
    parking: 'Parking',
    venues: 'Gym and plazas',
    flood: 'Flood events of the month',
    figure: 'Figure',
    thisMonth: 'This month',
    before: 'Previous period',
    change: 'Change',
    avgOcc: 'Average occupancy',
    peakOcc: 'Peak occupancy',
    sessions: 'Sessions (gate entries)',
    turnover: 'Turnover (sessions per bay per day)',
    avgStay: 'Average stay',
    medianStay: 'Median stay',
    overstays: (h: number) => `Overstays (over ${h} h)`,
    coverage: 'Bay sensor coverage',
    points: (n: string) => `${n} points`,
    peakAt: (t: string) => `at ${t}`,
    zones: 'Zones',
    zone: 'Zone',
    bays: 'Bays',
    avg: 'Average',
    max: 'Highest',
    peakTime: 'Peak at',
    daily: 'Average occupancy by day',
    date: 'Date',
    venue: 'Venue',
    visitors: 'Visitors',
    perDay: 'Per day',
    avgPresent: 'Average present',
    peakPeople: 'Peak (of capacity)',
    busiest: 'Busiest hours',
    room: 'Room',
    highest: 'Highest level',
    aboveWarn: 'At or above warning',
    aboveAlarm: 'At or above alarm',
    aboveCritical: 'At or above critical',
    pumpRun: 'Pump run hours',
    pumpStarts: 'Pump starts',
    incidents: 'Flood incidents (water at or above the warning band)',
    noIncidents: 'No flood incidents this month.',
    started: 'Began',
    ended: 'Ended',
    lasted: 'Lasted',
    peak: 'Peak',
    alerts: 'Alerts',
    open: 'still open',
    wetDays: 'Days the water reached the warning band',
    noWetDays: 'The water stayed below the warning band all month.',
    page: (n: number, of: number) => `Page ${n} of ${of}`,
    minutes: (m: number) => (m < 60 ? `${Math.round(m)} min` : `${Math.floor(m / 60)} h ${String(Math.round(m % 60)).padStart(2, '0')} min`),
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    monthName: (y: number, m: number, names: string[]) => `${names[m - 1]} ${y}`,
  },
  'zh-CN': {
    title: (site: string) => `${site} 月度利用率报告`,
    period: (month: string, from: string, until: string, tz: string) => `${month}（${from} 至 ${until}，日期与小时按 ${tz}）`,
    soFar: (t: string) => `本月尚未结束：数据截至 ${t}。`,
    generated: (t: string) => `由 ParkOps 于 ${t} 根据已存储的读数生成，与“报表”页面数据一致。`,
    previous: (from: string, until: string) => `上期：${from} 至 ${until}（紧邻本期之前、长度相同）。`,
    noData: '本月没有存储任何读数。',
    parking: '停车',
    venues: '健身房与广场',
    flood: '本月防汛事件',
    figure: '指标',
    thisMonth: '本月',
    before: '上期',
    change: '变化',
    avgOcc: '平均占用率',
    peakOcc: '最高占用率',
    sessions: '停车次数（闸口入场）',
    turnover: '周转率（每车位每天次数）',
    avgStay: '平均停留',
    medianStay: '停留中位数',
    overstays: (h: number) => `超时停车（超过 ${h} 小时）`,
    coverage: '车位传感器覆盖率',
    points: (n: string) => `${n} 个百分点`,
    peakAt: (t: string) => `于 ${t}`,
    zones: '分区',
    zone: '分区',
    bays: '车位数',
    avg: '平均',
    max: '最高',
    peakTime: '峰值时间',
    daily: '每日平均占用率',
    date: '日期',
    venue: '场馆',
    visitors: '访客人数',
    perDay: '日均',
    avgPresent: '平均在场',
    peakPeople: '峰值（占容量）',
    busiest: '最繁忙时段',
    room: '机房',
    highest: '最高水位',
    aboveWarn: '达到预警线',
    aboveAlarm: '达到警报线',
    aboveCritical: '达到危急线',
    pumpRun: '水泵运行小时',
    pumpStarts: '水泵启动次数',
    incidents: '防汛事件（水位达到预警线）',
    noIncidents: '本月没有防汛事件。',
    started: '开始',
    ended: '结束',
    lasted: '持续',
    peak: '峰值',
    alerts: '告警数',
    open: '仍未结束',
    wetDays: '水位达到预警线的日期',
    noWetDays: '本月水位始终低于预警线。',
    page: (n: number, of: number) => `第 ${n} 页，共 ${of} 页`,
    minutes: (m: number) => (m < 60 ? `${Math.round(m)} 分` : `${Math.floor(m / 60)} 小时 ${String(Math.round(m % 60)).padStart(2, '0')} 分`),
    months: [] as string[],
    monthName: (y: number, m: number) => `${y}年${m}月`,
  },
} satisfies Record<ReportLang, unknown>;

// ---- layout -------------------------------------------------------------------------------------

const MARGIN = 48;
const INK = '#1f2328';
const MUTED = '#5b636d';
const RULE = '#c9cfd6';
const ACCENT = '#0072b2';

type Doc = InstanceType<typeof PDFDocument>;

interface Table {
  columns: { title: string; width: number; align?: 'left' | 'right' }[];
  rows: string[][];
}

/** Draws a table from the current y, breaking to new pages (with the header again) as needed. */
function table(doc: Doc, t: Table, fonts: { regular: string; bold: string }): void {
  const size = 8.5;
  const rowH = 14;
  const bottom = doc.page.height - MARGIN - 20;
  const drawHeader = (): void => {
    let x = MARGIN;
    const y = doc.y;
    doc.font(fonts.bold).fontSize(size).fillColor(MUTED);
    // A header may take two lines (narrow columns of long Chinese or English words).
    let lines = 1;
    for (const c of t.columns) {
      lines = Math.max(lines, Math.ceil(doc.heightOfString(c.title, { width: c.width - 4 }) / doc.currentLineHeight()));
      doc.text(c.title, x + 2, y, { width: c.width - 4, align: c.align ?? 'left' });
      x += c.width;
    }
    doc.y = y + rowH + (lines - 1) * doc.currentLineHeight();
    doc.moveTo(MARGIN, doc.y - 3).lineTo(MARGIN + t.columns.reduce((a, c) => a + c.width, 0), doc.y - 3).strokeColor(RULE).lineWidth(0.5).stroke();
  };
  drawHeader();
  doc.font(fonts.regular).fillColor(INK);
  for (const row of t.rows) {
    // A long name wraps inside its cell; the row grows to its tallest cell.
    const h = Math.max(rowH, ...row.map((cell, i) => doc.heightOfString(cell, { width: t.columns[i]!.width - 4 }) + rowH - doc.currentLineHeight()));
    if (doc.y + h > bottom) {
      doc.addPage();
      drawHeader();
      doc.font(fonts.regular).fillColor(INK);
    }
    let x = MARGIN;
    const y = doc.y;
    row.forEach((cell, i) => {
      const c = t.columns[i]!;
      doc.text(cell, x + 2, y, { width: c.width - 4, align: c.align ?? 'left' });
      x += c.width;
    });
    doc.y = y + h;
  }
  doc.x = MARGIN;
  doc.moveDown(0.6);
}

function heading(doc: Doc, text: string, fonts: { bold: string }): void {
  if (doc.y > doc.page.height - MARGIN - 120) doc.addPage();
  doc.moveDown(0.4);
  doc.font(fonts.bold).fontSize(13).fillColor(ACCENT).text(text, MARGIN, doc.y);
  doc.moveDown(0.3);
  doc.fillColor(INK);
}

/** A table's title, kept on the page with at least the table's header and two rows. */
function subheading(doc: Doc, text: string, fonts: { bold: string }): void {
  if (doc.y > doc.page.height - MARGIN - 90) doc.addPage();
  doc.font(fonts.bold).fontSize(10).fillColor(INK).text(text, MARGIN, doc.y);
  doc.moveDown(0.2);
}

function note(doc: Doc, text: string, fonts: { regular: string }): void {
  doc.font(fonts.regular).fontSize(8.5).fillColor(MUTED).text(text, MARGIN, doc.y, { width: doc.page.width - 2 * MARGIN });
  doc.fillColor(INK).moveDown(0.3);
}

/** Daily average occupancy as bars (0..100 %), with the scale drawn and gaps left empty. */
function dailyBars(doc: Doc, days: ParkingReport['days'], fonts: { regular: string }): void {
  const h = 90;
  const w = doc.page.width - 2 * MARGIN - 30;
  if (doc.y + h + 30 > doc.page.height - MARGIN) doc.addPage();
  const x0 = MARGIN + 30;
  const y0 = doc.y + 4;
  doc.font(fonts.regular).fontSize(7).fillColor(MUTED);
  for (const p of [0, 50, 100]) {
    const y = y0 + h - (h * p) / 100;
    doc.text(`${p}%`, MARGIN, y - 4, { width: 26, align: 'right', lineBreak: false });
    doc.moveTo(x0, y).lineTo(x0 + w, y).strokeColor(RULE).lineWidth(0.4).stroke();
  }
  const n = Math.max(1, days.length);
  const bw = w / n;
  days.forEach((d, i) => {
    if (d.avg !== null) doc.rect(x0 + i * bw + bw * 0.15, y0 + h - h * d.avg, bw * 0.7, h * d.avg).fillColor(ACCENT).fill();
    if (i === 0 || i === n - 1 || (i + 1) % 5 === 0) doc.fillColor(MUTED).text(d.date.slice(8), x0 + i * bw, y0 + h + 2, { width: bw, align: 'center', lineBreak: false });
  });
  doc.fillColor(INK);
  doc.y = y0 + h + 16;
  doc.x = MARGIN;
}

// ---- the report ---------------------------------------------------------------------------------

export interface MonthlyData {
  parking: ParkingReport;
  venues: VenuesReport;
  flood: FloodReport;
  incidents: FloodIncident[];
}

/** What the monthly PDF reads: the Reports module, or in the benchmark its builder alone. */
export type MonthlySource = Pick<Reports, 'site' | 'builder' | 'floodIncidents' | 'pdfFont'>;

/** The month's figures from the report builder (the pages' own source) and the alert engine's incidents. */
export async function monthlyData(reports: MonthlySource, m: MonthRange): Promise<MonthlyData> {
  const range = { from: m.from, to: m.to };
  const [parking, venues, flood] = [await reports.builder.parking(range, { every: '1d' }), await reports.builder.venues(range, { every: '1d' }), await reports.builder.flood(range, {})];
  const incidents = reports.floodIncidents ? await reports.floodIncidents(m.from, m.to) : [];
  return { parking, venues, flood, incidents };
}

type Named = { name: string; nameZh?: string | undefined };

/** The site's names and zone as plain data: all the PDF needs of the site, and what a worker thread can be sent. */
export interface PdfContext {
  timezone: string;
  site: Named;
  zones: Record<string, Named>;
  venues: Record<string, Named>;
  rooms: Record<string, Named>;
}

export function pdfContext(site: Site): PdfContext {
  const named = (xs: readonly ({ id: string } & Named)[]): Record<string, Named> => Object.fromEntries(xs.map((x) => [x.id, { name: x.name, nameZh: x.nameZh }]));
  return { timezone: site.timezone, site: { name: site.name, nameZh: site.nameZh }, zones: named(site.zones), venues: named(site.venues), rooms: named(site.rooms) };
}

/** Everything one PDF is rendered from (structured-clone safe). */
export interface PdfJob {
  ctx: PdfContext;
  month: MonthRange;
  lang: ReportLang;
  font: PdfFont;
  data: MonthlyData;
  now: number;
}

let fontFound: { configured: string | undefined; font: PdfFont | string } | null = null;
/** The font lookup reads the font files: once per process (and per setting). */
function cjkFont(configured: string | undefined): PdfFont | string {
  if (fontFound === null || fontFound.configured !== configured) fontFound = { configured, font: findCjkFont(configured) };
  return fontFound.font;
}

/**
 * The month's PDF. The figures are read here (like the pages); pdfkit's layout and font subsetting
 * take a few hundred milliseconds of CPU without a pause, so they run in a worker thread: the event
 * loop that carries MQTT and the alerts is not held up by a manager's download (bench/reports.ts).
 */
export async function monthlyPdf(reports: MonthlySource, m: MonthRange, lang: ReportLang): Promise<Buffer> {
  const font = cjkFont(reports.pdfFont);
  if (typeof font === 'string') throw new HttpError(503, font);
  const data = await monthlyData(reports, m);
  return renderInWorker({ ctx: pdfContext(reports.site), month: m, lang, font, data, now: Date.now() });
}

export function renderMonthlyPdf(job: PdfJob): Promise<Buffer> {
  const { ctx, lang, font, data, now } = job;
  const m = job.month;
  const site = { ...ctx.site, zone: (id: string) => ctx.zones[id], venue: (id: string) => ctx.venues[id], room: (id: string) => ctx.rooms[id] };
  const lt = new LocalTime(ctx.timezone);
  const t = T[lang];
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, bufferPages: true, info: { Title: t.title(localName(site, lang)), Creator: 'ParkOps' } });
  doc.registerFont('cjk', font.regular.path, font.regular.family);
  doc.registerFont('cjk-bold', font.bold.path, font.bold.family);
  const fonts = { regular: 'cjk', bold: 'cjk-bold' };
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
  const num = (v: number | null | undefined, d = 0): string => (v === null || v === undefined ? '–' : v.toLocaleString(lang, { maximumFractionDigits: d, minimumFractionDigits: d }));
  const mins = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : t.minutes(v));
  const at = (iso: string | null | undefined): string => (iso ? lt.stamp(Date.parse(iso)) : '–');
  const signed = (s: string, v: number): string => (v > 0 ? `+${s}` : v < 0 ? `−${s.replace('-', '')}` : s);
  const pts = (a: number | null | undefined, b: number | null | undefined): string => {
    if (a === null || a === undefined || b === null || b === undefined) return '–';
    const d = Math.round(a * 100) - Math.round(b * 100);
    return t.points(signed(String(Math.abs(d)), d));
  };
  const delta = (a: number | null | undefined, b: number | null | undefined, show: (v: number) => string): string => {
    if (a === null || a === undefined || b === null || b === undefined) return '–';
    const d = a - b;
    return signed(show(Math.abs(d)), d);
  };
  const contentW = doc.page.width - 2 * MARGIN;

  // Title block
  const [y, mo] = [Number(m.month.slice(0, 4)), Number(m.month.slice(5, 7))];
  const monthName = lang === 'zh-CN' ? T['zh-CN'].monthName(y, mo) : T.en.monthName(y, mo, T.en.months);
  doc.font(fonts.bold).fontSize(18).fillColor(INK).text(t.title(localName(site, lang)), MARGIN, MARGIN, { width: contentW });
  doc.moveDown(0.2);
  doc.font(fonts.regular).fontSize(10).fillColor(MUTED).text(t.period(monthName, lt.date(m.from), lt.date(m.end - 1), lt.timezone), { width: contentW });
  if (m.to < m.end) doc.text(t.soFar(lt.stamp(m.to)), { width: contentW });
  doc.text(t.generated(lt.stamp(now)), { width: contentW });
  const p = data.parking;
  doc.text(t.previous(lt.date(Date.parse(p.previous.from)), lt.date(Date.parse(p.previous.to) - 1)), { width: contentW });
  doc.fillColor(INK).moveDown(0.4);
  if (p.summary.coverage === 0 && data.venues.venues.every((v) => v.summary.coverage === 0)) note(doc, t.noData, fonts);

  // Parking
  heading(doc, t.parking, fonts);
  const s = p.summary;
  const b = p.previous.summary;
  const kpi = (label: string, now: string, before: string, change: string): string[] => [label, now, before, change];
  table(
    doc,
    {
      columns: [
        { title: t.figure, width: contentW * 0.34 },
        { title: t.thisMonth, width: contentW * 0.24, align: 'right' },
        { title: t.before, width: contentW * 0.2, align: 'right' },
        { title: t.change, width: contentW * 0.22, align: 'right' },
      ],
      rows: [
        kpi(t.avgOcc, pct(s.avg), pct(b.avg), pts(s.avg, b.avg)),
        kpi(t.peakOcc, s.peak ? `${pct(s.peak.share)} ${t.peakAt(at(s.peak.at))}` : '–', pct(b.peak?.share), pts(s.peak?.share, b.peak?.share)),
        kpi(t.sessions, num(s.sessions), num(b.sessions), delta(s.sessions, b.sessions, (v) => num(v))),
        kpi(t.turnover, num(s.turnover, 2), num(b.turnover, 2), delta(s.turnover, b.turnover, (v) => num(v, 2))),
        kpi(t.avgStay, mins(s.avgDwellMin), mins(b.avgDwellMin), delta(s.avgDwellMin, b.avgDwellMin, (v) => t.minutes(v))),
        kpi(t.medianStay, mins(s.medianDwellMin), mins(b.medianDwellMin), delta(s.medianDwellMin, b.medianDwellMin, (v) => t.minutes(v))),
        kpi(t.overstays(p.overstays.limitHours), num(s.overstays), num(b.overstays), delta(s.overstays, b.overstays, (v) => num(v))),
        kpi(t.coverage, pct(s.coverage), pct(b.coverage), pts(s.coverage, b.coverage)),
      ],
    },
    fonts,
  );
  subheading(doc, t.daily, fonts);
  dailyBars(doc, p.days, fonts);
  subheading(doc, t.zones, fonts);
  table(
    doc,
    {
      columns: [
        { title: t.zone, width: contentW * 0.36 },
        { title: t.bays, width: contentW * 0.12, align: 'right' },
        { title: t.avg, width: contentW * 0.14, align: 'right' },
        { title: t.max, width: contentW * 0.14, align: 'right' },
        { title: t.peakTime, width: contentW * 0.24, align: 'right' },
      ],
      rows: p.zones.map((z) => [localName(site.zone(z.id) ?? z, lang), num(z.bays), pct(z.avg), pct(z.max), at(z.peakAt)]),
    },
    fonts,
  );

  // Gym and plazas
  heading(doc, t.venues, fonts);
  table(
    doc,
    {
      columns: [
        { title: t.venue, width: contentW * 0.24 },
        { title: t.visitors, width: contentW * 0.12, align: 'right' },
        { title: t.perDay, width: contentW * 0.1, align: 'right' },
        { title: t.avgPresent, width: contentW * 0.13, align: 'right' },
        { title: t.peakPeople, width: contentW * 0.23, align: 'right' },
        { title: t.busiest, width: contentW * 0.18, align: 'right' },
      ],
      rows: data.venues.venues.map((v) => [
        localName(site.venue(v.id) ?? v, lang),
        num(v.summary.visitors),
        num(v.summary.visitorsPerDay, 1),
        num(v.summary.avg, 1),
        v.summary.peak ? `${num(v.summary.peak.people)} (${pct(v.summary.peak.ofCapacity)}) ${at(v.summary.peak.at).slice(5)}` : '–',
        v.busiestHours.map((h) => `${String(h.hour).padStart(2, '0')}:00`).join(' ') || '–',
      ]),
    },
    fonts,
  );

  // Flood
  heading(doc, t.flood, fonts);
  table(
    doc,
    {
      columns: [
        { title: t.room, width: contentW * 0.25 },
        { title: t.highest, width: contentW * 0.2, align: 'right' },
        { title: t.aboveWarn, width: contentW * 0.13, align: 'right' },
        { title: t.aboveAlarm, width: contentW * 0.13, align: 'right' },
        { title: t.aboveCritical, width: contentW * 0.13, align: 'right' },
        { title: t.pumpRun, width: contentW * 0.08, align: 'right' },
        { title: t.pumpStarts, width: contentW * 0.08, align: 'right' },
      ],
      rows: data.flood.rooms.map((r) => [
        localName(site.room(r.id) ?? r, lang),
        r.summary.maxLevelMm === null ? '–' : `${num(r.summary.maxLevelMm)} mm ${at(r.summary.maxLevelAt).slice(5)}`,
        mins(r.summary.aboveMin.warn),
        mins(r.summary.aboveMin.alarm),
        mins(r.summary.aboveMin.critical),
        num(r.summary.runHours, 1),
        num(r.summary.starts),
      ]),
    },
    fonts,
  );
  subheading(doc, t.incidents, fonts);
  const incidents = [...data.incidents].sort((a, c) => a.startedAt.localeCompare(c.startedAt));
  if (incidents.length === 0) note(doc, t.noIncidents, fonts);
  else
    table(
      doc,
      {
        columns: [
          { title: t.room, width: contentW * 0.26 },
          { title: t.started, width: contentW * 0.18, align: 'right' },
          { title: t.ended, width: contentW * 0.18, align: 'right' },
          { title: t.lasted, width: contentW * 0.14, align: 'right' },
          { title: t.peak, width: contentW * 0.14, align: 'right' },
          { title: t.alerts, width: contentW * 0.1, align: 'right' },
        ],
        rows: incidents.map((i) => {
          const room = site.room(i.room);
          const end = i.endedAt ? Date.parse(i.endedAt) : null;
          return [
            room ? localName(room, lang) : i.room,
            at(i.startedAt),
            end === null ? t.open : lt.stamp(end),
            mins(((end ?? Math.min(m.to, now)) - Date.parse(i.startedAt)) / 60_000),
            i.peakMm === undefined ? '–' : `${num(i.peakMm)} mm`,
            num(i.alertCount),
          ];
        }),
      },
      fonts,
    );
  subheading(doc, t.wetDays, fonts);
  const wet = data.flood.rooms.flatMap((r) => r.days.filter((d) => d.aboveMin.warn > 0).map((d) => ({ r, d })));
  if (wet.length === 0) note(doc, t.noWetDays, fonts);
  else
    table(
      doc,
      {
        columns: [
          { title: t.room, width: contentW * 0.28 },
          { title: t.date, width: contentW * 0.14 },
          { title: t.highest, width: contentW * 0.16, align: 'right' },
          { title: t.aboveWarn, width: contentW * 0.14, align: 'right' },
          { title: t.aboveAlarm, width: contentW * 0.14, align: 'right' },
          { title: t.aboveCritical, width: contentW * 0.14, align: 'right' },
        ],
        rows: wet.map(({ r, d }) => [localName(site.room(r.id) ?? r, lang), d.date, d.maxLevelMm === null ? '–' : `${num(d.maxLevelMm)} mm`, mins(d.aboveMin.warn), mins(d.aboveMin.alarm), mins(d.aboveMin.critical)]),
      },
      fonts,
    );

  // Page numbers, once every page exists.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottomMargin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font(fonts.regular).fontSize(8).fillColor(MUTED).text(t.page(i + 1, range.count), MARGIN, doc.page.height - MARGIN + 10, { width: contentW, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottomMargin;
  }
  doc.end();
  return done;
}
