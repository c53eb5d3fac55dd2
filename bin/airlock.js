#!/usr/bin/env -S node --initial-old-space-size=64
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`, run on install).
// The shebang's flags are NODE_FLAGS in src/shared/node-flags.ts (why, there); keep them equal.
import('../dist/cli/main.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('airlock: not built yet. Run `npm run build` (npm ci does it for you).');
    process.exit(1);
  }
  throw error;
});
