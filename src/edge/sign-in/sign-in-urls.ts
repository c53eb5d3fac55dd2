// The URLs of the sign-in domain (docs/sso.md "Sign-in domain"): every app host sends a visitor
// without a token to the one sign-in host, which sends them back to the app host's /authorized.
import { PATH } from '../../shared/constants.js';

/**
 * https://APP, with the edge's public port when it is not 443: every hostname is served by the same
 * listener, so an app host is reached on the port the sign-in host is.
 */
export function appOrigin(publicUrl: string, hostname: string): string {
  const port = new URL(publicUrl).port;
  return `https://${hostname}${port ? `:${port}` : ''}`;
}

/** The login path on the sign-in host for an app: what an app host's 302 names (Access's shape). */
export function loginUrl(publicUrl: string, app: { hostname: string; aud: string }): URL {
  const url = new URL(`${new URL(publicUrl).origin}${PATH.login}${app.hostname}`);
  url.searchParams.set('kid', app.aud);
  url.searchParams.set('redirect_url', `${appOrigin(publicUrl, app.hostname)}/`);
  return url;
}
