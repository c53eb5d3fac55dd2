// Hostile or broken configuration: refused at load with an error that names the exact
// place, never half-applied. "Weak" secret hashes: see isWeakSecretHash in src/shared/secrets.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEdgeConfig } from '../../src/edge/config/config.js';
import { loadConnectorConfig } from '../../src/connector/config.js';
import { hashSecret, isWeakSecretHash } from '../../src/shared/secrets.js';
import { edgeYaml, testPki, startChain } from '../helpers/chain.js';
import { assertStillServes } from '../helpers/hostile.js';
import { startOrigin } from '../helpers/transfer.js';

const GOOD_HASH = hashSecret('a'.repeat(43));
const base = (body: string) => `listen: 127.0.0.1:0\ntls: { cert: c.pem, key: k.pem }\n${body}`;
const app = (hostname: string, aud = 'a'.repeat(32)) =>
  `  - { hostname: ${hostname}, aud: ${aud}, tunnel: t1, service: "tcp://127.0.0.1:22", policy: { include: [{ everyone: true }] } }`;
const tunnels = `tunnels:\n  - { id: t1, secretHash: "${GOOD_HASH}" }\n`;

function refused(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseEdgeConfig(text, 'edge.yaml'),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('control: a well-formed config loads', () => {
  assert.equal(parseEdgeConfig(base(`apps:\n${app('a.example.com')}\n${tunnels}`), 'edge.yaml').apps.size, 1);
});

test('refuses malformed YAML with the line of the error', () => {
  refused(base('apps:\n  - { hostname: a.example.com\n'), /edge\.yaml: YAML syntax error.*line \d+/s);
});

test('refuses a duplicated key (YAML would silently keep the last)', () => {
  refused(base('apps: []\napps: []\n'), /YAML syntax error.*unique/is);
});

test('refuses unknown keys at the top level and in an app, naming them', () => {
  refused(base('allowEveryone: true\n'), /\(top level\): unknown key "allowEveryone"/);
  refused(
    base(
      `apps:\n  - { hostname: a.example.com, aud: ${'a'.repeat(32)}, tunnel: t1, service: "tcp://127.0.0.1:22", bypass: true, policy: { include: [{ everyone: true }] } }\n${tunnels}`,
    ),
    /apps\[0\]: unknown key "bypass"/,
  );
});

test('refuses duplicate hostnames (which app would win is not a question to leave open)', () => {
  refused(
    base(`apps:\n${app('a.example.com')}\n${app('a.example.com', 'b'.repeat(32))}\n${tunnels}`),
    /apps\[1\]\.hostname: "a\.example\.com" is already used/,
  );
});

test('refuses wrong types, saying what was expected', () => {
  refused(base('limits: { maxConnectionsPerIp: "ten" }\n'), /limits\.maxConnectionsPerIp/);
  refused(base('apps: "all"\n'), /apps/);
  refused(
    base(
      `apps:\n  - { hostname: 42, aud: ${'a'.repeat(32)}, tunnel: t1, service: "tcp://127.0.0.1:22", policy: { include: [{ everyone: true }] } }\n${tunnels}`,
    ),
    /apps\[0\]\.hostname/,
  );
  refused('listen: 443\ntls: { cert: c, key: k }\n', /listen/);
});

test('refuses a policy with no include rule (nobody is let in by default, not everybody)', () => {
  refused(
    base(
      `apps:\n  - { hostname: a.example.com, aud: ${'a'.repeat(32)}, tunnel: t1, service: "tcp://127.0.0.1:22", policy: { include: [] } }\n${tunnels}`,
    ),
    /include: needs at least one rule/,
  );
});

for (const [what, hash] of [
  ['the hash of an empty secret', hashSecret('')],
  ['the hash of "password"', hashSecret('password')],
  ['the hash of "changeme"', hashSecret('changeme')],
  ['a placeholder hash of one repeated digit', `sha256:${'0'.repeat(64)}`],
] as const) {
  test(`refuses a weak tunnel or service-token secret hash: ${what}`, () => {
    assert.equal(isWeakSecretHash(hash), true);
    refused(base(`tunnels:\n  - { id: t1, secretHash: "${hash}" }\n`), /tunnels\[0\]\.secretHash: .*weak/);
    refused(base(`serviceTokens:\n  - { id: s1, secretHash: "${hash}" }\n`), /serviceTokens\[0\]\.secretHash: .*weak/);
  });
}

test('refuses a secret hash that is not sha256 hex', () => {
  refused(
    base(`tunnels:\n  - { id: t1, secretHash: "md5:5f4dcc3b5aa765d61d8327deb882cf99" }\n`),
    /tunnels\[0\]\.secretHash/,
  );
});

test('refuses a connector config with unknown keys and an ingress list without a catch-all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cfg-'));
  const file = join(dir, 'connector.yaml');
  writeFileSync(
    file,
    'edge: https://edge.example.com\ntoken: abc\nallowAll: true\ningress:\n  - { service: "tcp://127.0.0.1:22" }\n',
  );
  assert.throws(() => loadConnectorConfig(file), /unknown key "allowAll"/);
  writeFileSync(
    file,
    'edge: https://edge.example.com\ntoken: abc\ningress:\n  - { hostname: a.example.com, service: "tcp://127.0.0.1:22" }\n',
  );
  assert.throws(() => loadConnectorConfig(file), /last rule must be a catch-all/);
  // Several edges: a list of https URLs, each checked.
  const ingress = 'ingress:\n  - { service: "tcp://127.0.0.1:22" }\n';
  writeFileSync(file, `edge: [https://edge-1.example.com, https://edge-2.example.com]\ntoken: abc\n${ingress}`);
  assert.deepEqual(loadConnectorConfig(file).edges, ['https://edge-1.example.com', 'https://edge-2.example.com']);
  writeFileSync(file, `edge: [https://edge-1.example.com, http://edge-2.example.com]\ntoken: abc\n${ingress}`);
  assert.throws(() => loadConnectorConfig(file), /edge/);
});

test('`airlock edge --check` exits 2 on an invalid config and a running edge is unaffected', async (t) => {
  const pki = await testPki();
  const origin = await startOrigin();
  const chain = await startChain([{ hostname: 'cfg.airlock.test', service: `tcp://127.0.0.1:${origin.port}` }]);
  t.after(async () => {
    await chain.close();
    await origin.close();
  });
  const file = join(mkdtempSync(join(tmpdir(), 'airlock-cfg-')), 'edge.yaml');
  writeFileSync(file, `${edgeYaml(pki, [])}\nsurprise: 1\n`);
  const result = spawnSync(process.execPath, ['bin/airlock.js', 'edge', '--config', file, '--check'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown key "surprise"/);
  await assertStillServes(chain.edgeUrl, chain.pki.ca, 'cfg.airlock.test');
});
