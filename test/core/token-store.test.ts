import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  accountFor,
  createTokenStore,
  defaultTokenFile,
  describeTokenBackend,
  REMEMBER_MS,
  tokenExpiry,
  type TokenEncryption,
} from '../../src/core/token-store.js';

const EDGE = 'https://edge.test:443';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT-shaped token; the store never verifies signatures, only reads exp. */
const jwt = (expMs: number) => `${b64({ alg: 'ES256' })}.${b64({ exp: Math.floor(expMs / 1000), sub: 'u' })}.c2ln`;

/** An encrypt/decrypt pair as Electron's safeStorage gives one: AES-256-GCM under a key held elsewhere. */
function testEncryption(key = randomBytes(32)): TokenEncryption {
  return {
    label: 'test key',
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt(data) {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

/** Runs fn with no Secret Service reachable, so that 'auto' must fall back to a file. */
async function withoutKeychain<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
  process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(dir, 'no-such-bus')}`;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-tokens-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('token store: helpers', () => {
  test('accounts are EDGE|AUD', () => {
    assert.equal(accountFor(EDGE, 'aud-1'), 'https://edge.test:443|aud-1');
    assert.throws(() => accountFor(EDGE, 'a|b'), /cannot store/);
  });

  test('tokenExpiry reads exp without verifying, and refuses non-JWTs', () => {
    assert.equal(tokenExpiry(jwt(2_000_000_000_000)), 2_000_000_000_000);
    assert.equal(tokenExpiry('not-a-jwt'), undefined);
    assert.equal(tokenExpiry(`${b64({})}.${b64({ exp: 'soon' })}.x`), undefined);
  });

  test('default file follows XDG_CONFIG_HOME', () => {
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = '/x/config';
    try {
      assert.equal(defaultTokenFile(), '/x/config/airlock/tokens.json');
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});

describe('token store: file fallback', () => {
  test('stores tokens in a 0600 file inside a 0700 dir', async () => {
    const file = join(dir, 'airlock', 'tokens.json');
    const store = createTokenStore({ backend: 'file', file });
    const token = jwt(Date.now() + 3_600_000);
    await store.set(EDGE, 'aud-1', token);
    assert.equal(await store.get(EDGE, 'aud-1'), token);
    assert.equal(await store.backend(), 'file');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'airlock'))).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')).tokens, { [`${EDGE}|aud-1`]: token });
  });

  test('a second store (next process) reuses the token', async () => {
    const file = join(dir, 'tokens.json');
    const token = jwt(Date.now() + 3_600_000);
    await createTokenStore({ backend: 'file', file }).set(EDGE, 'aud-1', token);
    assert.equal(await createTokenStore({ backend: 'file', file }).get(EDGE, 'aud-1'), token);
  });

  test('a token within 60 s of exp is not reused, and is dropped', async () => {
    const file = join(dir, 'tokens.json');
    const store = createTokenStore({ backend: 'file', file });
    await store.set(EDGE, 'aud-1', jwt(Date.now() + 59_000));
    await store.set(EDGE, 'aud-2', jwt(Date.now() + 61_000));
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
    assert.ok(await store.get(EDGE, 'aud-2'));
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8')).tokens), [`${EDGE}|aud-2`]);
  });

  test('a stored value that is not a JWT is not reused', async () => {
    const store = createTokenStore({ backend: 'file', file: join(dir, 'tokens.json') });
    await store.set(EDGE, 'aud-1', 'garbage');
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
  });

  test('tokens are per edge and per aud; delete and clear', async () => {
    const store = createTokenStore({ backend: 'file', file: join(dir, 'tokens.json') });
    const token = jwt(Date.now() + 3_600_000);
    await store.set(EDGE, 'aud-1', token);
    await store.set(EDGE, 'aud-2', token);
    await store.set('https://other.test:443', 'aud-1', token);
    assert.equal(await store.get('https://other.test:443', 'aud-2'), undefined);
    await store.delete(EDGE, 'aud-1');
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
    await store.clear(EDGE);
    assert.equal(await store.get(EDGE, 'aud-2'), undefined);
    assert.equal(await store.get('https://other.test:443', 'aud-1'), token);
    await store.clear();
    assert.equal(await store.get('https://other.test:443', 'aud-1'), undefined);
  });

  test('a token read is served from memory for a burst of tunnels, then read again (a logout elsewhere is seen)', async () => {
    const file = join(dir, 'tokens.json');
    const token = jwt(Date.now() + 3_600_000);
    await createTokenStore({ backend: 'file', file }).set(EDGE, 'aud-1', token);
    let clock = Date.now();
    const store = createTokenStore({ backend: 'file', file, now: () => clock });
    assert.equal(await store.get(EDGE, 'aud-1'), token);
    await rm(file); // another process signed out: only memory can answer now
    assert.equal(await store.get(EDGE, 'aud-1'), token);
    clock += REMEMBER_MS + 1;
    assert.equal(await store.get(EDGE, 'aud-1'), undefined, 'after REMEMBER_MS the backend is asked again');
    const renewed = jwt(Date.now() + 7_200_000);
    await store.set(EDGE, 'aud-1', renewed);
    await rm(file);
    assert.equal(await store.get(EDGE, 'aud-1'), renewed, 'set() is remembered too');
    clock += 60_000 + 3_600_000 - REMEMBER_MS; // inside the memory window again? no: past exp - margin
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
  });

  test('a read under way when the token is deleted does not bring it back', async () => {
    const file = join(dir, 'tokens.json');
    const store = createTokenStore({ backend: 'file', file });
    await store.set(EDGE, 'aud-1', jwt(Date.now() + 3_600_000));
    const other = createTokenStore({ backend: 'file', file }); // its memory is empty: it reads the file
    const reading = other.get(EDGE, 'aud-1');
    const deleting = other.delete(EDGE, 'aud-1');
    await Promise.all([reading, deleting]);
    assert.equal(await other.get(EDGE, 'aud-1'), undefined);
  });

  test('a corrupt file costs a sign-in, not a crash', async () => {
    const file = join(dir, 'tokens.json');
    await writeFile(file, '{corrupt');
    const store = createTokenStore({ backend: 'file', file });
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
    await store.set(EDGE, 'aud-1', jwt(Date.now() + 3_600_000));
    assert.ok(await store.get(EDGE, 'aud-1'));
  });

  test('auto falls back to the file and warns exactly once when no Secret Service is reachable', async () => {
    const saved = process.env.DBUS_SESSION_BUS_ADDRESS;
    process.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${join(dir, 'no-such-bus')}`;
    const warnings: string[] = [];
    try {
      const file = join(dir, 'tokens.json');
      const store = createTokenStore({
        file,
        service: `airlock-test-${randomUUID()}`,
        warn: (message) => warnings.push(message),
      });
      await store.set(EDGE, 'aud-1', jwt(Date.now() + 3_600_000));
      assert.ok(await store.get(EDGE, 'aud-1'));
      await store.delete(EDGE, 'aud-1');
      assert.equal(await store.backend(), 'file');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /keychain is not reachable.*tokens\.json/);
    } finally {
      if (saved === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
      else process.env.DBUS_SESSION_BUS_ADDRESS = saved;
    }
  });
});

