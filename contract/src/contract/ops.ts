/**
 * The operations routes (docs/operations.md): what the database costs, and backups from the admin
 * page. Request bodies and response shapes as zod schemas, for the OpenAPI document.
 */
import { z } from 'zod';

/** `POST /api/admin/backup`: nothing to choose; the name is made from the time. */
export const backupRequest = z.object({}).strict();
export type BackupRequest = z.infer<typeof backupRequest>;

export const backupFile = z.object({
  name: z.string(),
  bytes: z.number().int(),
  /** when the copy's snapshot was taken (ISO 8601) */
  at: z.string(),
  /** the admin-only download path */
  download: z.string(),
});
export type BackupFile = z.infer<typeof backupFile>;

export const backupResponse = backupFile.extend({ ms: z.number().int() });
export type BackupResponse = z.infer<typeof backupResponse>;

export const storageResponse = z.object({
  /** when the row counts were counted (ISO 8601; they are refreshed every few minutes) */
  countedAt: z.string().nullable(),
  /** the database file and its write-ahead log, bytes (now) */
  fileBytes: z.number().int(),
  walBytes: z.number().int(),
  tables: z.array(z.object({ table: z.string(), rows: z.number().int() })),
  /** the oldest raw reading under retention (ISO 8601), null when none or the store keeps none here */
  oldestReading: z.string().nullable(),
  lastBackup: z.object({ at: z.string(), name: z.string(), bytes: z.number().int() }).nullable(),
  /** backups in the data folder's backups/ (from the admin page), newest first */
  backups: z.array(backupFile),
  retention: z.object({ readingsDays: z.number().int(), eventsDays: z.number().int(), notifyBodyDays: z.number().int() }),
});
export type StorageResponse = z.infer<typeof storageResponse>;
