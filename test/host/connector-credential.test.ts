import { CLOCK } from '../../src/shared/constants.js';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { RevocationList } from '../../src/edge/tokens/revocation-list.js';
import { issueAppToken, verifyAppToken } from '../../src/edge/tokens/app-token.js';
import { issueConnectorCredential, verifyConnectorCredential } from '../../src/edge/tunnels/connector-credential.js';

const EDGE = 'https://edge.airlock.test:8443';
const AUD = 'a'.repeat(32);
const WHO = { sub: 'ops@example.com', email: 'ops@example.com', groups: ['ops'] };
let keys: SigningKeys;
let revoked: RevocationList;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-credential-'));
  keys = await SigningKeys.open(join(dir, 'keys'));
  revoked = await RevocationList.open(join(dir, 'revoked.json'));
});
after(() => undefined);

test('an operator credential verifies as one, for this edge', async () => {
  const { token } = await issueConnectorCredential({ edgeOrigin: EDGE, keys }, WHO);
  const principal = await verifyConnectorCredential(token, { edgeOrigin: EDGE, keys, revoked });
  assert.equal(principal.email, 'ops@example.com');
});

test('an operator credential is never accepted as an app token', async () => {
  const { token } = await issueConnectorCredential({ edgeOrigin: EDGE, keys }, WHO);
  // Neither for an app's aud nor even when the aud is forced to the edge's own URL.
  await assert.rejects(verifyAppToken(token, { issuer: EDGE, aud: AUD, keys }), { code: 'TOKEN_INVALID' });
  await assert.rejects(
    verifyAppToken(token, { issuer: EDGE, aud: EDGE, keys }),
    (error: Error & { details: { reason: string } }) => error.details.reason === 'type',
  );
});

test('an app token is never accepted as an operator credential', async () => {
  const app = await issueAppToken({ keys, issuer: EDGE, aud: AUD, ...WHO, sessionMs: 60_000 });
  await assert.rejects(
    verifyConnectorCredential(app.token, { edgeOrigin: EDGE, keys }),
    /operator credential was refused .*airlock tunnel login --edge/,
  );
  // Same aud as a credential, still an app token: refused by type.
  const forged = await issueAppToken({ keys, issuer: EDGE, aud: EDGE, ...WHO, sessionMs: 60_000 });
  await assert.rejects(
    verifyConnectorCredential(forged.token, { edgeOrigin: EDGE, keys }),
    (error: Error & { details: { reason: string } }) => error.details.reason === 'type',
  );
});

test('an operator credential for another edge is refused', async () => {
  const { token } = await issueConnectorCredential({ edgeOrigin: 'https://other.airlock.test', keys }, WHO);
  await assert.rejects(verifyConnectorCredential(token, { edgeOrigin: EDGE, keys }), { code: 'TOKEN_INVALID' });
});

test('an expired operator credential says to log in again', async () => {
  const { token } = await issueConnectorCredential({ edgeOrigin: EDGE, keys }, WHO, 1000);
  await assert.rejects(
    // Expired by more than the clock tolerance every edge allows.
    verifyConnectorCredential(token, {
      edgeOrigin: EDGE,
      keys,
      now: new Date(Date.now() + 2000 + CLOCK.toleranceSeconds * 1000),
    }),
    (error: Error & { code: string }) => {
      assert.equal(error.code, 'TOKEN_EXPIRED');
      assert.match(error.message, /run `airlock tunnel login --edge https:\/\/edge\.airlock\.test:8443` again/);
      return true;
    },
  );
});

test('a revoked operator credential is refused', async () => {
  const issued = await issueConnectorCredential({ edgeOrigin: EDGE, keys }, WHO);
  await revoked.revoke(issued.sessionId, issued.expiresAt);
  await assert.rejects(verifyConnectorCredential(issued.token, { edgeOrigin: EDGE, keys, revoked }), {
    code: 'TOKEN_REVOKED',
  });
});
