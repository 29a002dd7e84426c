/** Builds the dashboard when build/handler.js is missing or older than its sources, as `npm start` does. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD = join(ROOT, 'dashboard');

export function ensureDashboardBuilt(): void {
  const handler = join(DASHBOARD, 'build', 'handler.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const sources = Math.max(newest(join(DASHBOARD, 'src')), newest(join(DASHBOARD, 'static')));
  if (existsSync(handler) && statSync(handler).mtimeMs >= sources) return;
  execFileSync('npm', ['run', 'build', '-w', 'dashboard'], { cwd: ROOT, stdio: 'ignore' });
}
