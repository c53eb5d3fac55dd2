// One rule for every file that holds a secret: a regular file, owned by the current user (or root),
// no group or other bits; a FIFO is refused at once instead of hanging the reader. Checked through
// each reader: the CLI's --*-file flags, connector.yaml's tokenFile, the IdP's users file and the
// edge's TLS key (loaded by startEdge).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSecretFile } from '../../src/shared/secret-flags.js';
import { loadConnectorConfig } from '../../src/connector/config.js';
import { loadUsersFile } from '../../src/idp/users.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-secret-files-'));
let n = 0;
function secretFile(mode: number, text = 'a-secret\n'): string {
  const file = join(dir, `secret-${n++}`);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

const isRoot = process.getuid?.() === 0;
/** Some user that is neither us nor root, to own a file (only root can chown). */
const otherUid = 65534;

/** Each reader, given a path; resolves the error code, or 'read' when it accepted the file. */
const readers: Record<string, (file: string) => Promise<string>> = {
  '--token-file': async (file) => readSecretFile(file, '--token-file'),
  'connector.yaml tokenFile': async (file) => {
    const config = join(dir, `connector-${n++}.yaml`);
    writeFileSync(config, `edge: https://127.0.0.1:1\ntokenFile: ${file}\ningress:\n  - service: tcp://127.0.0.1:1\n`);
    loadConnectorConfig(config);
    return 'read';
  },
  'IdP users file': async (file) => {
    await loadUsersFile(file);
    return 'read';
  },
};

async function outcome(reader: (file: string) => Promise<string>, file: string): Promise<string> {
  try {
    await reader(file);
    return 'read';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

for (const [name, reader] of Object.entries(readers)) {
  test(`${name}: a file others can read is refused (SECRET_FILE_UNSAFE)`, async () => {
    assert.equal(await outcome(reader, secretFile(0o644)), 'SECRET_FILE_UNSAFE');
    assert.equal(await outcome(reader, secretFile(0o640)), 'SECRET_FILE_UNSAFE');
  });

  test(`${name}: a FIFO is refused at once, not read forever`, async () => {
    const fifo = join(dir, `fifo-${n++}`);
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const started = Date.now();
    const result = await Promise.race([
      outcome(reader, fifo),
      new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref()),
    ]);
    assert.equal(result, 'SECRET_FILE_UNSAFE', `refused in ${Date.now() - started} ms`);
  });

  test(`${name}: a 0600 file owned by another user is refused`, async (t) => {
    if (!isRoot) return t.skip('needs root to give a file to another user');
    const file = secretFile(0o600);
    chownSync(file, otherUid, otherUid);
    assert.equal(await outcome(reader, file), 'SECRET_FILE_UNSAFE');
  });
}

test('a 0600 file of the current user is read, by every reader', async () => {
  assert.equal(readSecretFile(secretFile(0o600), '--token-file'), 'a-secret');
  const connector = await outcome(readers['connector.yaml tokenFile']!, secretFile(0o600, 'x'.repeat(60)));
  assert.notEqual(connector, 'SECRET_FILE_UNSAFE', 'the connector config accepts a 0600 tokenFile');
  const users = secretFile(0o600, 'users:\n  - email: ada@example.com\n    password: pw\n    groups: []\n');
  assert.equal(await outcome(readers['IdP users file']!, users), 'read');
});
