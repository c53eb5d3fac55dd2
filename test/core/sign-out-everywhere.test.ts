// Sign out everywhere: each stored session is revoked at the edge that issued it (two real sign-in
// servers), once per session however many app tokens share it, and every token is forgotten.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRig, type Rig } from '../helpers/sso-rig.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';
import { createTokenStore } from '../../src/core/token-store.js';
import { sessionsByEdge, signOutEverywhere } from '../../src/core/sign-out-everywhere.js';
import { dialByName } from '../../src/core/edge-http.js';

let rigs: Rig[] = [];

before(async () => {
  rigs = [await startRig(), await startRig()];
});
after(async () => {
  for (const rig of rigs) await rig.close();
});

const mint = (rig: Rig, aud: string, sessionId?: string) =>
  issueAppToken({
    keys: rig.keys,
    issuer: rig.edgeOrigin,
    aud,
    sub: 'ada',
    email: 'ada@example.com',
    groups: ['eng'],
    sessionMs: 600_000,
    ...(sessionId ? { sessionId } : {}),
  });

test('revokes every stored session at its own edge and forgets every token', async () => {
  const store = createTokenStore({
    backend: 'file',
    file: join(mkdtempSync(join(tmpdir(), 'airlock-all-')), 't.json'),
  });
  const first = await mint(rigs[0]!, 'aud-redis');
  // Two apps of the first edge signed in with one session: one sign-out request for both.
  const sameSession = await mint(rigs[0]!, 'aud-open', first.sessionId);
  const second = await mint(rigs[1]!, 'aud-open');
  await store.set(rigs[0]!.edgeOrigin, 'aud-redis', first.token);
  await store.set(rigs[0]!.edgeOrigin, 'aud-open', sameSession.token);
  await store.set(rigs[1]!.edgeOrigin, 'aud-open', second.token);
  const cas = new Map(rigs.map((rig) => [rig.edgeOrigin, rig.ca]));
  const results = await signOutEverywhere({ store, dialFor: (edge) => dialByName(cas.get(edge)) });
  assert.deepEqual(
    results.sort((a, b) => a.edge.localeCompare(b.edge)),
    rigs.map((rig) => ({ edge: rig.edgeOrigin, revoked: 1 })).sort((a, b) => a.edge.localeCompare(b.edge)),
  );
  assert.equal(rigs[0]!.revoked.has(first.sessionId), true);
  assert.equal(rigs[1]!.revoked.has(second.sessionId), true);
  assert.deepEqual(await store.tokens(), []);
});

test('an unreachable edge is reported, and its tokens are forgotten all the same', async () => {
  const store = createTokenStore({
    backend: 'file',
    file: join(mkdtempSync(join(tmpdir(), 'airlock-all-')), 't.json'),
  });
  const token = await mint(rigs[0]!, 'aud-redis');
  await store.set(rigs[0]!.edgeOrigin, 'aud-redis', token.token);
  // No CA for it: the TLS check fails, as for an edge that cannot be reached.
  const [result] = await signOutEverywhere({ store, dialFor: () => dialByName() });
  assert.equal(result?.revoked, 0);
  assert.ok(result?.error, 'the failure is reported');
  assert.equal(rigs[0]!.revoked.has(token.sessionId), false);
  assert.deepEqual(await store.tokens(), []);
});

test('expired tokens and tokens without a session are skipped', async () => {
  const live = await mint(rigs[0]!, 'aud-redis');
  const expired = await issueAppToken({
    keys: rigs[0]!.keys,
    issuer: rigs[0]!.edgeOrigin,
    aud: 'aud-redis',
    sub: 'ada',
    email: 'ada@example.com',
    groups: [],
    sessionMs: 1_000,
    now: new Date(Date.now() - 60_000),
  });
  assert.deepEqual(
    [...sessionsByEdge([live.token, expired.token, 'not.a.token'])],
    [[rigs[0]!.edgeOrigin, [live.token]]],
  );
});
