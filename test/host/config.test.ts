import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEdgeConfig } from '../../src/edge/config.js';

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
  const config = parseEdgeConfig(yaml('', 'domains: [example.test]\nadmins:\n  include: [{ group: ops }]\n'), 'edge.yaml');
  assert.equal(config.apps.size, 0);
  assert.equal(config.unpublishedApps.get('db.example.test')?.aud, AUD);
  assert.deepEqual(config.domains, ['example.test']);
  assert.deepEqual(config.admins?.include, [{ group: 'ops' }]);
});

test('an app with a tunnel but no service (or the reverse) is refused', () => {
  assert.throws(() => parseEdgeConfig(yaml('    service: tcp://127.0.0.1:1\n'), 'edge.yaml'), /apps\[0\]: tunnel and service go together/);
});

test('an app may not take the aud reserved for operator sign-in', () => {
  assert.throws(() => parseEdgeConfig(yaml('').replace(AUD, 'airlock-edge-administration'), 'edge.yaml'), /apps\[0\]\.aud: "airlock-edge-administration" is reserved/);
});

test('an admins policy needs a rule, and domains must be hostnames', () => {
  assert.throws(() => parseEdgeConfig(yaml('', 'admins:\n  include: []\n'), 'edge.yaml'), /admins\.include/);
  assert.throws(() => parseEdgeConfig(yaml('', 'domains: ["Example.COM/"]\n'), 'edge.yaml'), /domains\[0\]/);
});