describe('token store: encrypted file (the desktop app without a usable keychain)', () => {
  test('auto falls back to the encrypted file: 0600, no token in clear on disk, read back with the same key', async () => {
    const encryption = testEncryption();
    const file = join(dir, 'airlock', 'tokens.json');
    const warnings: string[] = [];
    const token = jwt(Date.now() + 3_600_000);
    await withoutKeychain(async () => {
      const store = createTokenStore({
        file,
        encryption,
        service: `airlock-test-${randomUUID()}`,
        warn: (message) => warnings.push(message),
      });
      await store.set(EDGE, 'aud-1', token);
      assert.equal(await store.backend(), 'encrypted-file');
    });
    const encrypted = join(dir, 'airlock', 'tokens.enc');
    assert.equal((await stat(encrypted)).mode & 0o777, 0o600);
    const onDisk = await readFile(encrypted);
    assert.ok(
      !onDisk.includes(token) && !onDisk.includes(token.split('.')[1]!),
      'the token is not in the file in clear',
    );
    await assert.rejects(stat(file), /ENOENT/, 'the plain file is not written');
    assert.equal(await createTokenStore({ backend: 'encrypted-file', file, encryption }).get(EDGE, 'aud-1'), token);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /keychain is not reachable.*encrypted \(test key\) in .*tokens\.enc/);
  });

  test('a file encrypted with another key costs a sign-in, not a crash, and is replaced on the next sign-in', async () => {
    const encryptedFile = join(dir, 'tokens.enc');
    await createTokenStore({ backend: 'encrypted-file', encryptedFile, encryption: testEncryption() }).set(
      EDGE,
      'aud-1',
      jwt(Date.now() + 3_600_000),
    );
    const store = createTokenStore({ backend: 'encrypted-file', encryptedFile, encryption: testEncryption() });
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
    const token = jwt(Date.now() + 3_600_000);
    await store.set(EDGE, 'aud-2', token);
    assert.equal(
      await createTokenStore({ backend: 'encrypted-file', encryptedFile, encryption: testEncryption() }).get(
        EDGE,
        'aud-2',
      ),
      undefined,
    );
    assert.equal(await store.get(EDGE, 'aud-2'), token);
  });

  test('a truncated encrypted file costs a sign-in, not a crash', async () => {
    const encryptedFile = join(dir, 'tokens.enc');
    await writeFile(encryptedFile, Buffer.from([1, 2, 3]));
    const store = createTokenStore({ backend: 'encrypted-file', encryptedFile, encryption: testEncryption() });
    assert.equal(await store.get(EDGE, 'aud-1'), undefined);
  });

  test('asking for the encrypted file without an encryption is refused', async () => {
    await assert.rejects(
      createTokenStore({ backend: 'encrypted-file', file: join(dir, 'tokens.json') }).get(EDGE, 'aud-1'),
      (error: Error & { code?: string }) => error.code === 'BAD_ARGUMENT',
    );
  });
});

