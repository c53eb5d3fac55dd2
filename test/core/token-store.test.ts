import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { accountFor, createTokenStore, defaultTokenFile, REMEMBER_MS, tokenExpiry } from '../../src/core/token-store.js';

const EDGE = 'https://edge.test:443';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT-shaped token; the store never verifies signatures, only reads exp. */
const jwt = (expMs: number) => `${b64({ alg: 'ES256' })}.${b64({ exp: Math.floor(expMs / 1000), sub: 'u' })}.c2ln`;

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
      const store = createTokenStore({ file, service: `airlock-test-${randomUUID()}`, warn: (message) => warnings.push(message) });
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

describe('token store: OS keychain (keytar + Secret Service)', () => {
  test('stores, reuses and deletes a token in the keychain', async (t) => {
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
      t.skip('no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset); run under scripts/with-keyring.sh');
      return;
    }
    // keytar is optional: it is absent where its native build failed (no libsecret headers).
    const keytarModule: string = 'keytar';
    const keytar = await import(keytarModule).then((module: { default: { getPassword(service: string, account: string): Promise<string | null> } }) => module.default, () => undefined);
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
    assert.equal(await createTokenStore({ backend: 'keychain', service }).get(EDGE, 'aud-1'), token, 'visible to the next process');
    assert.equal(await keytar.getPassword(service, `${EDGE}|aud-1`), token, 'stored under service/EDGE|AUD');
    await store.set(EDGE, 'aud-2', jwt(Date.now() + 30_000));
    assert.equal(await store.get(EDGE, 'aud-2'), undefined, 'near-expiry token not reused');
    await store.clear(EDGE);
    assert.equal(await keytar.getPassword(service, `${EDGE}|aud-1`), null);
    assert.deepEqual(warnings, []);
    await assert.rejects(stat(file), /ENOENT/, 'no file fallback was written');
  });
});
