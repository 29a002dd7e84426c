/** Report ranges, comparison periods and report URLs, as pure functions. */

export type Preset = 'today' | '7d' | '30d' | '12m';
export type Every = '15m' | '1h' | '1d';
export const PRESETS: Preset[] = ['today', '7d', '30d', '12m'];

export interface Range { from: Date; to: Date; every: Every }

export function presetRange(p: Preset, now: Date): Range {
  const to = new Date(now);
  const from = new Date(now);
  switch (p) {
    case 'today': from.setHours(0, 0, 0, 0); return { from, to, every: '15m' };
    case '7d': from.setDate(from.getDate() - 7); return { from, to, every: '1h' };
    case '30d': from.setDate(from.getDate() - 30); return { from, to, every: '1h' };
    case '12m': from.setFullYear(from.getFullYear() - 1); return { from, to, every: '1d' };
  }
}

/** The period of the same length just before. */
export function previousRange(r: Range): Range {
  const len = r.to.getTime() - r.from.getTime();
  return { from: new Date(r.from.getTime() - len), to: new Date(r.from.getTime()), every: r.every };
}

export function usageUrl(subject: string, r: Range, csv = false): string {
  const q = new URLSearchParams({ subject, from: r.from.toISOString(), to: r.to.toISOString(), every: r.every });
  if (csv) q.set('format', 'csv');
  return `/api/usage?${q}`;
}

/** GET /api/reports/{kind} for a range, JSON or one CSV table (ingest/src/reports/routes.ts). */
export function reportUrl(kind: 'parking' | 'venues' | 'flood', r: Range, params: Record<string, string | undefined> = {}, csvTable?: string): string {
  const q = new URLSearchParams({ from: r.from.toISOString(), to: r.to.toISOString(), every: r.every });
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  if (csvTable) { q.set('format', 'csv'); q.set('table', csvTable); }
  return `/api/reports/${kind}?${q}`;
}

/** Relative change as a signed share (+0.12 = 12 % more), null when there is nothing to compare. */
export function change(now: number | null | undefined, before: number | null | undefined): number | null {
  if (now === null || now === undefined || before === null || before === undefined || before === 0) return null;
  return (now - before) / before;
}

/** The period picked on the reports pages, kept in the URL (?range=7d) so a view can be shared. */
export function rangeFromUrl(url: URL, now: Date): { preset: Preset; range: Range; prev: Range } {
  const p = url.searchParams.get('range');
  const preset: Preset = (PRESETS as string[]).includes(p ?? '') ? (p as Preset) : '7d';
  const range = presetRange(preset, now);
  return { preset, range, prev: previousRange(range) };
}
