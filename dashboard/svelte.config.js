import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // Output goes to dashboard/build; the ingest's express server mounts build/handler.js.
    adapter: adapter({ out: 'build', precompress: false }),
    // The ingest checks Origin on state-changing API calls itself; SvelteKit form actions are not used.
    csrf: { trustedOrigins: [] },
  },
};
