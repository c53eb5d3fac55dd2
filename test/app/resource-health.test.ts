import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../src/shared/contract/api.js';
import { AirlockError } from '../../src/shared/errors.js';
import { ResourceHealth } from '../../src/app/service/resource-health.js';

const resource: Resource = {
  id: 'r',
  name: 'db',
  hostname: 'db.example.com',
  localPort: 5433,
  localHost: '127.0.0.1',
  tags: [],
  autoConnect: false,
  kind: 'postgres',
};

test("the user's Test during a timer's re-check still signs in: it runs after the re-check, not as it", async () => {
  let releaseFirst!: () => void;
  const firstAnswer = new Promise<void>((resolve) => (releaseFirst = resolve));
  let preflights = 0;
  let signIns = 0;
  let signedIn = false;
  const health = new ResourceHealth({
    preflight: async () => {
      preflights++;
      if (preflights === 1) await firstAnswer;
      if (!signedIn) throw new AirlockError('AUTH_REQUIRED', 'the edge asks for a sign-in');
    },
    signIn: async () => {
      signIns++;
      signedIn = true;
    },
    isOn: () => true,
    find: () => resource,
    edgeOf: () => 'https://auth.example.com',
    onChange: () => {},
    log: () => {},
  });
  const timer = health.check(resource, 'recheck');
  const user = health.check(resource, 'user');
  releaseFirst();
  assert.equal((await timer).ok, false, 'the re-check reports the sign-in it may not start');
  assert.equal((await user).ok, true);
  assert.equal(signIns, 1);
  health.close();
});
