// A minimal browser stand-in for tests that do not need Chromium: follows redirects by hand and
// keeps cookies per host, so each hop of an OIDC flow can be asserted.

export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const jar = this.cookies.get(url.host) ?? new Map<string, string>();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
      this.cookies.set(url.host, jar);
    }
  }

  header(url: URL): string {
    return [...(this.cookies.get(url.host) ?? new Map()).entries()].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(url: URL, name: string): string | undefined {
    return this.cookies.get(url.host)?.get(name);
  }
}

export async function step(jar: CookieJar, url: URL | string, init: RequestInit = {}): Promise<Response> {
  const target = new URL(url);
  const headers = new Headers(init.headers);
  const cookie = jar.header(target);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(target, { ...init, headers, redirect: 'manual' });
  jar.store(target, response);
  return response;
}

/** Follows redirects until a non-redirect answer or until `stop(url)` says the next hop is ours. */
export async function follow(jar: CookieJar, url: URL | string, stop: (url: URL) => boolean = () => false, init: RequestInit = {}): Promise<{ response?: Response; url: URL }> {
  let current = new URL(url);
  let options = init;
  for (let hops = 0; hops < 20; hops++) {
    if (stop(current)) return { url: current };
    const response = await step(jar, current, options);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
    current = new URL(location, current);
    options = {};
  }
  throw new Error('too many redirects');
}
