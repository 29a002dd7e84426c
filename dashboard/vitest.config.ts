import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineProject } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Unit and component tests for the dashboard. Runes in *.svelte.ts need the Svelte compiler;
// components are tested through svelte/server rendering, so no DOM emulation is needed.
export default defineProject({
  plugins: [svelte({ compilerOptions: { runes: true } })],
  resolve: {
    alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) },
  },
  test: {
    name: 'dashboard',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
