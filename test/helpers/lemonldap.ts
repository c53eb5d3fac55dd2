// LemonLDAP::NG 2.16 from Debian as a second, independent OpenID provider for tests: its portal
// under llng-fastcgi-server, behind a private nginx on 127.0.0.1, with a configuration generated
// in a temp dir (File backend, Demo users, the OIDC issuer enabled, one RP per client given).
// Nothing system-wide is touched: no service is started, no file outside the temp dir written.
//
//   const reason = lemonldapMissing();  // a string when the Debian packages are absent: skip
//   const idp = await startLemonldap({ clients: [{ clientId, clientSecret, redirectUris }] });
//   idp.issuer → 'http://127.0.0.1:PORT'; idp.startupMs; await idp.close();
// Demo users (Lemonldap::NG::Portal::UserDB::Demo): dwho, rtyler, msmith, password = login;
// mail LOGIN@badwolf.org; groups timelords (dwho), earthlings (rtyler, msmith), users (all).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FASTCGI_SERVER = '/usr/sbin/llng-fastcgi-server';
const NGINX = '/usr/sbin/nginx';
const PORTAL_ROOT = '/usr/share/lemonldap-ng/portal/htdocs';
const DEMO_CONF = '/var/lib/lemonldap-ng/conf/lmConf-1.json';
const TEMPLATES = '/usr/share/lemonldap-ng/portal/templates';

export const DEMO_USERS = {
  dwho: { email: 'dwho@badwolf.org', groups: ['timelords', 'users'] },
  rtyler: { email: 'rtyler@badwolf.org', groups: ['earthlings', 'users'] },
  msmith: { email: 'msmith@badwolf.org', groups: ['earthlings', 'users'] },
} as const;

export interface LemonldapClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface RunningLemonldap {
  issuer: string;
  /** From spawning the two processes to the first answered discovery request. */
  startupMs: number;
  /** Portal log lines so far (warn and above), for a failing test's message. */
  logs(): string;
  close(): Promise<void>;
}

/** Why the provider cannot run here, or undefined when it can. */
export function lemonldapMissing(): string | undefined {
  for (const path of [FASTCGI_SERVER, NGINX, DEMO_CONF, join(PORTAL_ROOT, 'index.psgi')])
    if (!existsSync(path))
      return `${path} is missing (Debian packages lemonldap-ng, lemonldap-ng-fastcgi-server and nginx)`;
  // Modules the portal loads at start that the packages only recommend (.ci/run installs them).
  const modules = ['String::Random', 'Image::Magick', 'GD::SecurityImage', 'IO::String', 'Email::Sender::Simple'];
  const probe = spawnSync('perl', [...modules.map((name) => `-M${name}`), '-e1'], { encoding: 'utf8' });
  if (probe.status !== 0)
    return `the LemonLDAP::NG portal lacks Perl modules (${modules.join(', ')}; see .ci/run): ${probe.stderr.split('\n')[0]}`;
  return undefined;
}

