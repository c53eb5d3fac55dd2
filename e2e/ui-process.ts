// Runs browser mode as its own process (as `airlock ui` does) so the e2e suite can restart it.
// Prints one JSON line with the URL, then serves until SIGTERM.
import { startBrowserMode } from '../src/core/browser-mode.js';

const dataFile = process.env.AIRLOCK_E2E_DATA;
if (!dataFile) throw new Error('set AIRLOCK_E2E_DATA to the resources file');
const caFile = process.env.AIRLOCK_E2E_CA;
const ui = await startBrowserMode({ dataFile, ...(caFile ? { caFile } : {}) });
console.log(JSON.stringify({ url: ui.url, port: ui.port }));
process.on('SIGTERM', () => {
  void ui.close().then(() => process.exit(0));
});
