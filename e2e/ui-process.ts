// Runs browser mode as its own process (as `airlock ui` does) so the e2e suite can restart it.
// Prints one JSON line with the URL, then serves until SIGTERM.
// AIRLOCK_E2E_LOGIN_TOKEN swaps the system-browser step of sign-in for "the IdP issued this token",
// so the UI's sign-in states can be driven without an IdP; everything else is the real SsoAuth.
import { startBrowserMode } from '../src/app/browser/browser-mode.js';
import { SsoAuth, type SsoTokenStore } from '../src/app/service/sso-auth.js';
import { loginWithBrowser } from '../src/core/loopback-login.js';
import { tokenIssuer } from '../src/core/token-store.js';

const dataFile = process.env.AIRLOCK_E2E_DATA;
if (!dataFile) throw new Error('set AIRLOCK_E2E_DATA to the resources file');
const caFile = process.env.AIRLOCK_E2E_CA;
const loginToken = process.env.AIRLOCK_E2E_LOGIN_TOKEN;

function memoryTokens(): SsoTokenStore {
  const saved = new Map<string, string>();
  return {
    get: async (edge, aud) => saved.get(`${edge}|${aud}`),
    set: async (edge, aud, token) => void saved.set(`${edge}|${aud}`, token),
    delete: async (edge, aud) => void saved.delete(`${edge}|${aud}`),
    clear: async (edge) => {
      for (const key of [...saved.keys()]) if (!edge || key.startsWith(`${edge}|`)) saved.delete(key);
    },
    clearIssuer: async (issuer) => {
      for (const [key, token] of [...saved]) if (tokenIssuer(token) === issuer) saved.delete(key);
    },
  };
}

// AIRLOCK_E2E_REAL_LOGIN: the real loopback login; "opening the browser" prints the URL as a JSON
// line so the test can drive Chromium through the real IdP page.
const realLogin = process.env.AIRLOCK_E2E_REAL_LOGIN === '1';
const auth = loginToken
  ? new SsoAuth({
      tokens: memoryTokens(),
      ...(caFile ? { caFile } : {}),
      login: async () => ({ token: loginToken, expiresAt: new Date(Date.now() + 3_600_000) }),
    })
  : realLogin
    ? new SsoAuth({
        tokens: memoryTokens(),
        ...(caFile ? { caFile } : {}),
        login: (options) =>
          loginWithBrowser({
            ...options,
            openBrowser: async (url) => (console.log(JSON.stringify({ login: url })), true),
            print: () => {},
          }),
      })
    : undefined;
const ui = await startBrowserMode({
  dataFile,
  ...(caFile ? { caFile } : {}),
  ...(auth ? { auth } : {}),
  // Quit in the page stops the server and every listener; the process then exits, as `airlock ui` does.
  onQuit: () => process.exit(0),
});
console.log(JSON.stringify({ url: ui.url, port: ui.port }));
const stop = () => void ui.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
// Started by the e2e helpers with an IPC channel: when the parent goes away, so do we.
process.on('disconnect', stop);
