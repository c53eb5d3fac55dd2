// What the client remembers about the edges it has reached (tsh's profiles, cloudflared's config):
// the edge URL and CA per application hostname and per domain, so `--hostname` alone is enough the
// next time. A 0600 file beside the token file; it holds addresses and paths, never a secret.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { defaultTokenFile } from './token-store.js';

export interface Profile {
  /** --edge as given (https://…); absent when the edge is the app's own https://HOST:443. */
  edge?: string;
  /** --ca as an absolute path. */
  ca?: string;
}

export interface ProfileFile {
  /** By application hostname. */
  apps: Record<string, Profile>;
  /** By the domain of those hostnames (db.example.com → example.com), for an app not reached before. */
  domains: Record<string, Profile>;
}

export function defaultProfileFile(): string {
  return join(dirname(defaultTokenFile()), 'profiles.json');
}

/** example.com for db.example.com; undefined for a single label or an IP address. */
export function domainOf(hostname: string): string | undefined {
  if (/^[\d.]+$/.test(hostname)) return undefined;
  const dot = hostname.indexOf('.');
  return dot > 0 && hostname.indexOf('.', dot + 1) > 0 ? hostname.slice(dot + 1) : undefined;
}

/** The remembered profile for hostname: its own, else its domain's. Pure. */
export function profileFor(file: ProfileFile, hostname: string): Profile | undefined {
  const domain = domainOf(hostname);
  return file.apps[hostname] ?? (domain ? file.domains[domain] : undefined);
}

/** file with hostname (and its domain) remembered as reached through profile. Pure. */
export function remember(file: ProfileFile, hostname: string, profile: Profile): ProfileFile {
  const domain = domainOf(hostname);
  return {
    apps: { ...file.apps, [hostname]: profile },
    domains: domain ? { ...file.domains, [domain]: profile } : file.domains,
  };
}

/**
 * The distinct edges remembered (with the CA remembered with each), for commands that talk to an
 * edge rather than to one app (`access list`). Profiles without an edge (the app's own
 * https://HOST:443) name no sign-in address, so they are left out. Pure.
 */
export function rememberedEdges(file: ProfileFile): Array<Profile & { edge: string }> {
  const byEdge = new Map<string, Profile & { edge: string }>();
  for (const profile of [...Object.values(file.apps), ...Object.values(file.domains)]) {
    if (!profile.edge) continue;
    const origin = new URL(profile.edge).origin;
    if (!byEdge.has(origin) || (!byEdge.get(origin)!.ca && profile.ca))
      byEdge.set(origin, { ...profile, edge: profile.edge });
  }
  return [...byEdge.values()];
}

/** file without hostname, or without everything when hostname is undefined. Pure. */
export function forget(file: ProfileFile, hostname?: string): ProfileFile {
  if (hostname === undefined) return { apps: {}, domains: {} };
  const apps = { ...file.apps };
  delete apps[hostname];
  const domain = domainOf(hostname);
  const domains = { ...file.domains };
  // A domain stays while another remembered app of it still uses that profile.
  if (domain && !Object.keys(apps).some((other) => domainOf(other) === domain)) delete domains[domain];
  return { apps, domains };
}

export function profileFromFlags(values: { edge?: string | undefined; ca?: string | undefined }): Profile {
  return { ...(values.edge ? { edge: values.edge } : {}), ...(values.ca ? { ca: resolve(values.ca) } : {}) };
}

export async function readProfiles(file = defaultProfileFile()): Promise<ProfileFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ProfileFile>;
    return { apps: { ...parsed.apps }, domains: { ...parsed.domains } };
  } catch {
    // Missing (first run) or damaged: nothing remembered; the next success writes it afresh.
    return { apps: {}, domains: {} };
  }
}

export async function writeProfiles(profiles: ProfileFile, file = defaultProfileFile()): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await chmod(dirname(file), 0o700);
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(profiles, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
