// Sign-in when the browser is on another machine (headless hosts). The edge's last
// redirect goes to http://127.0.0.1:PORT/callback?code=…&state=… on THIS machine, which the remote
// browser cannot load; the operator copies that address from its address bar and pastes it here.
// The pasted URL is handed to our own loopback listener, so the state check, PKCE exchange and
// every refusal stay exactly those of src/core/loopback-login.ts.
import http from 'node:http';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { SSO } from '../../shared/constants.js';

export interface PastedCallback {
  /** Wraps loginWithBrowser's print: learns the listener's port from the sign-in URL it prints. */
  print(message: string): void;
  /** Stops reading the input (call when the sign-in is over, whatever its outcome). */
  close(): void;
}

export function acceptPastedCallback(input: Readable, print: (message: string) => void): PastedCallback {
  let port: number | undefined;
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  lines.on('line', (line) => {
    const url = URL.canParse(line.trim()) ? new URL(line.trim()) : undefined;
    // Only our own listener: never a request to anywhere a pasted line points.
    if (
      !url ||
      url.protocol !== 'http:' ||
      url.hostname !== '127.0.0.1' ||
      Number(url.port) !== port ||
      url.pathname !== SSO.loopbackCallbackPath
    ) {
      if (line.trim())
        print(
          `That is not the address of this sign-in (http://127.0.0.1:${port ?? 'PORT'}${SSO.loopbackCallbackPath}?code=…); paste the whole address from the browser's address bar.`,
        );
      return;
    }
    const request = http.get(
      { host: '127.0.0.1', port, path: `${url.pathname}${url.search}`, timeout: 30_000 },
      (response) => response.resume(),
    );
    request.on('timeout', () => request.destroy());
    request.on('error', () => {});
  });
  return {
    print(message) {
      const redirect = /[?&]redirect_url=([^&\s]+)/.exec(message)?.[1];
      if (redirect && port === undefined) {
        port = Number(new URL(decodeURIComponent(redirect)).port);
        print(message);
        print(
          `If that browser is on another machine, its last page will not load (http://127.0.0.1:${port}${SSO.loopbackCallbackPath}?code=…):\n` +
            'copy that address from its address bar and paste it here, then press Enter.',
        );
        return;
      }
      print(message);
    },
    close() {
      lines.close();
      input.pause();
    },
  };
}
