import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkWorkspaceImports } from './check-imports.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
let dir: string | undefined;

/** A throw-away monorepo: workspaces `a` and `b` with the given dependencies and files. */
function repo(deps: { a?: string[]; b?: string[] }, files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'parkops-imports-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'root', workspaces: ['a', 'b'] }));
  for (const w of ['a', 'b'] as const) {
    mkdirSync(join(dir, w, 'src'), { recursive: true });
    const dependencies = Object.fromEntries((deps[w] ?? []).map((d) => [d, '0.1.0']));
    writeFileSync(join(dir, w, 'package.json'), JSON.stringify({ name: `@parkops/${w}`, dependencies }));
  }
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('workspace imports', () => {
  it('are all declared in this repository, and the workspace graph is acyclic', () => {
    expect(checkWorkspaceImports(ROOT)).toEqual([]);
  });

  it('names an undeclared import of another workspace, by file and package', () => {
    const root = repo({}, { 'a/src/x.ts': "import { y } from '@parkops/b/y.ts';\nexport const x = y;\n" });
    expect(checkWorkspaceImports(root)).toEqual(["a/src/x.ts: imports '@parkops/b/y.ts', but a/package.json does not declare @parkops/b"]);
  });

  it('accepts the same import once declared', () => {
    const root = repo({ a: ['@parkops/b'] }, { 'a/src/x.ts': "export { y } from '@parkops/b/y.ts';\n", 'b/src/y.ts': 'export const y = 1;\n' });
    expect(checkWorkspaceImports(root)).toEqual([]);
  });

  it('names a relative import that leaves its workspace, and a dynamic one', () => {
    const root = repo({}, { 'a/src/x.ts': "import '../../b/src/y.ts';\nconst later = () => import('@parkops/b');\nvoid later;\n" });
    expect(checkWorkspaceImports(root)).toEqual([
      "a/src/x.ts: imports '../../b/src/y.ts', outside @parkops/a; import the package that holds it by name and declare it",
      "a/src/x.ts: imports '@parkops/b', but a/package.json does not declare @parkops/b",
    ]);
  });

  it('names a cycle between declared workspaces', () => {
    const root = repo({ a: ['@parkops/b'], b: ['@parkops/a'] }, {});
    expect(checkWorkspaceImports(root)).toEqual(['workspace dependency cycle: @parkops/a -> @parkops/b -> @parkops/a']);
  });
});
