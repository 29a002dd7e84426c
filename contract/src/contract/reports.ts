/**
 * Shapes of the report routes added for the range picker and the exports (docs/reports.md), as zod
 * schemas so the API document can be generated from them.
 */
import { z } from 'zod';

/** `GET /api/reports/calendar`: what the range picker needs before it asks for a report. */
export const reportsCalendarSchema = z.object({
  /** the site's IANA time zone; report days and hours are its days and hours */
  timezone: z.string(),
  /** the site's local date now, YYYY-MM-DD */
  today: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  now: z.string(),
  /** longest range per series bucket, and of a report, in days */
  maxDays: z.object({ '15m': z.number().int(), '1h': z.number().int(), '1d': z.number().int(), report: z.number().int() }),
  /** ParkOps runs the device simulators itself (a demo or trial install) */
  simulated: z.boolean(),
}).meta({ id: 'ReportsCalendar' });
export type ReportsCalendar = z.infer<typeof reportsCalendarSchema>;

/** Query of `GET /api/reports/monthly.pdf`. */
export const monthlyPdfQuerySchema = z.object({
  /** YYYY-MM; default this month (so far) */
  month: z.string({ message: 'give one month, YYYY-MM' }).regex(/^\d{4}-\d{2}$/, 'must be a month, YYYY-MM').optional(),
  lang: z.enum(['en', 'zh-CN'], { message: 'must be en or zh-CN' }).optional(),
});
