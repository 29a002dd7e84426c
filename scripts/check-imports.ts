/**
 * Workspaces declare what they import: a source file of one workspace (contract, ingest, simulators,
 * dashboard) may import another workspace only by its package name, and only when its package.json
 * lists that package; a relative import never leaves its workspace; and the declared workspace
 * dependencies have no cycle. npm hoists every workspace into node_modules/@parkops, so an undeclared
 * import would work here and break for anyone installing one package alone.
 *
 * `node --import tsx scripts/check-imports.ts` prints each problem and exits 1 (part of `npm run check`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Workspace {
  name: string;
  dir: string;
  declared: Set<string>;
}

const SOURCE = /\.(ts|mts|js|mjs|svelte)$/;
const TEST_FILE = /\.test\.ts$/;
const SKIP_DIRS = new Set(['node_modules', 'build', '.svelte-kit', 'dist']);
/** `import x from '…'`, `export … from '…'`, `import '…'`, `import('…')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...sources(join(dir, e.name)));
    } else if (SOURCE.test(e.name)) out.push(join(dir, e.name));
  }
  return out;
}

function workspaces(root: string): Workspace[] {
  const pkg = readJson(join(root, 'package.json'));
  return ((pkg.workspaces as string[] | undefined) ?? []).map((w) => {
    const dir = resolve(root, w);
    const p = readJson(join(dir, 'package.json'));
    const declared = new Set<string>();
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const name of Object.keys((p[field] as Record<string, string> | undefined) ?? {})) declared.add(name);
    }
    return { name: String(p.name), dir, declared };
  });
}

const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const inside = (dir: string, path: string): boolean => path === dir || path.startsWith(dir + sep);

/** Every undeclared cross-workspace import, relative import out of its workspace, and dependency cycle under `root`. */
export function checkWorkspaceImports(root: string): string[] {
  const all = workspaces(root);
  const names = new Set(all.map((w) => w.name));
  const problems: string[] = [];
  for (const ws of all) {
    for (const file of sources(ws.dir)) {
      const text = readFileSync(file, 'utf8');
      const where = relative(root, file);
      for (const m of text.matchAll(SPECIFIER)) {
        const spec = m[2]!;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          // A test may use the repository's shared test support (test/support, test/harness), which is no package.
          const sharedTestSupport = TEST_FILE.test(file) && inside(join(root, 'test'), target);
          if (!inside(ws.dir, target) && !sharedTestSupport) problems.push(`${where}: imports '${spec}', outside ${ws.name}; import the package that holds it by name and declare it`);
          continue;
        }
        const pkg = packageOf(spec);
        if (!names.has(pkg)) continue;
        if (pkg === ws.name) problems.push(`${where}: imports its own package '${spec}'; use a relative path`);
        else if (!ws.declared.has(pkg)) problems.push(`${where}: imports '${spec}', but ${relative(root, join(ws.dir, 'package.json'))} does not declare ${pkg}`);
      }
    }
  }
  // The declared graph between workspaces must be acyclic.
  const byName = new Map(all.map((w) => [w.name, w]));
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') {
      problems.push(`workspace dependency cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
      return;
    }
    state.set(name, 'open');
    for (const dep of byName.get(name)!.declared) if (byName.has(dep)) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const w of all) visit(w.name, []);
  return problems;
}

if (process.argv[1] && existsSync(process.argv[1]) && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkWorkspaceImports(resolve(dirname(fileURLToPath(import.meta.url)), '..'));
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exit(1);
  console.log('workspace imports: every cross-workspace import is declared, and the graph has no cycle');
}