describe('token store: describe() says which store is in use', () => {
  test('the plain file, with its path', async () => {
    const file = join(dir, 'tokens.json');
    assert.deepEqual(await createTokenStore({ backend: 'file', file }).describe(), {
      kind: 'file',
      detail: `a plain file readable only by you (mode 0600), ${file}`,
    });
  });

  test('the encrypted file, with its path and what keeps the key', async () => {
    const file = join(dir, 'tokens.json');
    const description = await createTokenStore({
      backend: 'encrypted-file',
      file,
      encryption: testEncryption(),
    }).describe();
    assert.deepEqual(description, {
      kind: 'encrypted-file',
      detail: `an encrypted file readable only by you, ${join(dir, 'tokens.enc')} (test key)`,
    });
  });

  test('auto without a keychain describes the fallback it chose', async () => {
    const file = join(dir, 'tokens.json');
    const description = await withoutKeychain(() =>
      createTokenStore({ file, service: `airlock-test-${randomUUID()}` }).describe(),
    );
    assert.equal(description.kind, 'file');
  });

  test('the keychain, named as each system calls it', () => {
    assert.equal(
      describeTokenBackend('keychain', 'airlock', { platform: 'linux' }).detail,
      'the OS keychain (Secret Service: GNOME Keyring, KWallet), service "airlock"',
    );
    assert.equal(
      describeTokenBackend('keychain', 'airlock', { platform: 'darwin' }).detail,
      'the OS keychain (macOS Keychain), service "airlock"',
    );
    assert.equal(
      describeTokenBackend('keychain', 'airlock', { platform: 'win32' }).detail,
      'the OS keychain (Windows Credential Manager), service "airlock"',
    );
  });
});

// Last: once keytar has reached a Secret Service, it keeps that connection for the whole process,
// and the tests above that hide the bus would find the keychain after all.
describe('token store: OS keychain (keytar + Secret Service)', () => {
  test('stores, reuses and deletes a token in the keychain', async (t) => {
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
      t.skip('no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset); run under scripts/with-keyring.sh');
      return;
    }
    // keytar is optional: it is absent where its native build failed (no libsecret headers).
    const keytarModule: string = 'keytar';
    const keytar = await import(keytarModule).then(
      (module: { default: { getPassword(service: string, account: string): Promise<string | null> } }) =>
        module.default,
      () => undefined,
    );
    if (!keytar) {
      t.skip('keytar is not installed (its native build needs libsecret-1-dev)');
      return;
    }
    const service = `airlock-test-${randomUUID()}`;
    const file = join(dir, 'must-not-exist.json');
    const warnings: string[] = [];
    const store = createTokenStore({ backend: 'keychain', service, file, warn: (message) => warnings.push(message) });
    const token = jwt(Date.now() + 3_600_000);
    await store.set(EDGE, 'aud-1', token);
    assert.equal(await store.backend(), 'keychain');
    assert.deepEqual(await store.describe(), describeTokenBackend('keychain', service, { platform: process.platform }));
    assert.equal(
      await createTokenStore({ backend: 'keychain', service }).get(EDGE, 'aud-1'),
      token,
      'visible to the next process',
    );
    assert.equal(await keytar.getPassword(service, `${EDGE}|aud-1`), token, 'stored under service/EDGE|AUD');
    await store.set(EDGE, 'aud-2', jwt(Date.now() + 30_000));
    assert.equal(await store.get(EDGE, 'aud-2'), undefined, 'near-expiry token not reused');
    await store.clear(EDGE);
    assert.equal(await keytar.getPassword(service, `${EDGE}|aud-1`), null);
    assert.deepEqual(warnings, []);
    await assert.rejects(stat(file), /ENOENT/, 'no file fallback was written');
  });
});
