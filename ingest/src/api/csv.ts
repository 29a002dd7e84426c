/**
 * Every CSV ParkOps writes (reports, usage, incident timelines, exports): RFC 4180 (comma, CRLF, fields
 * with a comma, quote or line break quoted, quotes doubled), a UTF-8 byte order mark so Excel reads
 * Chinese text as UTF-8 instead of the system code page, and a guard against formula injection: a text
 * cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
 * return; OWASP "CSV Injection") is prefixed with a single quote, which spreadsheets show as text. A gate
 * pass is any 1..64 characters a device sends, so `=HYPERLINK(...)` in a pass must reach a manager's
 * spreadsheet as text, never as a link. Numbers are written as numbers (a negative reading stays a number).
 */
import type { Response } from 'express';

export type CsvCell = string | number | boolean | null | undefined;

/** UTF-8 byte order mark. */
export const BOM = '\uFEFF';

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = String(v);
  if (typeof v === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The whole file: BOM, header, rows, each line ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return BOM + [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A download: `name` becomes the file name (letters, digits, `_ . -` only). */
export function sendCsv(res: Response, name: string, header: readonly string[], rows: readonly (readonly CsvCell[])[]): void {
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv"`);
  res.send(toCsv(header, rows));
}
