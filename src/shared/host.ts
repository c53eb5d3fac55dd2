// Parsing of host:port forms shared by the client, edge and connector.

/** Host header → bare lower-case hostname, with any port and IPv6 brackets removed. */
export function hostnameFromHostHeader(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) {
    const end = trimmed.indexOf(']');
    return end > 0 ? trimmed.slice(1, end) : undefined;
  }
  const colon = trimmed.lastIndexOf(':');
  const name = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
  return name.replace(/\.$/, '') || undefined;
}

/** A lower-case DNS hostname (RFC 1123 labels, at most 253 characters): one definition for every check. */
export const DNS_HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export interface HostPort {
  host: string;
  port: number;
}

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * "127.0.0.1:6379", "[::1]:22", "localhost:5432" or "tcp://host:port" → { host, port }.
 * Port 0 ("any free port") only where the caller listens, never where it dials.
 */
export function parseHostPort(text: string, { allowPortZero = false } = {}): HostPort | undefined {
  const bare = text.replace(/^tcp:\/\//, '');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(bare);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (!isValidPort(port) && !(allowPortZero && port === 0)) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A tcp:// service URL as written in configs and on the command line. */
export function parseServiceUrl(text: string): HostPort | undefined {
  return text.startsWith('tcp://') ? parseHostPort(text) : undefined;
}

/**
 * The port a URL dials. A WHATWG URL drops its scheme's default port ("https://h:443" has port ""),
 * so Number(url.port) would be 0 exactly in the production shape: every dial site asks here.
 */
export function portOfUrl(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' || url.protocol === 'ws:' ? 80 : 443;
}

/** A URL's hostname without IPv6 brackets, as net and tls take it. */
export function dialHostOfUrl(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
