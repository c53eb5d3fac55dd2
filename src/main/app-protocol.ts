// Serves the built renderer from app://airlock/ instead of file://: a standard, secure origin, so
// module scripts, CSP 'self' and the navigation check behave as on the web, and only files inside
// dist/renderer can ever be read.
import { net, protocol } from 'electron';
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://airlock`;

/** Sent as a header too (index.html has it as a meta tag): the page may load only its own files and talk only over IPC. */
export const RENDERER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

export function serveRenderer(rendererDir: string): void {
  const root = resolve(rendererDir);
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return new Response('bad path', { status: 400 });
    }
    const path = resolve(root, `.${pathname === '/' ? '/index.html' : pathname}`);
    if (url.host !== 'airlock' || (path !== root && !path.startsWith(root + sep)))
      return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(path).toString()).then((response) => {
      const headers = new Headers(response.headers);
      headers.set('Content-Security-Policy', RENDERER_CSP);
      headers.set('X-Content-Type-Options', 'nosniff');
      return new Response(response.body, { status: response.status, headers });
    });
  });
}
