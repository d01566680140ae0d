import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard's build: `vite build ui` (run by `npm run build:ui` and on
 * install) writes `ui/dist`, which the API server serves at `/` and `/ui/`.
 * Everything is bundled (Mermaid included), so the page works offline.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: process.env.STATEKEEPER_UI_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Mermaid is large by nature; it is loaded once and cached.
    chunkSizeWarningLimit: 4096,
  },
});
