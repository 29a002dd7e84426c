/** The StormRepository behaviour suite on SQLite, on a real file in a temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../store/db.ts';
import { SqliteStormRepository } from './repository.ts';
import { stormRepositorySuite, type StormRepositoryUnderTest } from './repository-suite.ts';

function onFile(dir: string): StormRepositoryUnderTest {
  const db = openDatabase(dir);
  let closed = false;
  return {
    repo: new SqliteStormRepository(db),
    reopen: async () => {
      db.close();
      closed = true;
      return onFile(dir);
    },
    close: async () => {
      if (!closed) db.close();
      closed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

stormRepositorySuite('SQLite', async () => onFile(mkdtempSync(join(tmpdir(), 'parkops-storm-repo-'))));
