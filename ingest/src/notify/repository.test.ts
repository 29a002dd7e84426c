/** The notification repository's behaviour suite on a real SQLite file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { openDatabase } from '../store/db.ts';
import { SqliteNotificationRepository } from './repository.ts';
import { notificationRepositorySuite } from './repository.suite.ts';

describe('SqliteNotificationRepository on a real SQLite file', () => {
  notificationRepositorySuite(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parkops-notify-repo-'));
    let db = openDatabase(dir);
    return {
      repo: new SqliteNotificationRepository(db),
      reopen: async () => {
        db.close();
        db = openDatabase(dir);
        return new SqliteNotificationRepository(db);
      },
      close: async () => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
