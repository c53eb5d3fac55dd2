// The window never shows CLI syntax (a flag, a command, a backtick): the engine's messages lose the
// clauses that tell a terminal user what to run, and error codes have plain advice for the window.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { dispatch } from '../../src/shared/contract/api.js';
import { ERROR_CATALOGUE, isErrorCode, plainAdvice } from '../../src/shared/contract/error-catalogue.js';
import { CLI_SYNTAX, withoutCliSyntax } from '../../src/shared/contract/plain-text.js';
import { AirlockError } from '../../src/shared/errors.js';

test('drops the clauses that name a flag or a command and keeps the fact', () => {
  assert.equal(
    withoutCliSyntax(
      '127.0.0.1:5433 is already in use by another program. Choose another local port (e.g. --url 127.0.0.1:5434), ' +
        'or find the program holding it with `lsof -i :5433`.',
    ),
    '127.0.0.1:5433 is already in use by another program. Choose another local port.',
  );
  assert.equal(
    withoutCliSyntax('sign-in timed out after 5 minutes; run `airlock access login db.example.com` to try again'),
    'sign-in timed out after 5 minutes',
  );
});

test('a message that is all command line becomes the fallback', () => {
  assert.equal(
    withoutCliSyntax(
      '--edge "x" is not a URL (expected e.g. https://edge.example.com)',
      'The edge address is not valid.',
    ),
    'The edge address is not valid.',
  );
});

test('plain messages pass unchanged, also with a double dash inside a name', () => {
  for (const message of [
    'cache: the edge answered and admits you (switch it on to use it)',
    'my--db: listening on 127.0.0.1:5433',
    'Sign-in tokens are stored in the OS keychain (Secret Service), service "airlock"',
  ]) {
    assert.equal(withoutCliSyntax(message), message);
    assert.equal(CLI_SYNTAX.test(message), false, message);
  }
});

test('every code the window can show has advice in plain words', () => {
  const codes = Object.keys(ERROR_CATALOGUE).filter(isErrorCode);
  assert.ok(codes.length > 40);
  const spoken = codes.filter((code) => CLI_SYNTAX.test(plainAdvice(code)!));
  assert.deepEqual(spoken, []);
  // The CLI keeps its own advice: the window's is another text, not the CLI's with words removed.
  assert.match(ERROR_CATALOGUE.PORT_IN_USE.action, /lsof/);
});

test('a busy port: the row, the log and the API answer say it without --url or lsof', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  const manager = new ResourceManager({ storage: new MemoryStorage() });
  try {
    const resource = await manager.addResource({
      name: 'ssh',
      hostname: 'ssh.example.com',
      localPort: port,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'ssh',
    });
    const status = await manager.connect({ id: resource.id });
    assert.equal(status.lastError?.code, 'PORT_IN_USE');
    assert.equal(
      status.lastError?.message,
      `127.0.0.1:${port} is already in use by another program. Choose another local port.`,
    );
    const logged = (await manager.getLogs({})).map((entry) => entry.message);
    assert.ok(
      logged.includes(`ssh: 127.0.0.1:${port} is already in use by another program. Choose another local port.`),
    );
    assert.deepEqual(
      logged.filter((line) => CLI_SYNTAX.test(line)),
      [],
    );
  } finally {
    await manager.close();
    holder.close();
  }
});

test("the API's error answers carry the window's words, the code unchanged", async () => {
  const service = {
    connect: async () => {
      throw new AirlockError(
        'LOGIN_TIMEOUT',
        'sign-in timed out after 5 minutes; run `airlock access login h` to try again',
      );
    },
    disconnect: async () => {
      throw new AirlockError('BAD_ARGUMENT', '--edge "x" is not a URL');
    },
  };
  const id = '00000000-0000-4000-8000-000000000000';
  assert.deepEqual(await dispatch(service as never, 'connect', { id }), {
    ok: false,
    error: { code: 'LOGIN_TIMEOUT', message: 'sign-in timed out after 5 minutes' },
  });
  assert.deepEqual(await dispatch(service as never, 'disconnect', { id }), {
    ok: false,
    error: { code: 'BAD_ARGUMENT', message: plainAdvice('BAD_ARGUMENT') },
  });
});
