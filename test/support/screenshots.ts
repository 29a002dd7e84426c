/**
 * Where end-to-end tests save screenshots. A normal test run writes them to a temporary folder, so
 * `npm test` never rewrites the tracked images in docs/screenshots (PNG bytes differ on every run).
 * `npm run screenshots` sets PARKOPS_UPDATE_SCREENSHOTS=1 to refresh the README's images on purpose.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DOCS = fileURLToPath(new URL('../../docs/screenshots', import.meta.url));

let dir: string | undefined;

export function screenshotDir(): string {
  if (dir === undefined) {
    dir = process.env.PARKOPS_UPDATE_SCREENSHOTS === '1' ? DOCS : mkdtempSync(join(tmpdir(), 'parkops-shots-'));
    mkdirSync(dir, { recursive: true });
  }
  return dir;
}
