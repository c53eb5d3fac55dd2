import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../src/shared/contract/api.js';
import { connectCommand } from '../../src/shared/contract/commands.js';
import {
  checkResourceForm,
  emptyFormValues,
  formValuesFrom,
  parseTags,
} from '../../src/shared/contract/resource-form.js';

const existing: Resource = {
  id: 'r1',
  name: 'db',
  hostname: 'db.example.com',
  localPort: 5433,
  localHost: '127.0.0.1',
  tags: ['prod'],
  autoConnect: false,
  kind: 'postgres',
};

test('an empty form names every required field', () => {
  const { errors, value } = checkResourceForm(emptyFormValues(), []);
  assert.equal(value, undefined);
  assert.equal(errors.name, 'a name is required');
  assert.equal(errors.hostname, 'a hostname is required');
  assert.equal(errors.localPort, 'a local port is required');
});

test('a good form gives the value to send', () => {
  const check = checkResourceForm(
    {
      ...emptyFormValues(),
      name: 'cache',
      hostname: 'Redis.Example.com',
      localPort: '6380',
      tags: 'prod, cache prod',
      kind: 'redis',
    },
    [existing],
  );
  assert.deepEqual(check.errors, {});
  assert.deepEqual(check.value, {
    name: 'cache',
    hostname: 'redis.example.com',
    localPort: 6380,
    localHost: '127.0.0.1',
    tags: ['prod', 'cache'],
    autoConnect: false,
    kind: 'redis',
  });
});

test('flags a port used by another resource, but not by the one being edited', () => {
  assert.match(
    checkResourceForm({ ...emptyFormValues(), name: 'x', hostname: 'x.com', localPort: '5433' }, [existing]).errors
      .localPort!,
    /already used by "db"/,
  );
  assert.deepEqual(checkResourceForm(formValuesFrom(existing), [existing], 'r1').errors, {});
});

test('flags a duplicate name, a bad hostname, an out-of-range or non-numeric port', () => {
  const check = checkResourceForm({ ...emptyFormValues(), name: 'DB', hostname: 'db example', localPort: '70000' }, [
    existing,
  ]);
  assert.match(check.errors.name!, /already exists/);
  assert.match(check.errors.hostname!, /valid hostname/);
  assert.match(check.errors.localPort!, /between 1 and 65535/);
  assert.ok(
    checkResourceForm({ ...emptyFormValues(), name: 'a', hostname: 'a.com', localPort: '22x' }, []).errors.localPort,
  );
});

test('warns about privileged ports without blocking', () => {
  const check = checkResourceForm({ ...emptyFormValues(), name: 'a', hostname: 'a.com', localPort: '22' }, []);
  assert.ok(check.value);
  assert.match(check.warnings.localPort!, /1024–65535 is recommended/);
});

test('tags split on commas and spaces without duplicates', () =>
  assert.deepEqual(parseTags(' a, b  a,,c '), ['a', 'b', 'c']));

test('copy command per kind', () => {
  const base = { localHost: '127.0.0.1', localPort: 2222 };
  assert.equal(connectCommand({ ...base, kind: 'ssh' }), 'ssh -p 2222 user@127.0.0.1');
  assert.equal(connectCommand({ ...base, kind: 'postgres' }), 'psql -h 127.0.0.1 -p 2222');
  assert.equal(connectCommand({ ...base, kind: 'redis' }), 'redis-cli -h 127.0.0.1 -p 2222');
  assert.equal(connectCommand({ ...base, kind: 'rdp' }), '127.0.0.1:2222');
  assert.equal(connectCommand({ localHost: '::1', localPort: 2222, kind: 'other' }), '[::1]:2222');
});
