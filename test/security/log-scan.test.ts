// No log or audit line contains a token or secret. scripts/run-tests.mjs runs this file
// last, over every log and audit file the whole suite wrote into AIRLOCK_TEST_LOG_DIR; it also runs
// its own workload first (real processes at debug level, right and wrong credentials), so it proves
// something when run alone too. Secrets handed out anywhere in the suite are listed in secrets-*.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { processChain, waitForConnections } from '../helpers/process-chain.js';
import { recordSecrets, spawnAirlock, stopProcess, suiteLogDir } from '../helpers/airlock-processes.js';
import { echoRoundTrip, startOrigin } from '../helpers/transfer.js';
import { parseEdgeConfig } from '../../src/edge/config/config.js';
import { issueAppToken } from '../../src/edge/tokens/app-token.js';
import { SigningKeys } from '../../src/edge/tokens/signing-keys.js';
import { encodeTunnelToken, newSecret } from '../../src/shared/secrets.js';
import { HEADER } from '../../src/shared/constants.js';
import { TUNNEL } from '../helpers/chain.js';

/** Shapes of credentials, whoever they belong to. */
const SHAPES: [string, RegExp][] = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/],
  ['a Bearer credential', /Bearer [A-Za-z0-9._~+/-]{16,}/i],
  [
    'a secret-named field with a value',
    /"(secret|clientSecret|password|token|authorization|cf-access-client-secret|cf-access-token)"\s*:\s*"(?!\[redacted\])[^"]{6,}"/i,
  ],
];

function head(port: number, ca: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        method: 'HEAD',
        host: '127.0.0.1',
        port,
        path: '/',
        ca,
        agent: false,
        headers: { host: 'scan.airlock.test', ...headers },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

test('no log or audit line written by the suite contains a token or a secret', async (t) => {
  // Workload: every credential path at debug level, through real processes.
  const origin = await startOrigin();
  const chain = await processChain([
    {
      hostname: 'scan.airlock.test',
      service: `tcp://127.0.0.1:${origin.port}`,
      policy: '      include: [{ everyone: true }, { serviceToken: ci-bot }]',
    },
  ]);
  const edge = await chain.startEdge();
  const connector = await chain.startConnector({ connections: 2 });
  const config = parseEdgeConfig(readFileSync(chain.configFile, 'utf8'), chain.configFile);
  const keys = await SigningKeys.open(join(config.stateDir, 'keys'));
  const { token } = await issueAppToken({
    keys,
    issuer: chain.edgeUrl,
    aud: config.apps.get('scan.airlock.test')!.aud,
    sub: 'u1',
    email: 'ada@example.com',
    groups: [],
    sessionMs: 3_600_000,
  });
  const wrongSecret = randomBytes(32).toString('base64url');
  const badTunnelSecret = newSecret();
  recordSecrets(token, wrongSecret, badTunnelSecret, encodeTunnelToken(TUNNEL.id, badTunnelSecret));
  await waitForConnections(chain, 2);
  const byToken = await chain.startAccess('scan.airlock.test', { appToken: token });
  const byServiceToken = await chain.startAccess('scan.airlock.test');
  for (const port of [byToken.port, byServiceToken.port]) {
    const echo = await echoRoundTrip(port);
    assert.equal(echo.received, echo.sent);
  }
  assert.equal(
    await head(chain.port, chain.ca, { [HEADER.clientId]: 'ci-bot', [HEADER.clientSecret]: wrongSecret }),
    302,
  );
  assert.equal(await head(chain.port, chain.ca, { [HEADER.accessToken]: `${token}x` }), 302);
  const rogue = spawnAirlock(
    'connector-bad-token',
    ['tunnel', 'run', '--edge', chain.edgeUrl, '--url', 'tcp://127.0.0.1:1', '--ca', chain.pki.ca],
    {
      AIRLOCK_TUNNEL_TOKEN: encodeTunnelToken(TUNNEL.id, badTunnelSecret),
    },
  );
  assert.equal((await rogue.exited).code, 1);
  for (const proc of [byToken.proc, byServiceToken.proc, connector, edge]) await stopProcess(proc);
  await origin.close();

  // Scan everything in the log directory.
  const dir = suiteLogDir();
  const files = readdirSync(dir);
  const secrets = new Set<string>();
  for (const file of files.filter((name) => name.startsWith('secrets-'))) {
    for (const secret of JSON.parse(readFileSync(join(dir, file), 'utf8')) as string[])
      if (secret.length >= 8) secrets.add(secret);
  }
  const logs = files.filter((name) => !name.startsWith('secrets-') && /\.(log|jsonl)$/.test(name));
  let lines = 0;
  const leaks: string[] = [];
  for (const file of logs) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      lines++;
      for (const secret of secrets)
        if (line.includes(secret))
          leaks.push(`${file}: a recorded secret (${secret.slice(0, 4)}…): ${line.slice(0, 200)}`);
      for (const [what, shape] of SHAPES) if (shape.test(line)) leaks.push(`${file}: ${what}: ${line.slice(0, 200)}`);
    }
  }
  t.diagnostic(
    `scanned ${lines} lines in ${logs.length} log/audit files against ${secrets.size} recorded secrets and ${SHAPES.length} shapes`,
  );
  assert.ok(logs.length >= 6 && lines >= 20, 'the scan had real logs to read');
  assert.deepEqual(leaks, []);
});
