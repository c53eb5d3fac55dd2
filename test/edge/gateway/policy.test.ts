import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy } from '../../../src/edge/gateway/policy.js';
import type { Principal } from '../../../src/edge/gateway/identity.js';

const ada: Principal = { kind: 'user', email: 'Ada@Example.test', sub: 'ada', groups: ['eng', 'oncall'] };
const bot: Principal = { kind: 'service-token', id: 'ci-bot' };
const at = (principal: Principal, ip = '127.0.0.1') => ({ principal, ip });

test('include admits on any matching rule', () => {
  const policy = { include: [{ email: 'nobody@example.test' }, { group: 'eng' }], require: [], exclude: [] };
  assert.equal(evaluatePolicy(policy, at(ada)).allowed, true);
});

test('no matching include rule denies', () => {
  assert.deepEqual(evaluatePolicy({ include: [{ group: 'finance' }], require: [], exclude: [] }, at(ada)), {
    allowed: false,
    reason: 'matches no include rule',
  });
});

test('require needs every rule', () => {
  const policy = {
    include: [{ everyone: true as const }],
    require: [{ group: 'eng' }, { ip: '198.51.100.0/24' }],
    exclude: [],
  };
  const decision = evaluatePolicy(policy, at(ada, '127.0.0.1'));
  assert.equal(decision.allowed, false);
  assert.match(decision.reason, /require/);
  assert.equal(evaluatePolicy(policy, at(ada, '198.51.100.7')).allowed, true);
});

test('exclude wins over include', () => {
  const policy = { include: [{ everyone: true as const }], require: [], exclude: [{ group: 'oncall' }] };
  assert.equal(evaluatePolicy(policy, at(ada)).allowed, false);
});

test('email and emailDomain compare case-insensitively', () => {
  assert.equal(
    evaluatePolicy({ include: [{ email: 'ada@example.TEST' }], require: [], exclude: [] }, at(ada)).allowed,
    true,
  );
  assert.equal(
    evaluatePolicy({ include: [{ emailDomain: 'example.test' }], require: [], exclude: [] }, at(ada)).allowed,
    true,
  );
  assert.equal(
    evaluatePolicy({ include: [{ emailDomain: 'ample.test' }], require: [], exclude: [] }, at(ada)).allowed,
    false,
  );
});

test('everyone means every signed-in person, not a service token', () => {
  const policy = { include: [{ everyone: true as const }], require: [], exclude: [] };
  assert.equal(evaluatePolicy(policy, at(bot)).allowed, false);
});

test('service tokens match by id or "*", and never identity rules', () => {
  assert.equal(
    evaluatePolicy({ include: [{ serviceToken: 'ci-bot' }], require: [], exclude: [] }, at(bot)).allowed,
    true,
  );
  assert.equal(evaluatePolicy({ include: [{ serviceToken: '*' }], require: [], exclude: [] }, at(bot)).allowed, true);
  assert.equal(
    evaluatePolicy({ include: [{ serviceToken: 'other' }], require: [], exclude: [] }, at(bot)).allowed,
    false,
  );
  assert.equal(evaluatePolicy({ include: [{ group: 'eng' }], require: [], exclude: [] }, at(bot)).allowed, false);
});

test('ip rules match IPv4-mapped IPv6 addresses and IPv6 CIDRs', () => {
  assert.equal(
    evaluatePolicy({ include: [{ ip: '127.0.0.0/8' }], require: [], exclude: [] }, at(bot, '::ffff:127.0.0.5')).allowed,
    true,
  );
  assert.equal(
    evaluatePolicy({ include: [{ ip: '::1/128' }], require: [], exclude: [] }, at(bot, '::1')).allowed,
    true,
  );
  assert.equal(
    evaluatePolicy({ include: [{ ip: '127.0.0.1' }], require: [], exclude: [] }, at(bot, '127.0.0.2')).allowed,
    false,
  );
});
