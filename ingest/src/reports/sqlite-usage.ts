/**
 * Utilisation for GET /api/usage on the SQLite store. Owned by the reports work (issue 8), which keeps
 * 15-minute rollups up to date as readings arrive.
 */
import type { UsagePoint } from '../contract/index.ts';
import type { Site } from '../site/index.ts';
import type { Db } from '../store/db.ts';
import type { Every, TimeRange } from '../store/types.ts';

export function sqliteUsage(_db: Db, _site: Site, _subject: string, _range: TimeRange, _every: Every): UsagePoint[] {
  throw new Error('usage reports: not built yet (issue 8)');
}
