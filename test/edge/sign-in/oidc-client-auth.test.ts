// Which client authentication the edge uses at the token endpoint, from edge.yaml and discovery.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseAuthMethod } from '../../../src/edge/sign-in/oidc-client-auth.js';

const both = ['client_secret_basic', 'client_secret_post'];

test('a configured method wins over discovery', () => {
  assert.equal(
    chooseAuthMethod('client_secret_basic', ['client_secret_post'], { clientId: 'a-b', clientSecret: 's' }),
    'client_secret_basic',
  );
});

test('unset: client_secret_basic for an id and secret Basic leaves unchanged', () => {
  assert.equal(
    chooseAuthMethod(undefined, both, { clientId: 'airlock', clientSecret: 'Secret123' }),
    'client_secret_basic',
  );
  assert.equal(
    chooseAuthMethod(undefined, undefined, { clientId: 'airlock-edge', clientSecret: 's' }),
    'client_secret_basic',
    'nothing listed: the OAuth default',
  );
});

test('unset: client_secret_post when Basic would form-encode the id or the secret and the provider offers post', () => {
  assert.equal(
    chooseAuthMethod(undefined, both, { clientId: 'airlock-edge', clientSecret: 's' }),
    'client_secret_post',
  );
  assert.equal(
    chooseAuthMethod(undefined, both, { clientId: 'airlock', clientSecret: 'a+b/c=' }),
    'client_secret_post',
  );
  assert.equal(
    chooseAuthMethod(undefined, ['client_secret_basic'], { clientId: 'airlock-edge', clientSecret: 's' }),
    'client_secret_basic',
  );
});

test('unset: client_secret_post when the provider does not list basic; private_key_jwt when a key is configured', () => {
  assert.equal(
    chooseAuthMethod(undefined, ['client_secret_post'], { clientId: 'airlock', clientSecret: 's' }),
    'client_secret_post',
  );
  assert.equal(chooseAuthMethod(undefined, both, { clientId: 'airlock', privateKeyFile: '/k.pem' }), 'private_key_jwt');
});
