import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authenticate, hashPassword, parseUsers, verifyPassword, withHashedPasswords } from '../../src/idp/users.js';
import { AirlockError } from '../../src/shared/errors.js';

const yaml = `
users:
  - email: Ada@Example.com
    password: dev
    groups: [eng]
  - email: bob@example.com
    password: other
clients:
  - clientId: airlock-edge
    clientSecret: s3cret
    redirectUris: [https://edge.example.com/cdn-cgi/access/callback]
`;

describe('users.yaml', () => {
  test('parses users (emails lower-cased, groups default to []) and clients', () => {
    const { users, clients } = parseUsers(yaml);
    assert.deepEqual(
      users.map((user) => [user.email, user.groups]),
      [
        ['ada@example.com', ['eng']],
        ['bob@example.com', []],
      ],
    );
    assert.equal(clients[0]!.clientId, 'airlock-edge');
  });

  test('names the exact path of an invalid entry', () => {
    assert.throws(
      () => parseUsers('users:\n  - email: not-an-email\n    password: x\n', 'u.yaml'),
      (error: AirlockError) => {
        assert.equal(error.code, 'CONFIG_INVALID');
        assert.match(error.message, /^u\.yaml: users\.0\.email: must be an email address/);
        return true;
      },
    );
  });

  test('refuses a user listed twice', () => {
    assert.throws(
      () => parseUsers('users:\n  - {email: a@b.c, password: x}\n  - {email: A@b.c, password: y}\n'),
      /listed twice/,
    );
  });

  test('refuses invalid YAML', () => {
    assert.throws(() => parseUsers('users: [\n'), /not valid YAML/);
  });
});

describe('passwords', () => {
  test('scrypt hashes verify, and only with the right password', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
    assert.equal(await verifyPassword(hash, 'correct horse'), true);
    assert.equal(await verifyPassword(hash, 'Correct horse'), false);
  });

  test('plain dev passwords compare exactly', async () => {
    assert.equal(await verifyPassword('dev', 'dev'), true);
    assert.equal(await verifyPassword('dev', 'dev '), false);
  });

  test('plain dev passwords are hashed once at start and still verify; hashes are kept as they are', async () => {
    const hashed = await hashPassword('other');
    const { users } = parseUsers(yaml);
    const prepared = await withHashedPasswords([users[0]!, { ...users[1]!, password: hashed }]);
    assert.match(prepared[0]!.password, /^scrypt\$/);
    assert.notEqual(prepared[0]!.password, 'dev');
    assert.equal(prepared[1]!.password, hashed);
    assert.equal((await authenticate(prepared, 'ada@example.com', 'dev'))?.email, 'ada@example.com');
    assert.equal(await authenticate(prepared, 'ada@example.com', 'dev '), undefined);
    assert.equal((await authenticate(prepared, 'bob@example.com', 'other'))?.email, 'bob@example.com');
  });

  test('many hashes at once all finish, each right', async () => {
    // They queue for the two hash turns; a lost turn would leave some waiting for ever.
    const hash = await hashPassword('pw');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => verifyPassword(hash, i % 2 ? 'pw' : 'no')));
    assert.deepEqual(answers, [false, true, false, true, false, true, false, true]);
  });

  test('a malformed hash never verifies', async () => {
    assert.equal(await verifyPassword('scrypt$16384$8$1$', ''), false);
  });

  test('authenticate matches the email case-insensitively and refuses unknown users', async () => {
    const { users } = parseUsers(yaml);
    assert.equal((await authenticate(users, ' ADA@example.com', 'dev'))?.email, 'ada@example.com');
    assert.equal(await authenticate(users, 'ada@example.com', 'other'), undefined);
    assert.equal(await authenticate(users, 'eve@example.com', 'dev'), undefined);
  });
});
