/**
 * `npm run backup -- <file>` and `npm run restore -- <file>` (docs/operations.md). The data folder is
 * the one ParkOps uses (PARKOPS_DATA_DIR from the environment or `.env`, as `npm start` reads it), or
 * `--data-dir <folder>`.
 *
 *   npm run backup -- /mnt/nas/parkops-$(date +%F).db     # while ParkOps runs
 *   npm run restore -- /mnt/nas/parkops-2026-11-30.db     # ParkOps stopped
 */
import { ConfigError, loadConfig } from '../config.ts';
import { SchemaTooNew } from '../db/migrations.ts';
import { backupDataFolder, BackupError, restoreInto } from './backup.ts';

const USAGE = 'usage: npm run backup -- <file> [--data-dir <folder>]  |  npm run restore -- <file> [--data-dir <folder>]';

export async function runOpsCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const [command, ...rest] = args;
  const at = rest.indexOf('--data-dir');
  const dirArg = at >= 0 ? rest[at + 1] : undefined;
  if (at >= 0 && dirArg === undefined) throw new BackupError(`--data-dir needs a folder; ${USAGE}`);
  const files = rest.filter((_, i) => i !== at && i !== at + 1);
  if ((command !== 'backup' && command !== 'restore') || files.length !== 1) throw new BackupError(USAGE);
  const dataDir = loadConfig(dirArg !== undefined ? { ...env, PARKOPS_DATA_DIR: dirArg } : env).dataDir;
  const file = files[0]!;
  if (command === 'backup') {
    const r = await backupDataFolder(dataDir, file);
    return `backup written: ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB in ${(r.ms / 1000).toFixed(1)} s, as of ${new Date(r.at).toISOString()})`;
  }
  const r = restoreInto(dataDir, file);
  return `restored ${file} into ${r.restored}${r.replacedKeptAt ? `; the database it replaced is kept at ${r.replacedKeptAt}` : ''}. Start ParkOps to run on it.`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runOpsCommand(process.argv.slice(2)).then(
    (line) => {
      process.stdout.write(`${line}\n`);
    },
    (err: unknown) => {
      const known = err instanceof BackupError || err instanceof ConfigError || err instanceof SchemaTooNew;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${known ? message : `failed: ${message}`}\n`);
      process.exitCode = 1;
    },
  );
}
