/** Query-parameter parsing shared by the API routes: clear 400 messages, nothing silently guessed. */
import { badRequest } from './http-errors.ts';

/** Parses `from`/`to` given as ISO 8601 or epoch milliseconds. */
export function parseTime(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`${name}: give one value, an ISO 8601 time or epoch milliseconds`);
  if (value.length > 40) throw badRequest(`${name}: too long for a time`);
  const ms = /^\d{1,15}$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw badRequest(`${name}: "${value.slice(0, 40)}" is not an ISO 8601 time or epoch milliseconds`);
  return ms;
}

export interface RangeOptions {
  defaultSpanMs: number;
  maxSpanMs: number;
  now: number;
}

/** A [from, to) range from the query, with a default span ending now and a maximum span. */
export function parseRange(query: Record<string, unknown>, opts: RangeOptions): { from: number; to: number } {
  const to = parseTime(query.to, 'to') ?? opts.now;
  const from = parseTime(query.from, 'from') ?? to - opts.defaultSpanMs;
  if (from >= to) throw badRequest('from must be before to');
  if (to - from > opts.maxSpanMs) throw badRequest(`the range is too long: at most ${Math.round(opts.maxSpanMs / 86_400_000)} days`);
  return { from, to };
}
