import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runIdpCommand } from '../../src/idp/command.js';
import type { RunningIdp } from '../../src/idp/provider.js';
import { verifyPassword } from '../../src/idp/users.js';
import { AirlockError } from '../../src/shared/errors.js';

let dir: string;
let usersFile: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-idp-cmd-'));
  usersFile = join(dir, 'users.yaml');
  await writeFile(usersFile, 'users:\n  - email: ada@example.com\n    password: dev\n    groups: [eng]\n', {
    mode: 0o600,
  });
});
after(() => rm(dir, { recursive: true, force: true }));

describe('airlock idp', () => {
  test('starts from flags, serves discovery, and stops on the stop signal', async () => {
    const lines: string[] = [];
    let stop!: () => void;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    let running!: RunningIdp;
    const secretFile = join(dir, 'client-secret');
    await writeFile(secretFile, 'sec\n', { mode: 0o600 });
    const ready = new Promise<void>((resolve) => {
      void runIdpCommand(
        [
          '--users',
          usersFile,
          '--port',
          '0',
          '--client-id',
          'edge',
          '--client-secret-file',
          secretFile,
          '--redirect-uri',
          'https://edge.test/cdn-cgi/access/callback',
        ],
        {
          print: (line) => lines.push(line),
          stopSignal,
          onReady: (idp) => {
            running = idp;
            resolve();
          },
        },
      ).then(() => lines.push('returned'));
    });
    await ready;
    const response = await fetch(`${running.issuer}/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    assert.match(lines[0]!, /issuer http:\/\/127\.0\.0\.1:\d+ \(1 user\); for development only/);
    stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(lines.slice(-2), ['airlock dev IdP stopped', 'returned']);
    await assert.rejects(fetch(`${running.issuer}/.well-known/openid-configuration`));
  });

  test('requires --users', async () => {
    await assert.rejects(
      runIdpCommand([], { print: () => {} }),
      (error: AirlockError) => error.code === 'BAD_ARGUMENT' && /--users FILE is required/.test(error.message),
    );
  });

  test('refuses an unknown flag with the usage', async () => {
    await assert.rejects(
      runIdpCommand(['--bogus'], { print: () => {} }),
      (error: AirlockError) => error.code === 'BAD_ARGUMENT' && /usage: airlock idp/.test(error.message),
    );
  });

  test('refuses a client without a redirect URI', async () => {
    await assert.rejects(
      runIdpCommand(['--users', usersFile, '--client-id', 'x', '--client-secret', 'y'], { print: () => {} }),
      /go together/,
    );
  });

  test('refuses to start without any client', async () => {
    await assert.rejects(
      runIdpCommand(['--users', usersFile, '--port', '0'], { print: () => {}, stopSignal: Promise.resolve() }),
      /at least one client/,
    );
  });

  test('--hash-password prints a hash of the password on stdin', async () => {
    const lines: string[] = [];
    await runIdpCommand(['--hash-password'], {
      print: (line) => lines.push(line),
      readStdin: async () => 'correct horse\n',
    });
    assert.equal(lines.length, 1);
    assert.equal(await verifyPassword(lines[0]!, 'correct horse'), true);
  });
});
