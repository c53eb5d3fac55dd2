import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, ResourceStatus } from '../../src/shared/api.js';
import { noticesFor } from '../../src/core/notices.js';

const resources: Resource[] = [{ id: 'a', name: 'db', hostname: 'db.example.com', localPort: 5433, localHost: '127.0.0.1', tags: [], autoConnect: false, kind: 'postgres' }];
const base: ResourceStatus = { id: 'a', state: 'stopped', activeConnections: 0, totalConnections: 0, bytesUp: 0, bytesDown: 0 };

test('tells when a resource comes up, once', () => {
  const up = { ...base, state: 'listening' as const, localAddress: '127.0.0.1:5433' };
  assert.deepEqual(noticesFor(new Map([['a', base]]), [up], resources), [{ title: 'db connected', body: 'Listening on 127.0.0.1:5433' }]);
  assert.deepEqual(noticesFor(new Map([['a', up]]), [up], resources), []);
});

test('a stale session asks for a sign-in on click', () => {
  const expired = { ...base, state: 'listening' as const, lastError: { code: 'AUTH_REQUIRED', message: 'x', at: '1' } };
  assert.deepEqual(noticesFor(new Map([['a', { ...expired, lastError: undefined }]]), [expired], resources), [{ title: 'db: session expired', body: 'Click to sign in again.', signInResourceId: 'a' }]);
});

test('an unreachable edge carries the egress hint, and the same error is not repeated', () => {
  const failing = { ...base, state: 'listening' as const, lastError: { code: 'EDGE_UNREACHABLE', message: 'cannot reach the edge', at: '2' } };
  const [notice] = noticesFor(new Map(), [failing], resources).filter((entry) => entry.title.includes('unreachable'));
  assert.match(notice!.body, /outbound connections on port 443/);
  assert.deepEqual(noticesFor(new Map([['a', failing]]), [failing], resources), []);
});
