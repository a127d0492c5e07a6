import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Two pages, both embedded in the binary (web/embed.go): the playground at /
// and the dashboard at /dashboard. The build is deterministic: content-hashed
// names, no timestamps, no source maps.
export default defineConfig({
  base: '/',
  logLevel: 'warn',
  esbuild: { jsxFactory: 'h', jsxFragment: 'Fragment' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    modulePreload: { polyfill: false }, // the polyfill is an inline script
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // React libraries mark modules "use client"; meaningless in a bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      input: {
        playground: resolve(import.meta.dirname, 'index.html'),
        dashboard: resolve(import.meta.dirname, 'dashboard/index.html'),
      },
    },
  },
});
