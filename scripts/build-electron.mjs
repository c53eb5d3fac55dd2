#!/usr/bin/env node
// Bundles the Electron main process (ESM) and the preload (CommonJS: sandboxed preloads cannot be
// ESM) into dist/main and dist/preload. Only `electron` (provided at run time) and keytar (a native module) stay external.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['electron', 'keytar'],
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/main/index.ts'],
  outfile: 'dist/main/index.mjs',
  format: 'esm',
  // Bundled CommonJS dependencies may call require(); give ESM output one.
  banner: {
    js: "import { createRequire as __airlockCreateRequire } from 'node:module'; const require = __airlockCreateRequire(import.meta.url);",
  },
});
await build({ ...common, entryPoints: ['src/preload/index.ts'], outfile: 'dist/preload/index.cjs', format: 'cjs' });
console.log('built dist/main/index.mjs and dist/preload/index.cjs');
