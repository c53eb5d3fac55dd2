import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEdgeConfig } from '../../../src/edge/config/config.js';
import { airlock } from '../../helpers/processes.js';

// A real hash: one repeated digit is a placeholder, which the edge refuses as a weak secret hash.
const HASH = 'sha256:613ee2d9054fac0a06ca941e7512c866bcb689d4fd58f2f96d26587437fbc9a5';
const AUD = 'b'.repeat(32);
const valid = (app = '', top = '') => `listen: 127.0.0.1:8443
tls: { cert: edge.pem, key: edge-key.pem }
${top}apps:
  - hostname: db.example.test
    aud: ${AUD}
    tunnel: t1
    service: tcp://127.0.0.1:5432
    policy:
      include: [{ emailDomain: example.test }]
      exclude: [{ ip: 192.0.2.0/24 }]
${app}tunnels:
  - { id: t1, secretHash: "${HASH}" }
`;

function invalid(text: string): string {
  try {
    parseEdgeConfig(text, 'edge.yaml');
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'CONFIG_INVALID');
    return (error as Error).message;
  }
  assert.fail('config was accepted');
}

test('a valid config resolves apps, defaults and the public URL', () => {
  const config = parseEdgeConfig(valid(), '/etc/airlock/edge.yaml');
  const app = config.apps.get('db.example.test')!;
  assert.equal(app.serviceAuthority, '127.0.0.1:5432');
  assert.equal(app.sessionMs, 24 * 3_600_000);
  assert.equal(config.publicUrl, 'https://127.0.0.1:8443');
  assert.equal(config.tls.cert, '/etc/airlock/edge.pem');
});

test('malformed YAML is reported as a syntax error', () => {
  assert.match(invalid('listen: [127.0.0.1\ntls: {'), /edge\.yaml: YAML syntax error/);
});

test('an unknown key is named with its exact path', () => {
  assert.match(
    invalid(valid().replace('    tunnel: t1', '    tunnel: t1\n    servce: x')),
    /apps\[0\]: unknown key "servce"/,
  );
});

test('an unknown policy rule names the rule path', () => {
  assert.match(
    invalid(valid().replace('{ emailDomain: example.test }', '{ emial: a@b.c }')),
    /apps\[0\]\.policy\.include\[0\]: is not a known rule/,
  );
});

test('duplicate hostnames are refused', () => {
  const second = `  - hostname: db.example.test
    aud: ${'c'.repeat(32)}
    tunnel: t1
    service: tcp://127.0.0.1:5433
    policy: { include: [{ everyone: true }] }
`;
  assert.match(invalid(valid(second)), /apps\[1\]\.hostname: "db\.example\.test" is already used by another app/);
});

test('a wrong type names the path and the expected type', () => {
  assert.match(invalid(valid().replace('listen: 127.0.0.1:8443', 'listen: 8443')), /listen: /);
  assert.match(
    invalid(valid().replace('include: [{ emailDomain: example.test }]', 'include: { emailDomain: example.test }')),
    /apps\[0\]\.policy\.include/,
  );
});

test('a service that is not tcp://host:port, or a port out of range, is refused', () => {
  assert.match(
    invalid(valid().replace('tcp://127.0.0.1:5432', 'http://127.0.0.1:5432')),
    /apps\[0\]\.service: must be tcp:\/\/host:port/,
  );
  assert.match(invalid(valid().replace('tcp://127.0.0.1:5432', 'tcp://127.0.0.1:0')), /apps\[0\]\.service/);
  assert.match(invalid(valid().replace('tcp://127.0.0.1:5432', 'tcp://127.0.0.1:65536')), /apps\[0\]\.service/);
});

test('an app naming a tunnel that does not exist is refused', () => {
  assert.match(
    invalid(valid().replace('    tunnel: t1', '    tunnel: t2')),
    /apps\[0\]\.tunnel: no tunnel with id "t2"/,
  );
});

test('a secret hash that is not sha256 is refused (secrets are never stored in the clear)', () => {
  assert.match(invalid(valid().replace(HASH, 'plaintext-secret')), /tunnels\[0\]\.secretHash: must be "sha256:"/);
});

test('a policy without include rules is refused: nobody is let in by default', () => {
  assert.match(
    invalid(valid().replace('include: [{ emailDomain: example.test }]', 'include: []')),
    /needs at least one rule/,
  );
});

test('an idp secret from a missing environment variable is named', () => {
  const idp =
    'idp: { issuer: https://idp.example.test, clientId: edge, clientSecret: "${AIRLOCK_TEST_UNSET_SECRET}" }\n';
  assert.match(invalid(valid('', idp)), /idp\.clientSecret: environment variable AIRLOCK_TEST_UNSET_SECRET is not set/);
});

