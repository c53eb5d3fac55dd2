// App-token attacks through the real edge, beyond the verifier's own hostile tests in
// test/edge/app-token.test.ts (which cover alg none, HS256 with the public key, tampering, expiry,
// nbf, unknown kid, revocation, crit/jwk/x5c headers… at the function level). Here each token is
// presented on a real WebSocket upgrade: the edge answers the 302 of the wire contract, audits why,
// and a legitimate client is served right after.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { startChain, type Chain } from '../helpers/chain.js';
import { assertStillServes, credentials, rawConnect, statusOf, upgradeRequest } from '../helpers/hostile.js';
import { logFile, recordSecrets, waitUntil } from '../helpers/airlock-processes.js';
import { startOrigin, type Origin } from '../helpers/transfer.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { dialTunnel } from '../../src/core/tunnel-dial.js';
import { resolveEdgeTarget } from '../../src/core/edge-target.js';
import { HEADER } from '../../src/shared/constants.js';
import type { AirlockError } from '../../src/shared/errors.js';

const A = 'app-a.airlock.test';
const B = 'app-b.airlock.test';
const USERS = `      include: [{ everyone: true }, { serviceToken: ci-bot }]`;
const user = { sub: 'user-1', email: 'ada@example.com', groups: ['eng'] };
let chain: Chain;
let origin: Origin;
let auditFile: string;
let issuer: string;
let goodTokenA: string;

before(async () => {
  origin = await startOrigin();
  auditFile = logFile('audit-tokens').replace(/\.log$/, '.jsonl');
  chain = await startChain(
    [
      { hostname: A, service: `tcp://127.0.0.1:${origin.port}`, policy: USERS },
      { hostname: B, service: `tcp://127.0.0.1:${origin.port}`, policy: USERS },
    ],
    {
      extraYaml: `audit: { file: ${auditFile} }\n`,
      connector: {
        rules: [
          { hostname: A, service: `tcp://127.0.0.1:${origin.port}` },
          { hostname: B, service: `tcp://127.0.0.1:${origin.port}` },
          { service: 'http_status:404' },
        ],
      },
    },
  );
  issuer = new URL(chain.config.publicUrl).origin;
  goodTokenA = await tokenFor(A);
});
after(async () => {
  await chain.close();
  await origin.close();
});

function aud(hostname: string): string {
  return chain.config.apps.get(hostname)!.aud;
}

async function tokenFor(hostname: string, keys: SigningKeys = chain.edge.keys): Promise<string> {
  const { token } = await issueAppToken({ keys, issuer, aud: aud(hostname), ...user, sessionMs: 3_600_000 });
  recordSecrets(token);
  return token;
}

/** Signs header.payload with this edge's current key, exactly as given (for header games). */
async function signRaw(header: Record<string, unknown>, payload: string | Record<string, unknown>): Promise<string> {
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const token = await new CompactSign(bytes)
    .setProtectedHeader(header as never)
    .sign(chain.edge.keys.current().privateKey);
  recordSecrets(token);
  return token;
}

function claims(hostname = A): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: [aud(hostname)],
    sub: user.sub,
    email: user.email,
    groups: user.groups,
    sid: 'session-1',
    type: 'app',
    iat: now,
    nbf: now,
    exp: now + 3600,
  };
}

/** The token on a real upgrade: refused with the login 302, and the audit log says why. */
async function refusedOn(hostname: string, token: string, auditReason: RegExp): Promise<void> {
  const target = resolveEdgeTarget({ hostname, edge: chain.edgeUrl, caFile: chain.pki.ca });
  await assert.rejects(dialTunnel({ target, headers: { [HEADER.accessToken]: token } }), (error: AirlockError) => {
    assert.equal(error.code, 'AUTH_REQUIRED');
    assert.match(
      String(error.details.loginUrl),
      new RegExp(`/cdn-cgi/access/login/${hostname.replace(/\./g, '\\.')}\\?kid=${aud(hostname)}`),
    );
    return true;
  });
  await waitUntil(
    `audit: ${auditReason}`,
    () =>
      readFileSync(auditFile, 'utf8')
        .split('\n')
        .some((line) => line.includes(`"app":"${hostname}"`) && auditReason.test(line)),
    3000,
  );
  await stillServes();
}