export async function startLemonldap(options: { clients: LemonldapClient[] }): Promise<RunningLemonldap> {
  const missing = lemonldapMissing();
  if (missing) throw new Error(missing);
  const dir = await mkdtemp(join(tmpdir(), 'airlock-lemonldap-'));
  const [portalPort, fastcgiPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${portalPort}`;
  for (const sub of ['conf', 'sessions/lock', 'psessions/lock', 'cache', 'nginx', 'notifications', 'captcha'])
    await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, 'lemonldap-ng.ini'), ini(dir));
  await writeFile(join(dir, 'conf', 'lmConf-1.json'), JSON.stringify(providerConfig(issuer, dir, options.clients)));
  await writeFile(join(dir, 'nginx.conf'), nginxConfig(dir, portalPort, fastcgiPort));
  // Root runs the portal as www-data (llng-fastcgi-server refuses root): it must own its state.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chownTree(dir, 33, 33);

  const logs: string[] = [];
  const started = performance.now();
  const portal = spawn(
    FASTCGI_SERVER,
    [
      '--foreground',
      '--engine',
      'FCGI',
      // One worker: the portal is never asked two things at once in these tests, and each
      // worker compiles the whole portal at its first request (seconds of CPU).
      '--proc',
      '1',
      '--listen',
      `127.0.0.1:${fastcgiPort}`,
      '--pid',
      join(dir, 'llng.pid'),
      ...(asRoot ? ['--user', 'www-data', '--group', 'www-data'] : []),
    ],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LLNG_DEFAULTCONFFILE: join(dir, 'lemonldap-ng.ini'),
        LLNG_DEFAULTLOGGER: 'Lemonldap::NG::Common::Logger::Std',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const nginx = spawn(
    NGINX,
    ['-c', join(dir, 'nginx.conf'), '-p', join(dir, 'nginx'), '-e', join(dir, 'nginx', 'error.log')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  for (const child of [portal, nginx]) {
    child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  }
  const close = async () => {
    await Promise.all([stop(nginx), stop(portal)]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForDiscovery(issuer, [portal, nginx], () => logs.join(''));
  } catch (error) {
    await close();
    throw error;
  }
  return { issuer, startupMs: Math.round(performance.now() - started), logs: () => logs.join(''), close };
}

/** The shipped demo configuration, with the OIDC issuer on and one relying party per client. */
function providerConfig(issuer: string, dir: string, clients: LemonldapClient[]): Record<string, unknown> {
  const demo = JSON.parse(readFileSync(DEMO_CONF, 'utf8')) as Record<string, unknown>;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rps = Object.fromEntries(clients.map((client, index) => [`airlock${index}`, client]));
  return {
    ...demo,
    cfgNum: 1,
    portal: `${issuer}/`,
    // Host-only cookies on 127.0.0.1 over plain http.
    domain: '127.0.0.1',
    securedCookie: 0,
    globalStorageOptions: {
      Directory: join(dir, 'sessions'),
      LockDirectory: join(dir, 'sessions', 'lock'),
      generateModule: 'Lemonldap::NG::Common::Apache::Session::Generate::SHA256',
    },
    persistentStorageOptions: { Directory: join(dir, 'psessions'), LockDirectory: join(dir, 'psessions', 'lock') },
    localSessionStorageOptions: { cache_root: join(dir, 'cache'), namespace: 'lemonldap-ng-sessions', cache_depth: 3 },
    notificationStorageOptions: { dirName: join(dir, 'notifications') },
    locationRules: { '127.0.0.1': { default: 'accept' } },
    issuerDBOpenIDConnectActivation: 1,
    oidcServiceMetaDataIssuer: issuer,
    oidcServicePrivateKeySig: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    oidcServicePublicKeySig: publicKey.export({ type: 'spki', format: 'pem' }),
    oidcServiceKeyIdSig: randomBytes(8).toString('hex'),
    oidcRPMetaDataOptions: Object.fromEntries(
      Object.entries(rps).map(([key, client]) => [
        key,
        {
          oidcRPMetaDataOptionsClientID: client.clientId,
          oidcRPMetaDataOptionsClientSecret: client.clientSecret,
          oidcRPMetaDataOptionsRedirectUris: client.redirectUris.join(' '),
          oidcRPMetaDataOptionsIDTokenSignAlg: 'RS256',
          oidcRPMetaDataOptionsBypassConsent: 1,
          // Sign-out with an id_token_hint from this RP skips the "log out?" page.
          oidcRPMetaDataOptionsLogoutBypassConfirm: 1,
          oidcRPMetaDataOptionsRequirePKCE: 1,
        },
      ]),
    ),
    // What each RP may read; the provider's default claim settings decide where (userinfo).
    oidcRPMetaDataExportedVars: Object.fromEntries(
      Object.keys(rps).map((key) => [key, { email: 'mail', name: 'cn', groups: 'groups;string;always' }]),
    ),
  };
}

function ini(dir: string): string {
  return `[all]
logLevel = ${process.env.AIRLOCK_LLNG_LOG_LEVEL ?? 'warn'}
checkTime = 1

[configuration]
type = File
dirName = ${join(dir, 'conf')}
localStorage = Cache::FileCache
localStorageOptions = { 'namespace' => 'lemonldap-ng-config', 'default_expires_in' => 600, 'cache_root' => '${join(dir, 'cache')}', 'cache_depth' => 3 }

[portal]
staticPrefix = /static
templateDir = ${TEMPLATES}
languages = en
`;
}

function nginxConfig(dir: string, portalPort: number, fastcgiPort: number): string {
  const asRoot = process.getuid?.() === 0;
  const temp = join(dir, 'nginx');
  return `${asRoot ? 'user www-data www-data;' : ''}
daemon off;
worker_processes 1;
pid ${join(temp, 'nginx.pid')};
error_log ${join(temp, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(temp, 'body')};
  proxy_temp_path ${join(temp, 'proxy')};
  fastcgi_temp_path ${join(temp, 'fastcgi')};
  uwsgi_temp_path ${join(temp, 'uwsgi')};
  scgi_temp_path ${join(temp, 'scgi')};
  include /etc/nginx/mime.types;
  server {
    listen 127.0.0.1:${portalPort};
    server_name 127.0.0.1;
    root ${PORTAL_ROOT};
    location /static/ { alias ${PORTAL_ROOT}/static/; }
    location /javascript/ { alias /usr/share/javascript/; }
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass 127.0.0.1:${fastcgiPort};
      fastcgi_param HTTP_HOST $http_host;
      fastcgi_param LLTYPE psgi;
      fastcgi_param SCRIPT_FILENAME ${PORTAL_ROOT}/index.psgi;
      fastcgi_param SCRIPT_NAME '';
      fastcgi_param PATH_INFO $uri;
    }
  }
}
`;
}

async function waitForDiscovery(issuer: string, children: ChildProcess[], logs: () => string): Promise<void> {
  const deadline = Date.now() + Number(process.env.AIRLOCK_LLNG_WAIT_MS ?? 60_000);
  let last = '';
  while (Date.now() < deadline) {
    const exited = children.find((child) => child.exitCode !== null);
    if (exited) throw new Error(`${exited.spawnfile} exited (${exited.exitCode}):\n${logs()}`);
    try {
      const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`LemonLDAP::NG did not answer discovery within 60 s (${last}):\n${logs()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** SIGTERM to the process we started (by its pid), SIGKILL after 5 s. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await chown(child, uid, gid);
  }
}
