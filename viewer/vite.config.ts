import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Bundles the viewer (viewer/index.html and what it imports) into dist/viewer, served by the server at /. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/viewer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
});
