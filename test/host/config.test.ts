import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEdgeConfig } from '../../src/edge/config/config.js';
import { startEdge } from '../../src/edge/edge-server.js';
import { silentLogger } from '../../src/shared/logger.js';
import { hasCommand } from '../helpers/processes.js';

const AUD = 'b'.repeat(32);
const yaml = (app: string, top = '') => `listen: 127.0.0.1:8443
tls: { cert: edge.pem, key: edge-key.pem }
${top}apps:
  - hostname: db.example.test
    aud: ${AUD}
${app}    policy:
      include: [{ emailDomain: example.test }]
`;

test('an app with neither tunnel nor service is unpublished, with its policy kept', () => {
  const config = parseEdgeConfig(
    yaml('', 'domains: [example.test]\nadmins:\n  include: [{ group: ops }]\n'),
    'edge.yaml',
  );
  assert.equal(config.apps.size, 0);
  assert.equal(config.unpublishedApps.get('db.example.test')?.aud, AUD);
  assert.deepEqual(config.domains, ['example.test']);
  assert.deepEqual(config.admins?.include, [{ group: 'ops' }]);
});

test('an app with a tunnel but no service (or the reverse) is refused', () => {
  assert.throws(
    () => parseEdgeConfig(yaml('    service: tcp://127.0.0.1:1\n'), 'edge.yaml'),
    /apps\[0\]: tunnel and service go together/,
  );
});

test('an app may not take the aud reserved for operator sign-in', () => {
  assert.throws(
    () => parseEdgeConfig(yaml('').replace(AUD, 'airlock-edge-administration'), 'edge.yaml'),
    /apps\[0\]\.aud: "airlock-edge-administration" is reserved/,
  );
});

test('an admins policy needs a rule, and domains must be hostnames', () => {
  assert.throws(() => parseEdgeConfig(yaml('', 'admins:\n  include: []\n'), 'edge.yaml'), /admins\.include/);
  assert.throws(() => parseEdgeConfig(yaml('', 'domains: ["Example.COM/"]\n'), 'edge.yaml'), /domains\[0\]/);
});

const HOST_MD = readFileSync(new URL('../../docs/host.md', import.meta.url), 'utf8');

/** The first fenced block of this language after the heading. */
function blockAfter(heading: string, language: string): string {
  const start = HOST_MD.indexOf(heading);
  assert.ok(start >= 0, `docs/host.md has the heading ${heading}`);
  const block = new RegExp(`\`\`\`${language}\\n([^]*?)\`\`\``).exec(HOST_MD.slice(start));
  assert.ok(block, `docs/host.md has a ${language} block after ${heading}`);
  return block[1]!;
}

test('docs/host.md: its edge.yaml is complete and valid as the edge loads it', () => {
  process.env.AIRLOCK_IDP_CLIENT_SECRET = 'from-the-environment';
  try {
    const config = parseEdgeConfig(
      blockAfter('## Before: what the edge administrator puts in edge.yaml', 'yaml'),
      '/etc/airlock/edge.yaml',
    );
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 443 });
    assert.deepEqual(config.tls, { cert: '/etc/airlock/tls/edge.pem', key: '/etc/airlock/tls/edge-key.pem' });
    assert.equal(config.idp?.issuer, 'https://login.example.test');
    assert.equal(config.idp?.clientSecret, 'from-the-environment');
    assert.equal(config.stateDir, '/var/lib/airlock/edge');
    assert.equal(config.publicUrl, 'https://access.example.test');
    assert.deepEqual(config.domains, ['example.test']);
    assert.deepEqual([...config.unpublishedApps.keys()], ['redis.example.test']);
  } finally {
    delete process.env.AIRLOCK_IDP_CLIENT_SECRET;
  }
});

test(
  'docs/host.md: its openssl commands make a certificate the edge serves and clients verify, for the sign-in host and a published hostname',
  { skip: hasCommand('/usr/bin/openssl') ? undefined : 'openssl is not installed (Debian package openssl)' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-host-ca-'));
    const made = spawnSync('bash', ['-e', '-c', blockAfter('**From your own CA**', 'sh')], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);
    const config = parseEdgeConfig(
      `listen: 127.0.0.1:0\ntls: { cert: edge.pem, key: edge-key.pem }\nstateDir: state\n`,
      join(dir, 'edge.yaml'),
    );
    const edge = await startEdge({ config, log: silentLogger() });
    t.after(() => edge.close(100));
    const ca = readFileSync(join(dir, 'ca.pem'));
    const port = Number(edge.address.split(':').pop());
    for (const servername of ['access.example.test', 'redis.example.test']) {
      const status = await new Promise<number>((resolve, reject) => {
        const request = https.get(
          { host: '127.0.0.1', port, servername, path: '/healthz', headers: { host: servername }, ca, agent: false },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
      });
      assert.equal(status, 200, servername);
    }
    await assert.rejects(
      new Promise((resolve, reject) =>
        https
          .get({ host: '127.0.0.1', port, servername: 'a.b.example.test', path: '/healthz', ca, agent: false }, resolve)
          .on('error', reject),
      ),
      /ERR_TLS_CERT_ALTNAME_INVALID|does not match/,
      'the wildcard covers one label only, as the page says',
    );
  },
);
