import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolve } from 'node:path';
import {
  deepLinkFor,
  deepLinkFromArgv,
  parseDeepLink,
  protocolClientArguments,
} from '../../src/app/service/deep-link.js';

const refused = (link: string, pattern: RegExp) =>
  assert.throws(
    () => parseDeepLink(link),
    (error: Error & { code?: string }) => error.code === 'BAD_ARGUMENT' && pattern.test(error.message),
  );

test('parses airlock://connect/NAME', () => {
  assert.deepEqual(parseDeepLink('airlock://connect/prod-db'), { action: 'connect', name: 'prod-db' });
});

test('decodes a percent-encoded name with a space and accepts a trailing slash', () => {
  assert.deepEqual(parseDeepLink('airlock://connect/my%20box/'), { action: 'connect', name: 'my box' });
});

test('parses disconnect and open', () => {
  assert.deepEqual(parseDeepLink('AIRLOCK://Disconnect/db'), { action: 'disconnect', name: 'db' });
  assert.deepEqual(parseDeepLink('airlock://open'), { action: 'open' });
});

test('round-trips deepLinkFor', () => {
  assert.deepEqual(parseDeepLink(deepLinkFor('connect', 'web 1.internal')), {
    action: 'connect',
    name: 'web 1.internal',
  });
});

test('rejects path traversal with ../', () =>
  refused('airlock://connect/../../etc/passwd', /exactly one resource name|path/));
test('rejects percent-encoded path traversal', () => refused('airlock://connect/..%2F..%2Fetc%2Fpasswd', /path/));
test('rejects a lone ..', () => refused('airlock://connect/..', /path/));
test('rejects an encoded backslash', () => refused('airlock://connect/a%5Cb', /path/));
test('rejects unknown actions', () => refused('airlock://exec/rm', /unknown action/));
test('rejects an action that only looks like connect', () => refused('airlock://connectx/db', /unknown action/));
test('rejects over-long names', () => refused(`airlock://connect/${'a'.repeat(65)}`, /longer than 64/));
test('rejects over-long links before parsing', () => refused(`airlock://connect/${'a'.repeat(600)}`, /too long/));
test('rejects raw control characters', () => refused('airlock://connect/db\nrm', /control characters/));
test('rejects encoded control characters', () => refused('airlock://connect/db%0Aevil', /control characters/));
test('rejects an encoded NUL', () => refused('airlock://connect/db%00', /control characters/));
test('rejects broken percent-encoding', () => refused('airlock://connect/%E0%A4%A', /percent-encoding/));
test('rejects another scheme', () => refused('https://connect/db', /does not start with airlock/));
test('rejects query strings and fragments', () => {
  refused('airlock://connect/db?port=22', /query/);
  refused('airlock://connect/db#x', /query/);
});
test('rejects a missing name', () => refused('airlock://connect/', /exactly one resource name/));
test('rejects extra path segments', () => refused('airlock://connect/db/extra', /exactly one resource name/));
test('rejects shell metacharacters in the name', () =>
  refused('airlock://connect/db%3Brm%20-rf', /characters a resource name cannot have/));
test('rejects a name starting with a dot', () =>
  refused('airlock://connect/.hidden', /characters a resource name cannot have/));

test('finds the link in a second instance argv', () => {
  assert.equal(deepLinkFromArgv(['/opt/Airlock/airlock', '--flag', 'airlock://connect/db']), 'airlock://connect/db');
  assert.equal(deepLinkFromArgv(['/opt/Airlock/airlock']), undefined);
});

test("run from source (npm start): the airlock:// handler is Electron with the app's absolute path", () => {
  const launched = {
    defaultApp: true,
    execPath: '/opt/electron/electron',
    argv: ['/opt/electron/electron', '.', '--hidden'],
  };
  assert.deepEqual(protocolClientArguments(launched), ['airlock', '/opt/electron/electron', [resolve('.')]]);
  assert.deepEqual(protocolClientArguments({ ...launched, argv: ['/opt/electron/electron', '/src/airlock'] }), [
    'airlock',
    '/opt/electron/electron',
    [resolve('/src/airlock')],
  ]);
});

test('a packaged app registers itself: the protocol alone', () => {
  assert.deepEqual(
    protocolClientArguments({ execPath: '/opt/Airlock/airlock', argv: ['/opt/Airlock/airlock', '--hidden'] }),
    ['airlock'],
  );
  assert.deepEqual(
    protocolClientArguments({ defaultApp: false, execPath: '/opt/Airlock/airlock', argv: ['/opt/Airlock/airlock'] }),
    ['airlock'],
  );
});