async function stillServes(): Promise<void> {
  await assertStillServes(chain.edgeUrl, chain.pki.ca, A, { [HEADER.accessToken]: goodTokenA });
  await assertStillServes(chain.edgeUrl, chain.pki.ca, B, credentials());
}

test('control: a valid token for app A opens app A', async () => {
  await assertStillServes(chain.edgeUrl, chain.pki.ca, A, { [HEADER.accessToken]: goodTokenA });
});

test('refuses a token for app A presented on app B', async () => {
  await refusedOn(B, goodTokenA, /token is for another application/);
});

test('refuses a token for app A sent as the CF_Authorization cookie on app B', async () => {
  const target = resolveEdgeTarget({ hostname: B, edge: chain.edgeUrl, caFile: chain.pki.ca });
  await assert.rejects(
    dialTunnel({ target, headers: { cookie: `CF_Authorization=${goodTokenA}` } }),
    (error: AirlockError) => error.code === 'AUTH_REQUIRED',
  );
  await stillServes();
});

test("refuses a token signed by another edge's key", async () => {
  const other = await SigningKeys.open(join(mkdtempSync(join(tmpdir(), 'airlock-other-edge-')), 'keys'));
  await refusedOn(A, await tokenFor(A, other), /signed with a key this edge does not publish/);
});

test("refuses another edge's signature under this edge's kid", async () => {
  const other = await SigningKeys.open(join(mkdtempSync(join(tmpdir(), 'airlock-other-edge-')), 'keys'));
  const bytes = new TextEncoder().encode(JSON.stringify(claims()));
  const forged = await new CompactSign(bytes)
    .setProtectedHeader({ alg: 'ES256', kid: chain.edge.keys.current().kid, typ: 'JWT' })
    .sign(other.current().privateKey);
  recordSecrets(forged);
  await refusedOn(A, forged, /signature does not verify/);
});

test('refuses a kid that is a URL', async () => {
  await refusedOn(
    A,
    await signRaw({ alg: 'ES256', kid: 'https://attacker.example/key.pem', typ: 'JWT' }, claims()),
    /key id is missing or malformed/,
  );
});

test('refuses a token with a jku header', async () => {
  await refusedOn(
    A,
    await signRaw(
      { alg: 'ES256', kid: chain.edge.keys.current().kid, jku: 'https://attacker.example/jwks.json' },
      claims(),
    ),
    /header carries jku/,
  );
});

test('refuses a token with an x5u header', async () => {
  await refusedOn(
    A,
    await signRaw(
      { alg: 'ES256', kid: chain.edge.keys.current().kid, x5u: 'https://attacker.example/cert.pem' },
      claims(),
    ),
    /header carries x5u/,
  );
});

test('refuses a huge token (12 KB) before parsing it', async () => {
  const huge = `${await signRaw({ alg: 'ES256', kid: chain.edge.keys.current().kid }, { ...claims(), pad: 'p'.repeat(9000) })}`;
  assert.ok(huge.length > 12_000);
  await refusedOn(A, huge, /larger than 8192 bytes/);
});

test('refuses a token over the header limit (40 KB) with 431 at the HTTP layer', async () => {
  const raw = await rawConnect(chain.edge.port, readFileSync(chain.pki.ca));
  raw.socket.write(
    upgradeRequest(A, { [HEADER.accessToken]: `eyJ${'A'.repeat(40 * 1024)}` }, [HEADER.clientId, HEADER.clientSecret]),
  );
  await raw.waitFor((data) => statusOf(data) > 0);
  assert.equal(statusOf(raw.received()), 431);
  await stillServes();
});

test('refuses a validly signed token whose payload is not JSON', async () => {
  await refusedOn(
    A,
    await signRaw({ alg: 'ES256', kid: chain.edge.keys.current().kid }, 'this is not json'),
    /payload is not a JSON claims set|malformed/,
  );
});

test('refuses a token of a signed-out session (revocation list of the real edge)', async () => {
  const { token, sessionId } = await issueAppToken({
    keys: chain.edge.keys,
    issuer,
    aud: aud(A),
    ...user,
    sessionMs: 3_600_000,
  });
  recordSecrets(token);
  await assertStillServes(chain.edgeUrl, chain.pki.ca, A, { [HEADER.accessToken]: token });
  await chain.edge.revoked.revoke(sessionId, new Date(Date.now() + 3_600_000));
  await refusedOn(A, token, /signed out/);
});
