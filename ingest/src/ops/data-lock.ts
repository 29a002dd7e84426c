/**
 * `<data>/parkops.pid`: which process runs ParkOps on a data folder. The server writes it at start and
 * removes it at stop; `npm run restore` refuses while it names a live ParkOps process. After a crash
 * the file stays behind: a pid that is no longer alive (or now belongs to something that is not Node.js)
 * counts as stopped, so a stale file never blocks a restore, and start simply takes it over.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const PID_FILE = 'parkops.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A reused pid of some other program is not ParkOps (Linux; elsewhere the pid alone decides).
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** The pid of a live ParkOps on this data folder other than this process, or null. */
export function runningParkOps(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(dataDir, PID_FILE), 'utf8').trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  return alive(pid) ? pid : null;
}

/** Writes this process's pid; returns the release (removes the file if it is still ours). */
export function markRunning(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, PID_FILE);
  writeFileSync(path, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
}
