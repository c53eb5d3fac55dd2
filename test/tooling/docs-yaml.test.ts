// Every YAML block in docs/ is loaded by the loader it is written for (edge.yaml, connector.yaml,
// the development IdP's users file), so an example cannot drift from what the code accepts. A
// block that only shows a shape (placeholders such as RULE) is named below, with why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { parseEdgeConfig } from '../../src/edge/config/config.js';
import { schema as edgeSchema } from '../../src/edge/config/config-schema.js';
import { loadConnectorConfig } from '../../src/connector/config.js';
import { parseUsers } from '../../src/idp/users.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = join(ROOT, 'docs');

/** Blocks that show a shape, not a file: first line → why no loader can take it. */
const SHAPES: Record<string, string> = {
  'policy:': 'the rule grammar, with RULE placeholders',
};

interface Block {
  where: string;
  text: string;
}

function yamlBlocks(): Block[] {
  const files = (readdirSync(DOCS, { recursive: true }) as string[]).filter((name) => name.endsWith('.md'));
  return files.flatMap((name) => {
    const text = readFileSync(join(DOCS, name), 'utf8');
    return [...text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)].map((match) => ({
      where: `${relative(ROOT, join(DOCS, name))}:${text.slice(0, match.index).split('\n').length}`,
      text: match[1]!,
    }));
  });
}

/** ${NAME} in the docs stands for a value from the environment: give each a plausible one. */
function withEnvironment<T>(text: string, run: () => T): T {
  const names = [...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((match) => match[1]!);
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names)
    process.env[name] = /PG_URL/.test(name) ? 'postgres://airlock@db.internal:5432/airlock' : 'a-secret-from-env';
  try {
    return run();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const edgeKeys = new Set(Object.keys(edgeSchema.shape));
const scratch = mkdtempSync(join(tmpdir(), 'airlock-docs-yaml-'));

function load(block: Block): string {
  const document = parseDocument(block.text, { uniqueKeys: true });
  assert.equal(document.errors.length, 0, `${block.where}: YAML syntax: ${document.errors[0]?.message}`);
  const keys = Object.keys((document.toJS() ?? {}) as Record<string, unknown>);
  if (keys.includes('users') || keys.includes('clients')) {
    parseUsers(block.text, block.where);
    return 'idp users file';
  }
  if (keys.includes('ingress')) {
    const file = join(scratch, 'connector.yaml');
    writeFileSync(file, block.text);
    try {
      loadConnectorConfig(file);
    } catch (error) {
      // The file it names is on the reader's machine, not here: everything before it was valid.
      if (!/cannot read tokenFile|tokenFile \S+: ENOENT/.test((error as Error).message)) throw error;
    }
    return 'connector.yaml';
  }
  const unknown = keys.filter((key) => !edgeKeys.has(key));
  assert.deepEqual(unknown, [], `${block.where}: no loader takes a block with ${unknown.join(', ')}`);
  // A part of edge.yaml (e.g. its idp:) is checked inside the smallest whole file.
  const whole = keys.includes('listen')
    ? block.text
    : `listen: 127.0.0.1:0\ntls: { cert: c.pem, key: k.pem }\n${block.text}`;
  withEnvironment(whole, () => parseEdgeConfig(whole, block.where));
  return keys.includes('listen') ? 'edge.yaml' : 'part of edge.yaml';
}

test('every YAML block in docs/ is accepted by its loader', (t) => {
  const blocks = yamlBlocks();
  assert.ok(blocks.length >= 10, `found ${blocks.length} blocks`);
  const failures: string[] = [];
  for (const block of blocks) {
    const first = block.text.split('\n')[0]!.trim();
    if (SHAPES[first]) {
      t.diagnostic(`${block.where}: a shape (${SHAPES[first]}), not loaded`);
      continue;
    }
    try {
      t.diagnostic(`${block.where}: ${load(block)}`);
    } catch (error) {
      failures.push(`${block.where}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('a block with a mistake is caught (the check is not passing by loading nothing)', () => {
  assert.throws(
    () => load({ where: 'bad', text: 'idp: { issuer: http://idp.example.com, clientId: x, clientSecret: y }\n' }),
    /https/,
  );
  assert.throws(() => load({ where: 'bad', text: 'state: { postgres: { url: ${AIRLOCK_PG_URL} } }\n' }), /YAML syntax/);
  assert.throws(() =>
    load({ where: 'bad', text: 'edge: https://a.example\ningress: [{ hostname: a.example, service: tcp://x }]\n' }),
  );
});
