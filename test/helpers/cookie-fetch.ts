// A minimal browser stand-in for tests that do not need Chromium: follows redirects by hand and
// keeps cookies per host name (as browsers do: not per port), so each hop of an OIDC flow can be asserted. Speaks http and https
// (trusting the test CA given to the jar).
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

/**
 * One TLS context per trusted CA, as a browser has one trust store: building it per connection
 * (what passing `ca` does) costs milliseconds of the test process's CPU each time.
 */
const contexts = new WeakMap<Buffer, tls.SecureContext>();
function trusting(ca: Buffer): tls.SecureContext {
  let context = contexts.get(ca);
  if (!context) contexts.set(ca, (context = tls.createSecureContext({ ca })));
  return context;
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  location?: string;
  text: string;
}

export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  /**
   * `connectTo`: dial this address for every host (the edge serves many names on one listener),
   * keeping the Host header and TLS server name, as Chromium's --host-resolver-rules does.
   */
  constructor(
    readonly ca?: Buffer,
    readonly connectTo?: string,
    /** The address this browser's connections come from (e.g. 127.0.3.7: one user among many). */
    readonly localAddress?: string,
  ) {}

  store(url: URL, setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const jar = this.cookies.get(url.hostname) ?? new Map<string, string>();
      if (/max-age=0\b/i.test(line)) jar.delete(name);
      else jar.set(name, value);
      this.cookies.set(url.hostname, jar);
    }
  }

  header(url: URL): string {
    return [...(this.cookies.get(url.hostname) ?? new Map()).entries()]
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  }

  get(url: URL | string, name: string): string | undefined {
    return this.cookies.get(new URL(url).hostname)?.get(name);
  }

  names(url: URL | string): string[] {
    return [...(this.cookies.get(new URL(url).hostname)?.keys() ?? [])];
  }
}

export function step(
  jar: CookieJar,
  url: URL | string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<SimpleResponse> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...init.headers };
  const cookie = jar.header(target);
  if (cookie) headers.cookie = cookie;
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const lookup = jar.connectTo ? pinnedLookup(jar.connectTo) : undefined;
    const request = transport.request(
      target,
      {
        method: init.method ?? 'GET',
        headers,
        // `ca` still names the agent's pool of kept-alive connections; the context is built once.
        ...(jar.ca ? { ca: jar.ca, secureContext: trusting(jar.ca) } : {}),
        ...(lookup ? { lookup } : {}),
        ...(jar.localAddress ? { localAddress: jar.localAddress } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          jar.store(target, response.headers['set-cookie']);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            ...(response.headers.location ? { location: new URL(response.headers.location, target).href } : {}),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
}

/** A dns.lookup stand-in that answers one loopback address for every name. */
export function pinnedLookup(address: string) {
  const family = address.includes(':') ? 6 : 4;
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as NonNullable<http.RequestOptions['lookup']>;
}

/** Follows redirects until a non-redirect answer, or until `stop(url)` says the next hop is the caller's. */
export async function follow(
  jar: CookieJar,
  url: URL | string,
  stop: (url: URL) => boolean = () => false,
): Promise<{ response?: SimpleResponse; url: URL }> {
  let current = new URL(url);
  for (let hops = 0; hops < 20; hops++) {
    if (stop(current)) return { url: current };
    const response = await step(jar, current);
    if (response.status < 300 || response.status >= 400 || !response.location) return { response, url: current };
    current = new URL(response.location);
  }
  throw new Error('too many redirects');
}

/** Fills the built-in IdP's form the way a user would. */
export async function signInAtIdp(
  jar: CookieJar,
  loginPage: { response?: SimpleResponse; url: URL },
  email: string,
  password: string,
): Promise<SimpleResponse> {
  const action = new URL(/action="([^"]+)"/.exec(loginPage.response!.text)![1]!, loginPage.url);
  return step(jar, action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }).toString(),
  });
}
