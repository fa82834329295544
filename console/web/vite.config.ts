import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// LIENTHONG_STACK is the HTTP address of a running stack (e.g. http://127.0.0.1:18480);
// the dev server forwards the API and the dev helpers there, so the page is same-origin.
const stack = process.env.LIENTHONG_STACK ?? 'http://127.0.0.1:7480';

export default defineConfig({
  // Relative URLs: the Go binary serves the assets at /.
  base: './',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: true, reactAliasesEnabled: false })],
  build: {
    outDir: '../static',
    emptyOutDir: true,
    // Deterministic output: content hashes, no source maps with absolute paths,
    // no inline scripts (the CSP forbids them).
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/v1': { target: stack, changeOrigin: false },
      '/console': { target: stack, changeOrigin: false },
      '/readyz': { target: stack, changeOrigin: false },
    },
  },
});
