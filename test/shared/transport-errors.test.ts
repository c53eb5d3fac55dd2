// An unreachable edge: the hint names the port actually dialled (443 unless the edge URL says
// otherwise), from every place that dials an edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRequest } from '../../src/cli/operator/admin-client.js';
import { edgeRequest } from '../../src/core/edge-http.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { checkAccess } from '../../src/core/tunnel-dial.js';
import { Connector } from '../../src/connector/connector.js';
import { EGRESS_HINT, egressHint } from '../../src/shared/errors.js';
import { encodeTunnelToken } from '../../src/shared/secrets.js';
import { transportError } from '../../src/shared/transport-errors.js';
import { freePort } from '../helpers/chain.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

test('an edge on the default port: the hint names port 443', () => {
  const target = resolveEdgeTarget({ hostname: 'db.example.com' });
  const error = transportError(refused(), target.edgeOrigin, target.port);
  assert.equal(error.code, 'EDGE_UNREACHABLE');
  assert.match(error.message, /; check that outbound connections on port 443 are allowed from this machine$/);
  assert.equal(EGRESS_HINT, egressHint(443));
});

test('a TLS refusal carries the hint for the port dialled too', () => {
  const error = transportError(
    Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
    'https://edge.example.com:8443',
    8443,
  );
  assert.equal(error.code, 'TLS_FAILED');
  assert.match(error.message, /port 8443 are allowed/);
  assert.doesNotMatch(error.message, /port 443\b/);
});

test('several edges on different ports: the hint names each port once', () => {
  assert.equal(
    egressHint(443, 8443, 443),
    'check that outbound connections on ports 443 and 8443 are allowed from this machine',
  );
});

test('an unreachable edge on another port: the client, sign-in, operator and connector hints name that port', async () => {
  const dead = await freePort();
  const edge = `https://127.0.0.1:${dead}`;
  const target = resolveEdgeTarget({ hostname: 'db.airlock.test', edge });
  const connector = new Connector({
    edgeUrl: edge,
    token: encodeTunnelToken('t', 'secret'),
    rules: [{ service: 'http_status:404' }],
    connections: 1,
  });
  connector.start();
  const attempts: Array<[string, Promise<unknown>]> = [
    ['access check', checkAccess({ target, headers: {} })],
    ['sign-in request', edgeRequest(target, new URL('/cdn-cgi/access/token', edge))],
    ['operator request', adminRequest({ edgeOrigin: edge, token: '-' }, 'GET', 'whoami')],
    ['connector start-up', connector.waitConnected(1, 300)],
  ];
  try {
    for (const [what, attempt] of attempts) {
      await assert.rejects(attempt, (error: Error & { code?: string }) => {
        assert.equal(error.code, 'EDGE_UNREACHABLE', `${what}: ${error.message}`);
        assert.ok(
          error.message.endsWith(`check that outbound connections on port ${dead} are allowed from this machine`),
          `${what}: ${error.message}`,
        );
        return true;
      });
    }
  } finally {
    await connector.stop(0);
  }
});
