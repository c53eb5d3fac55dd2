import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkIngressRules, resolveIngress } from '../../src/connector/ingress.js';
import { backoffDelay } from '../../src/connector/backoff.js';

const rules = [
  { hostname: 'db.example.test', service: 'tcp://127.0.0.1:5432' },
  { hostname: '*.cache.example.test', service: 'tcp://127.0.0.1:6379' },
  { service: 'http_status:404' },
];

test('a hostname and service that match a rule are allowed', () => {
  assert.deepEqual(resolveIngress(rules, 'db.example.test', '127.0.0.1:5432'), {
    allowed: true,
    origin: { host: '127.0.0.1', port: 5432 },
  });
  assert.equal(resolveIngress(rules, 'a.cache.example.test', '127.0.0.1:6379').allowed, true);
});

test('a service other than the rule names is refused', () => {
  const decision = resolveIngress(rules, 'db.example.test', '127.0.0.1:22');
  assert.equal(decision.allowed, false);
  assert.match((decision as { reason: string }).reason, /127\.0\.0\.1:22 is not in this connector's ingress rules/);
});

test('the catch-all refusal refuses unknown hostnames', () => {
  assert.equal(resolveIngress(rules, 'other.example.test', '127.0.0.1:5432').allowed, false);
  assert.equal(
    resolveIngress(rules, 'cache.example.test', '127.0.0.1:6379').allowed,
    false,
    'a wildcard needs a label',
  );
});

test('rule lists are checked: catch-all last, services well formed', () => {
  assert.deepEqual(checkIngressRules(rules), []);
  assert.match(
    checkIngressRules([{ hostname: 'a', service: 'tcp://127.0.0.1:1' }]).join(),
    /last rule must be a catch-all/,
  );
  assert.match(checkIngressRules([{ service: 'tcp://127.0.0.1:99999' }]).join(), /must be tcp:\/\/host:port/);
});

test('backoff grows exponentially, stays under the cap, and is jittered', () => {
  assert.equal(
    backoffDelay(0, 500, 30_000, () => 0),
    250,
  );
  assert.equal(
    backoffDelay(10, 500, 30_000, () => 1),
    30_000,
  );
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5, 500, 30_000)));
  assert.ok(spread.size > 10, 'delays differ between connectors');
});
