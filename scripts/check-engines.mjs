#!/usr/bin/env node
// The lowest Node.js version that every installed package accepts (engines.node of each
// node_modules/**/package.json), the packages that set it, and those that refuse the running Node.
// package.json's engines and the README's set-up line state what this prints.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
let semver;
try {
  semver = require('semver');
} catch {
  console.error('check-engines: needs the semver package in node_modules (run npm ci first)');
  process.exit(1);
}
const root = new URL('..', import.meta.url).pathname;

/** Every package.json under node_modules, nested ones included, with its engines.node range. */
function* packages(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      yield* packages(path);
      continue;
    }
    try {
      const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
      const range = manifest.engines?.node;
      if (typeof range === 'string' && range.trim() && range.trim() !== '*')
        yield { name: manifest.name ?? entry.name, version: manifest.version, range, path };
    } catch {
      // a folder without a readable package.json is not a package
    }
    yield* packages(join(path, 'node_modules'));
  }
}

const found = [...packages(join(root, 'node_modules'))].filter((entry) => semver.validRange(entry.range));
// Candidates: each range's lowest version and each comparator's bound; the answer is the lowest
// candidate inside every range (a range like "^18.17 || >=20.5" rules out 20.0 to 20.4).
const candidates = new Set();
for (const { range } of found) {
  const lowest = semver.minVersion(range);
  if (lowest) candidates.add(lowest.version);
  for (const set of new semver.Range(range).set)
    for (const comparator of set) if (comparator.semver?.version) candidates.add(comparator.semver.version);
}
const sorted = [...candidates].filter((version) => semver.valid(version)).sort(semver.compare);
const minimum = sorted.find((version) => found.every((entry) => semver.satisfies(version, entry.range)));
const strictest = found
  .map((entry) => ({ ...entry, lowest: semver.minVersion(entry.range)?.version ?? '0.0.0' }))
  .sort((a, b) => semver.compare(b.lowest, a.lowest))
  .slice(0, 5);
const refusing = found.filter((entry) => !semver.satisfies(process.versions.node, entry.range));

console.log(`${found.length} installed packages state engines.node.`);
console.log(
  minimum
    ? `Lowest Node.js every one of them accepts: ${minimum}`
    : 'No single Node.js version satisfies every package.',
);
console.log('Strictest:');
for (const entry of strictest) console.log(`  ${entry.name}@${entry.version}: "${entry.range}"`);
if (refusing.length > 0) {
  console.log(`Refusing the running Node.js ${process.versions.node}:`);
  for (const entry of refusing)
    console.log(`  ${entry.name}@${entry.version}: "${entry.range}" (${entry.path.slice(root.length)})`);
}
