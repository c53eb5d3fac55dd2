#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`, run on install).
import('../dist/cli/main.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('airlock: [NOT_BUILT] not built yet. Run `npm run build` (npm ci does it for you).');
    process.exit(1);
  }
  throw error;
});
