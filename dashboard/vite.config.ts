import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// In `vite dev` the API lives elsewhere (the ingest on :3000 by default); proxy it so the browser
// still sees one origin, as it does in production where the ingest mounts build/handler.js.
const api = process.env.PARKOPS_API_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '/flows': { target: api, changeOrigin: false },
    },
  },
});
