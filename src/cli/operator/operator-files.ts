// What `airlock tunnel login` and `airlock tunnel --hostname` keep on the operator's machine
//, under $XDG_CONFIG_HOME/airlock (default ~/.config/airlock), one edge per file name:
//   operator/EDGE.json          the operator credential { edge, token, email, expiresAt, caFile }
//   tunnels/EDGE/NAME.json      a tunnel this machine runs { edge, name, hostname, url, token, caFile }
// Directories 0700, files 0600, written via a temporary file and rename.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AirlockError } from '../../shared/errors.js';
import { DNS_HOSTNAME, parseServiceUrl } from '../../shared/host.js';

export interface OperatorCredential {
  edge: string;
  token: string;
  email: string;
  expiresAt: string;
  caFile?: string;
}

export interface LocalTunnel {
  edge: string;
  name: string;
  hostname: string;
  url: string;
  token: string;
  caFile?: string;
}

export function airlockConfigDir(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'airlock');
}

/** https://edge.example.com:8443 → edge.example.com_8443: one file name per edge. */
export function edgeKey(edgeOrigin: string): string {
  const url = new URL(edgeOrigin);
  return `${url.hostname.replace(/[^A-Za-z0-9.-]/g, '_')}_${url.port || '443'}`;
}

const credentialFile = (edgeOrigin: string) => join(airlockConfigDir(), 'operator', `${edgeKey(edgeOrigin)}.json`);
const tunnelFile = (edgeOrigin: string, name: string) =>
  join(airlockConfigDir(), 'tunnels', edgeKey(edgeOrigin), `${name}.json`);

export async function saveCredential(credential: OperatorCredential): Promise<string> {
  const file = credentialFile(credential.edge);
  await writePrivate(file, credential);
  return file;
}

export async function loadCredential(edgeOrigin: string): Promise<OperatorCredential | undefined> {
  return readJson<OperatorCredential>(credentialFile(edgeOrigin));
}

/** Every edge this machine holds a credential for (to default --edge when there is one). */
export async function listCredentials(): Promise<OperatorCredential[]> {
  const dir = join(airlockConfigDir(), 'operator');
  const names = await readdir(dir).catch(() => [] as string[]);
  const found = await Promise.all(
    names.filter((name) => name.endsWith('.json')).map((name) => readJson<OperatorCredential>(join(dir, name))),
  );
  return found.filter((credential): credential is OperatorCredential => credential !== undefined);
}

export async function forgetCredential(edgeOrigin: string): Promise<void> {
  await rm(credentialFile(edgeOrigin), { force: true });
}

export async function saveTunnel(tunnel: LocalTunnel): Promise<string> {
  const file = tunnelFile(tunnel.edge, tunnel.name);
  await writePrivate(file, tunnel);
  return file;
}

export async function loadTunnel(edgeOrigin: string, name: string): Promise<LocalTunnel | undefined> {
  const file = tunnelFile(edgeOrigin, name);
  return checkedTunnel(await readJson<unknown>(file), file);
}

const TUNNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A tunnel file is checked where it is read: its fields end up in service definitions written as
 * root (`airlock service install`), so a newline in a hostname must never get that far.
 */
export function checkedTunnel(value: unknown, file: string): LocalTunnel | undefined {
  if (value === undefined) return undefined;
  const tunnel = value as Partial<LocalTunnel>;
  const problem =
    typeof tunnel.name !== 'string' || !TUNNEL_NAME.test(tunnel.name)
      ? 'name is not a tunnel name (letters, digits, ".", "_", "-")'
      : typeof tunnel.hostname !== 'string' || !DNS_HOSTNAME.test(tunnel.hostname)
        ? 'hostname is not a DNS name'
        : typeof tunnel.edge !== 'string' || !URL.canParse(tunnel.edge) || new URL(tunnel.edge).protocol !== 'https:'
          ? 'edge is not an https:// URL'
          : typeof tunnel.url !== 'string' || parseServiceUrl(tunnel.url) === undefined
            ? 'url is not tcp://HOST:PORT'
            : typeof tunnel.token !== 'string' || !/^[\x21-\x7e]+$/.test(tunnel.token)
              ? 'token is missing or malformed'
              : tunnel.caFile !== undefined &&
                  (typeof tunnel.caFile !== 'string' || /[\x00-\x1f\x7f]/.test(tunnel.caFile))
                ? 'caFile is not a path'
                : undefined;
  if (problem)
    throw new AirlockError(
      'CONFIG_INVALID',
      `${file}: ${problem}; fix the file or remove it and run \`airlock tunnel --hostname …\` again`,
    );
  return tunnel as LocalTunnel;
}

export async function listTunnels(): Promise<LocalTunnel[]> {
  const root = join(airlockConfigDir(), 'tunnels');
  const edges = await readdir(root).catch(() => [] as string[]);
  const files = (
    await Promise.all(
      edges.map(async (edge) =>
        (await readdir(join(root, edge)).catch(() => [] as string[])).map((name) => join(root, edge, name)),
      ),
    )
  ).flat();
  const found = await Promise.all(
    files
      .filter((file) => file.endsWith('.json'))
      .map(async (file) => checkedTunnel(await readJson<unknown>(file), file)),
  );
  return found.filter((tunnel): tunnel is LocalTunnel => tunnel !== undefined);
}

export async function forgetTunnel(edgeOrigin: string, name: string): Promise<void> {
  await rm(tunnelFile(edgeOrigin, name), { force: true });
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function writePrivate(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await chmod(dirname(file), 0o700);
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temporary, file);
}
