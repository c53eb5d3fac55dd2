import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { revokeAtEdge } from '../../src/core/edge-logout.js';
import { issueAppToken, verifyAppToken } from '../../src/edge/tokens/app-token.js';
import { startRig, type Rig } from '../helpers/sso-rig.js';

let rig: Rig;
before(async () => {
  rig = await startRig();
});
after(() => rig.close());

const issue = () =>
  issueAppToken({
    keys: rig.keys,
    issuer: rig.edgeOrigin,
    aud: 'aud-redis',
    sub: 'u',
    email: 'ada@example.com',
    groups: ['eng'],
    sessionMs: 3_600_000,
  });

describe('revokeAtEdge', () => {
  test('revokes a live session at the edge', async () => {
    const { token } = await issue();
    assert.equal(await revokeAtEdge({ edgeOrigin: rig.edgeOrigin, token, ca: rig.ca }), true);
    await assert.rejects(
      verifyAppToken(token, { issuer: rig.edgeOrigin, aud: 'aud-redis', keys: rig.keys, revoked: rig.revoked }),
      (error: { code: string }) => error.code === 'TOKEN_REVOKED',
    );
  });

  test('answers false for a session that is already revoked', async () => {
    const { token } = await issue();
    await revokeAtEdge({ edgeOrigin: rig.edgeOrigin, token, ca: rig.ca });
    assert.equal(await revokeAtEdge({ edgeOrigin: rig.edgeOrigin, token, ca: rig.ca }), false);
  });

  test('reports an unreachable edge as EDGE_UNREACHABLE', async () => {
    const { token } = await issue();
    await assert.rejects(
      revokeAtEdge({ edgeOrigin: 'https://127.0.0.1:9', token }),
      (error: { code: string }) => error.code === 'EDGE_UNREACHABLE',
    );
  });
});
