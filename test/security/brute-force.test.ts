// Service-token secret brute force: after 10 failures a minute from one address the edge
// answers 429 (even to the right secret), audits every attempt, and other addresses are unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startChain, SERVICE_TOKEN } from '../helpers/chain.js';
import { assertStillServes } from '../helpers/hostile.js';
import { logFile, recordSecrets } from '../helpers/airlock-processes.js';
import { startOrigin } from '../helpers/transfer.js';
import { FailureThrottle } from '../../src/edge/gateway/failure-throttle.js';
import { HEADER } from '../../src/shared/constants.js';

const APP = 'bf.airlock.test';

function head(port: number, ca: Buffer, secret: string, localAddress = '127.0.0.1', id = SERVICE_TOKEN.id) {
  return new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
    const request = https.request(
      {
        method: 'HEAD',
        host: '127.0.0.1',
        port,
        path: '/',
        ca,
        servername: 'localhost',
        localAddress,
        agent: false,
        headers: { host: APP, [HEADER.clientId]: id, [HEADER.clientSecret]: secret },
      },
      (response) => {
        response.resume();
        resolve({
          status: response.statusCode ?? 0,
          ...(response.headers['retry-after'] ? { retryAfter: String(response.headers['retry-after']) } : {}),
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

test('answers 429 after 10 wrong service-token secrets a minute from one address, audits them, serves other addresses', async (t) => {
  const origin = await startOrigin();
  const auditFile = logFile('audit-bruteforce').replace(/\.log$/, '.jsonl');
  const chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` }], {
    extraYaml: `audit: { file: ${auditFile} }\n`,
  });
  t.after(async () => {
    await chain.close();
    await origin.close();
  });
  const ca = readFileSync(chain.pki.ca);
  const guesses = Array.from({ length: 10 }, () => randomBytes(32).toString('base64url'));
  recordSecrets(...guesses);

  for (const guess of guesses) assert.equal((await head(chain.edge.port, ca, guess)).status, 302);
  const limited = await head(chain.edge.port, ca, randomBytes(32).toString('base64url'));
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.retryAfter) > 0 && Number(limited.retryAfter) <= 60, `Retry-After ${limited.retryAfter}`);
  assert.equal(
    (await head(chain.edge.port, ca, SERVICE_TOKEN.secret)).status,
    429,
    'the right secret is refused too while limited',
  );
  assert.equal(
    (await head(chain.edge.port, ca, 'x', '127.0.0.1', 'another-id')).status,
    429,
    'switching ids does not help',
  );

  // Another address is not affected, through a real client.
  assert.equal((await head(chain.edge.port, ca, SERVICE_TOKEN.secret, '127.0.0.2')).status, 200);

  await chain.edge.close(500).catch(() => {}); // flush the audit log
  const records = readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { status: number; reason: string; ip: string });
  assert.equal(
    records.filter((r) => r.status === 302 && /secret does not match/.test(r.reason)).length,
    10,
    'every wrong secret is audited',
  );
  assert.equal(
    records.filter((r) => r.status === 429 && r.ip === '127.0.0.1').length,
    3,
    'every refused attempt is audited',
  );
  for (const guess of guesses)
    assert.equal(readFileSync(auditFile, 'utf8').includes(guess), false, 'no guessed secret in the audit log');
});

test('the legitimate client keeps working while another address is rate-limited', async (t) => {
  const origin = await startOrigin();
  const chain = await startChain([{ hostname: APP, service: `tcp://127.0.0.1:${origin.port}` }]);
  t.after(async () => {
    await chain.close();
    await origin.close();
  });
  const ca = readFileSync(chain.pki.ca);
  for (let i = 0; i < 11; i++) await head(chain.edge.port, ca, `wrong-${i}`, '127.0.0.2');
  assert.equal((await head(chain.edge.port, ca, 'wrong', '127.0.0.2')).status, 429);
  await assertStillServes(chain.edgeUrl, chain.pki.ca, APP);
});

test('FailureThrottle: the window slides and memory stays bounded', () => {
  let now = 0;
  const throttle = new FailureThrottle({ limit: 3, windowMs: 1000, maxAddresses: 2, now: () => now });
  throttle.fail('a');
  now = 400;
  throttle.fail('a');
  assert.equal(throttle.fail('a'), true);
  assert.equal(throttle.blockedFor('a'), 600);
  now = 1001;
  assert.equal(throttle.blockedFor('a'), 0, 'the oldest failure left the window');
  throttle.fail('b');
  throttle.fail('c');
  throttle.fail('d');
  assert.equal(throttle.blockedFor('a'), 0);
});
