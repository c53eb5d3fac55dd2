import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API_METHODS,
  ApiError,
  createApiClient,
  dispatch,
  validateRequest,
  type ApiService,
  type ApiTransport,
} from '../../src/shared/contract/api.js';

const invalid = (call: () => unknown, fields: Record<string, RegExp>) =>
  assert.throws(call, (error: ApiError) => {
    assert.equal(error.code, 'INVALID_INPUT');
    for (const [field, pattern] of Object.entries(fields)) assert.match(error.fields[field] ?? '', pattern, field);
    return true;
  });

test('a valid resource gets defaults and a lower-cased hostname', () => {
  assert.deepEqual(validateRequest('addResource', { name: 'prod db', hostname: 'DB.Example.com', localPort: 5433 }), {
    name: 'prod db',
    hostname: 'db.example.com',
    localPort: 5433,
    localHost: '127.0.0.1',
    tags: [],
    autoConnect: false,
    kind: 'other',
  });
});

test('an edge URL is normalised to its origin', () => {
  assert.equal(
    validateRequest('addResource', {
      name: 'a',
      hostname: 'a.example.com',
      localPort: 2222,
      edge: 'https://edge.example.com:8443/',
    }).edge,
    'https://edge.example.com:8443',
  );
});

test('rejects a bad hostname', () =>
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'not a host', localPort: 2222 }), {
    hostname: /valid hostname/,
  }));
test('rejects a hostname with a path', () =>
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com/../x', localPort: 2222 }), {
    hostname: /valid hostname/,
  }));
test('rejects ports out of range', () => {
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 0 }), {
    localPort: /between 1 and 65535/,
  });
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 65536 }), {
    localPort: /between 1 and 65535/,
  });
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 22.5 }), {
    localPort: /whole number/,
  });
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: '22' }), {
    localPort: /port number/,
  });
});
test('rejects an http edge', () =>
  invalid(
    () => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 2222, edge: 'http://edge' }),
    { edge: /https/ },
  ));
test('rejects an edge URL with credentials', () =>
  invalid(
    () => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 2222, edge: 'https://u:p@edge' }),
    { edge: /https/ },
  ));
test('rejects a non-loopback local address', () =>
  invalid(
    () => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 2222, localHost: '0.0.0.0' }),
    { localHost: /loopback/ },
  ));
test('rejects names with path characters or control characters', () => {
  invalid(() => validateRequest('addResource', { name: '../etc', hostname: 'a.com', localPort: 2222 }), {
    name: /letters/,
  });
  invalid(() => validateRequest('addResource', { name: 'a\nb', hostname: 'a.com', localPort: 2222 }), {
    name: /letters/,
  });
  invalid(() => validateRequest('addResource', { name: 'x'.repeat(65), hostname: 'a.com', localPort: 2222 }), {
    name: /64/,
  });
});
test('rejects unknown fields (no smuggled properties)', () =>
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 2222, __proto__x: 1 }), {
    _: /Unrecognized key/,
  }));
test('rejects bad tags and too many tags', () => {
  invalid(() => validateRequest('addResource', { name: 'a', hostname: 'a.com', localPort: 2222, tags: ['<script>'] }), {
    'tags.0': /tags are/,
  });
  invalid(
    () =>
      validateRequest('addResource', {
        name: 'a',
        hostname: 'a.com',
        localPort: 2222,
        tags: Array.from({ length: 17 }, (_, i) => `t${i}`),
      }),
    { tags: /16/ },
  );
});
test('an edit changes only what it names, and null clears the edge', () => {
  assert.deepEqual(validateRequest('updateResource', { id: 'abc', changes: { localPort: 2223, edge: null } }), {
    id: 'abc',
    changes: { localPort: 2223, edge: null },
  });
  invalid(() => validateRequest('updateResource', { id: 'abc', changes: { localPort: -1 } }), { localPort: /between/ });
});
test('rejects an id that is not an id', () =>
  invalid(() => validateRequest('connect', { id: '../../x' }), { id: /not a resource id/ }));
test('settings: theme and auto-connect list are checked', () => {
  assert.deepEqual(validateRequest('updateSettings', { theme: 'dark' }), { theme: 'dark' });
  invalid(() => validateRequest('updateSettings', { theme: 'neon' }), { theme: /./ });
  invalid(() => validateRequest('updateSettings', { startAtLogin: 'yes' }), { startAtLogin: /./ });
});
test('calls without parameters refuse parameters', () =>
  invalid(() => validateRequest('listResources', { all: true }), { _: /./ }));
test('an unknown method is a typed error', () =>
  assert.throws(
    () => validateRequest('__proto__' as 'listResources', undefined),
    (error: ApiError) => error.code === 'UNKNOWN_METHOD',
  ));

test('dispatch validates, calls the service, and wraps errors in the envelope', async () => {
  const calls: unknown[] = [];
  const service = {
    connect: async (params: unknown) => (calls.push(params), { id: 'a' }),
    removeResource: async () => {
      throw new ApiError('NOT_FOUND', 'gone');
    },
  } as unknown as ApiService;
  assert.deepEqual(await dispatch(service, 'connect', { id: 'a' }), { ok: true, value: { id: 'a' } });
  assert.deepEqual(await dispatch(service, 'connect', { id: 7 }), {
    ok: false,
    error: {
      code: 'INVALID_INPUT',
      message: 'invalid connect: id: Invalid input: expected string, received number',
      fields: { id: 'Invalid input: expected string, received number' },
    },
  });
  assert.deepEqual(await dispatch(service, 'removeResource', { id: 'a' }), {
    ok: false,
    error: { code: 'NOT_FOUND', message: 'gone' },
  });
  assert.equal((await dispatch(service, 'constructor', {})).ok, false);
  assert.equal((await dispatch(service, 'toString', {})).ok, false);
  assert.deepEqual(calls, [{ id: 'a' }]);
});

test('the client validates before sending and turns error envelopes into ApiError', async () => {
  const sent: string[] = [];
  const transport: ApiTransport = {
    invoke: async (method) => (
      sent.push(method),
      method === 'getSettings'
        ? { ok: true, value: { theme: 'dark' } }
        : { ok: false, error: { code: 'CONFLICT', message: 'taken', fields: { localPort: 'taken' } } }
    ),
    subscribe: () => () => {},
  };
  const client = createApiClient(transport);
  assert.deepEqual(await client.getSettings(), { theme: 'dark' });
  await assert.rejects(
    client.addResource({ name: 'a', hostname: 'a.com', localPort: 2222 }),
    (error: ApiError) => error.code === 'CONFLICT' && error.fields.localPort === 'taken',
  );
  await assert.rejects(client.connect({ id: '' }), (error: ApiError) => error.code === 'INVALID_INPUT');
  assert.deepEqual(sent, ['getSettings', 'addResource']);
  assert.deepEqual(Object.keys(client).sort(), [...API_METHODS, 'onEvent'].sort());
});
