import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  errorAction,
  mergeOutcome,
  resourceState,
  shouldRecheck,
  type CheckOutcome,
} from '../../src/app/service/resource-state.js';
import { isGreen, isSwitchedOn } from '../../src/shared/contract/status.js';

const ok: CheckOutcome = { ok: true, at: 't1' };
const down: CheckOutcome = { ok: false, code: 'EDGE_UNREACHABLE', message: 'cannot reach the edge', at: 't0' };
const offline: CheckOutcome = { ok: false, code: 'NO_CONNECTOR', message: 'the service is offline', at: 't0' };

test('off, listening, signing in, ready, in use, error: each from its facts', () => {
  assert.equal(resourceState({ on: false, activeConnections: 0, signingIn: false }), 'off');
  assert.equal(
    resourceState({ on: false, startFailure: { code: 'PORT_IN_USE' }, activeConnections: 0, signingIn: false }),
    'error',
  );
  assert.equal(
    resourceState({ on: true, activeConnections: 0, signingIn: false }),
    'listening',
    'open, the edge not asked yet',
  );
  assert.equal(resourceState({ on: true, activeConnections: 0, signingIn: true }), 'signing-in');
  assert.equal(
    resourceState({ on: true, activeConnections: 2, check: ok, signingIn: true }),
    'signing-in',
    'the user must act, even with connections open',
  );
  assert.equal(resourceState({ on: true, activeConnections: 0, check: ok, signingIn: false }), 'ready');
  assert.equal(resourceState({ on: true, activeConnections: 1, check: ok, signingIn: false }), 'in-use');
  assert.equal(resourceState({ on: true, activeConnections: 1, check: down, signingIn: false }), 'error');
});

test('reconnecting while any open stream waits to resume, even when the last check failed; not green', () => {
  const facts = { on: true, activeConnections: 3, reconnectingConnections: 1, signingIn: false };
  assert.equal(resourceState({ ...facts, check: ok }), 'reconnecting');
  assert.equal(resourceState({ ...facts, check: down }), 'reconnecting', 'the stream is alive, waiting for the edge');
  assert.equal(resourceState({ ...facts, check: ok, signingIn: true }), 'signing-in', 'the user must act first');
  assert.equal(resourceState({ ...facts, reconnectingConnections: 0, check: ok }), 'in-use', 'resumed');
  assert.equal(isGreen('reconnecting'), false);
});

test('green means ready or in use, nothing else; the switch is on while the listener is open', () => {
  assert.deepEqual((['off', 'listening', 'signing-in', 'ready', 'in-use', 'error'] as const).filter(isGreen), [
    'ready',
    'in-use',
  ]);
  assert.equal(isSwitchedOn({ state: 'error' }), false, 'a listener that never opened');
  assert.equal(isSwitchedOn({ state: 'error', localAddress: '127.0.0.1:1' }), true, 'open, the edge failing');
  assert.equal(isSwitchedOn({ state: 'signing-in', localAddress: '127.0.0.1:1' }), true);
});

test('an automatic re-check clears what the preflight can see, never what only a tunnel shows', () => {
  assert.deepEqual(mergeOutcome(down, ok, 'recheck'), ok);
  assert.deepEqual(
    mergeOutcome(offline, ok, 'recheck'),
    offline,
    'a passing preflight says nothing about the connector',
  );
  assert.deepEqual(mergeOutcome(offline, ok, 'tunnel'), ok, 'a tunnel that opened does');
  assert.deepEqual(mergeOutcome(offline, ok, 'user'), ok);
  assert.deepEqual(mergeOutcome(ok, down, 'recheck'), down, 'a failure always counts');
});

test('only transport failures are asked about again on a timer; each error names its remedy', () => {
  assert.equal(shouldRecheck(down), true);
  assert.equal(shouldRecheck({ ...down, code: 'ACCESS_DENIED' }), false, 'a refusal needs the user');
  assert.equal(shouldRecheck({ ...down, code: 'AUTH_REQUIRED' }), false, 'a timer must not open browsers');
  assert.equal(shouldRecheck(ok), false);
  assert.equal(errorAction('AUTH_REQUIRED'), 'sign-in');
  assert.equal(errorAction('LOGIN_CANCELLED'), 'sign-in');
  assert.equal(errorAction('PORT_IN_USE'), 'edit');
  assert.equal(errorAction('EDGE_UNREACHABLE'), 'test');
});