test('`airlock edge --config` with a bad file exits 2 and names the path', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'airlock-config-')), 'edge.yaml');
  writeFileSync(file, valid().replace('    tunnel: t1', '    tunnel: t1\n    bogus: 1'));
  const process = airlock(['edge', '--config', file]);
  assert.equal(await process.exited(), 2);
  assert.match(process.output(), /apps\[0\]: unknown key "bogus"/);
});

test('`airlock edge --config` with malformed YAML exits 2', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'airlock-config-')), 'edge.yaml');
  writeFileSync(file, 'apps: [\n');
  const process = airlock(['edge', '--config', file]);
  assert.equal(await process.exited(), 2);
  assert.match(process.output(), /YAML syntax error/);
});

test('a value of the wrong type says what was expected and what was found', () => {
  assert.match(
    invalid(valid().replace('tls: { cert: edge.pem, key: edge-key.pem }', 'tls: { cert: 42, key: edge-key.pem }')),
    /tls\.cert: must be a string, got a number/,
  );
});

test('an idp issuer over plain http is refused unless it is on loopback', () => {
  const idp = (issuer: string) => `idp: { issuer: "${issuer}", clientId: edge, clientSecret: s }\n`;
  assert.match(invalid(valid('', idp('http://idp.example.test'))), /idp\.issuer: must be https:\/\//);
  assert.ok(parseEdgeConfig(valid('', idp('http://127.0.0.1:9000')), 'edge.yaml').idp);
});

test('idp client authentication: a method from the list, a secret unless private_key_jwt, a key file for it', () => {
  const idp = (fields: string) => `idp: { issuer: https://idp.example.test, clientId: airlock-edge, ${fields} }\n`;
  const post = parseEdgeConfig(
    valid('', idp('clientSecret: s, tokenEndpointAuthMethod: client_secret_post')),
    'edge.yaml',
  );
  assert.equal(post.idp?.tokenEndpointAuthMethod, 'client_secret_post');
  assert.match(
    invalid(valid('', idp('clientSecret: s, tokenEndpointAuthMethod: tls_client_auth'))),
    /idp\.tokenEndpointAuthMethod/,
  );
  assert.match(
    invalid(valid('', idp('tokenEndpointAuthMethod: client_secret_basic'))),
    /idp\.clientSecret: is required/,
  );
  assert.match(
    invalid(valid('', idp('tokenEndpointAuthMethod: private_key_jwt'))),
    /idp\.privateKeyFile: is required for private_key_jwt/,
  );
  const keyed = parseEdgeConfig(valid('', idp('privateKeyFile: keys/client.pem')), '/etc/airlock/edge.yaml');
  assert.equal(keyed.idp?.privateKeyFile, '/etc/airlock/keys/client.pem', 'resolved beside edge.yaml');
});

test('idp claim names and the RP-initiated logout opt-out', () => {
  const text = valid(
    '',
    'idp: { issuer: https://idp.example.test, clientId: e, clientSecret: s, claims: { groups: roles }, rpInitiatedLogout: false }\n',
  );
  const config = parseEdgeConfig(text, 'edge.yaml');
  assert.deepEqual(config.idp?.claims, { groups: 'roles' });
  assert.equal(config.idp?.rpInitiatedLogout, false);
  assert.match(invalid(text.replace('groups: roles', 'group: roles')), /idp\.claims/);
});

test('sessionDuration sets the organisation session (24h by default) and is validated', () => {
  assert.equal(parseEdgeConfig(valid(), 'edge.yaml').organisationSessionMs, 24 * 3_600_000);
  assert.equal(parseEdgeConfig(valid('', 'sessionDuration: 8h\n'), 'edge.yaml').organisationSessionMs, 8 * 3_600_000);
  assert.match(invalid(valid('', 'sessionDuration: soon\n')), /sessionDuration: must be a duration/);
});

test('the sign-in domain (publicUrl) cannot also be an app hostname', () => {
  const message = invalid(valid('', 'publicUrl: https://db.example.test\n'));
  assert.match(
    message,
    /apps\[0\]\.hostname: "db\.example\.test" is the sign-in domain \(publicUrl\); give the edge a hostname of its own, e\.g\. auth\.example\.test/,
  );
});

test("the organisation session's audience is reserved", () => {
  assert.match(
    invalid(valid().replace(`aud: ${AUD}`, 'aud: airlock-organisation')),
    /apps\[0\]\.aud: "airlock-organisation" is reserved for the organisation session/,
  );
});

test("an app's sessionDuration shorter than the client's reuse margin plus a minute is refused (it would never connect)", () => {
  const message = invalid(valid('    sessionDuration: 20s\n'));
  assert.match(message, /sessionDuration: must be at least 2m: clients discard a token 60s before it expires/);
  assert.doesNotMatch(message, /must be a duration/);
  const minimum = parseEdgeConfig(valid('    sessionDuration: 2m\n'), 'edge.yaml');
  assert.equal([...minimum.apps.values()][0]!.sessionMs, 120_000);
});
