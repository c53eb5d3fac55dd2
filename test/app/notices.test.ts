import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EdgeSession, Resource, ResourceStatus } from '../../src/shared/contract/api.js';
import { noticesFor, signInNoticesFor } from '../../src/app/service/notices.js';

const resources: Resource[] = [
  {
    id: 'a',
    name: 'db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'postgres',
  },
];
const base: ResourceStatus = {
  id: 'a',
  state: 'off',
  edge: 'https://edge.example.com',
  activeConnections: 0,
  totalConnections: 0,
  bytesUp: 0,
  bytesDown: 0,
};

test('tells when a resource becomes ready, once; a listener that is only open is not news', () => {
  const open = { ...base, state: 'listening' as const, localAddress: '127.0.0.1:5433' };
  const ready = { ...open, state: 'ready' as const };
  assert.deepEqual(noticesFor(new Map([['a', base]]), [open], resources), []);
  assert.deepEqual(noticesFor(new Map([['a', open]]), [ready], resources), [
    { title: 'db is ready', body: 'Use 127.0.0.1:5433' },
  ]);
  assert.deepEqual(noticesFor(new Map([['a', ready]]), [ready], resources), []);
  assert.deepEqual(
    noticesFor(new Map([['a', { ...ready, state: 'in-use' as const }]]), [ready], resources),
    [],
    'in use → ready is not news',
  );
});

test('a needed sign-in asks for it on click', () => {
  const needed = {
    ...base,
    state: 'error' as const,
    lastError: { code: 'AUTH_REQUIRED', message: 'x', at: '1', action: 'sign-in' as const },
  };
  assert.deepEqual(noticesFor(new Map([['a', base]]), [needed], resources), [
    { title: 'db: sign-in needed', body: 'Click to sign in.', signInResourceId: 'a' },
  ]);
});

test('an unreachable edge says so with the message, and the same error is not repeated', () => {
  const failing = {
    ...base,
    state: 'error' as const,
    lastError: {
      code: 'EDGE_UNREACHABLE',
      message: 'cannot reach the edge at e:8443; check port 8443',
      at: '2',
      action: 'test' as const,
    },
  };
  const [notice] = noticesFor(new Map(), [failing], resources).filter((entry) => entry.title.includes('unreachable'));
  assert.equal(notice!.body, failing.lastError.message);
  assert.deepEqual(noticesFor(new Map([['a', failing]]), [failing], resources), []);
});

test('a sign-in waiting in the browser is announced once, with its page to open on click', () => {
  const idle: EdgeSession = { edge: 'https://auth.example.com', signedIn: false, signInAvailable: true };
  const starting = { ...idle, signingIn: { startedAt: 't' } };
  const waiting = { ...idle, signingIn: { startedAt: 't', url: 'https://auth.example.com/cdn-cgi/access/cli?aud=x' } };
  assert.deepEqual(signInNoticesFor([idle], [starting]), [], 'no page yet: nothing to click');
  assert.deepEqual(signInNoticesFor([starting], [waiting]), [
    {
      title: 'Sign in to auth.example.com',
      body: 'Finish signing in in your browser. Click to open the sign-in page again.',
      openUrl: waiting.signingIn.url,
    },
  ]);
  assert.deepEqual(signInNoticesFor([waiting], [waiting]), []);
});
