// Lint with type information (typescript-eslint's typed rules), for the whole tree: the ingest, the
// simulators, the benchmarks and tests (root tsconfig.json) and the dashboard (its own tsconfig, and
// the <script> blocks of .svelte files). `npm run check` runs it after the type checks.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', 'dashboard/build/**', 'dashboard/.svelte-kit/**', 'data/**', '**/*.cjs', 'ingest/src/nodered/nodes/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Off: modules implement `start(): Promise<void>` and friends so the controller awaits every module
      // alike; an async method with nothing to await yet is deliberate, not a bug.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['dashboard/**/*.svelte', 'dashboard/**/*.svelte.ts'],
    rules: {
      // Off: the dashboard is served at the origin's root (no `paths.base`), so app-absolute hrefs such as
      // `/flood` are already what `resolve()` would return.
      'svelte/no-navigation-without-resolve': 'off',
      // Off: the stores' Maps and Sets are bookkeeping replaced whole on assignment (which is what
      // re-renders) or deliberately not reactive (the alarm's already-notified ids); SvelteMap would make
      // every write to a 600-bay map a reactive update.
      'svelte/prefer-svelte-reactivity': 'off',
    },
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { parser: tseslint.parser, svelteConfig: undefined },
    },
  },
  {
    files: ['dashboard/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    // Tests and benchmarks read JSON answers, fixtures and third-party packets whose shape their
    // assertions then check: a wrong shape fails the assertion, so the `any` from JSON.parse is not
    // worth a cast on every line. Promises, exhaustive switches and unused code are checked as in the
    // code under test.
    files: ['test/**', 'bench/**', '**/*.test.ts', '**/*.suite.ts', '**/testing.ts', '**/testing-*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Suites take repository factories as `{ repo, close }` objects and call their methods unbound.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'vitest.config.ts', 'dashboard/vitest.config.ts', 'dashboard/src/service-worker.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
);
