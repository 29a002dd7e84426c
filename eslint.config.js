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
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
