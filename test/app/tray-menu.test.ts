import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, ResourceStatus } from '../../src/shared/contract/api.js';
import { buildTrayMenu, trayTooltip, type TrayMenuItem } from '../../src/app/service/tray-menu.js';

const resource = (id: string, name: string, localPort: number): Resource => ({
  id,
  name,
  hostname: `${name}.example.com`,
  localPort,
  localHost: '127.0.0.1',
  tags: [],
  autoConnect: false,
  kind: 'other',
});
const stopped = (id: string): ResourceStatus => ({
  id,
  state: 'off',
  edge: 'https://auth.example.com',
  activeConnections: 0,
  totalConnections: 0,
  bytesUp: 0,
  bytesDown: 0,
});
const items = (menu: TrayMenuItem[]) =>
  menu.filter((item): item is Extract<TrayMenuItem, { kind: 'item' }> => item.kind === 'item');
const byLabel = (menu: TrayMenuItem[], label: string) => items(menu).find((item) => item.label === label)!;

test('an empty menu says what to do first and disables connect/disconnect all', () => {
  const menu = buildTrayMenu({ resources: [], statuses: [], startAtLogin: false, signedIn: false });
  assert.equal(menu[0]!.kind, 'label');
  assert.match((menu[0] as { label: string }).label, /open Airlock to add one/);
  assert.equal(byLabel(menu, 'Connect all').enabled, false);
  assert.equal(byLabel(menu, 'Disconnect all').enabled, false);
  assert.equal(byLabel(menu, 'Sign out everywhere').enabled, false);
  assert.deepEqual(
    items(menu).map((item) => item.label),
    ['Connect all', 'Disconnect all', 'Open Airlock', 'Sign out everywhere', 'Start at login', 'Quit Airlock'],
  );
});

test("each resource toggles: connect when off, disconnect when on, sorted by name; the state is the window's", () => {
  const menu = buildTrayMenu({
    resources: [resource('b', 'redis', 6380), resource('a', 'db', 5433)],
    statuses: [
      stopped('b'),
      {
        ...stopped('a'),
        state: 'in-use',
        localAddress: '127.0.0.1:5433',
        activeConnections: 1,
        bytesUp: 2048,
        bytesDown: 10,
      },
    ],
    startAtLogin: true,
    signedIn: true,
  });
  const [db, redis] = items(menu);
  assert.equal(db!.label, 'db');
  assert.deepEqual(db!.command, { type: 'disconnect', id: 'a' });
  assert.equal(db!.checked, true);
  assert.match(db!.sublabel!, /^In use · 127\.0\.0\.1:5433 · 1 open · ↑2\.00 KiB ↓10 B/);
  assert.deepEqual(redis!.command, { type: 'connect', id: 'b' });
  assert.equal(redis!.sublabel, 'Off');
  assert.equal(byLabel(menu, 'Connect all').enabled, true);
  assert.equal(byLabel(menu, 'Disconnect all').enabled, true);
  assert.equal(byLabel(menu, 'Start at login').checked, true);
  assert.equal(byLabel(menu, 'Sign out everywhere').enabled, true);
});

test('an error status shows its message: connect again when the listener failed, disconnect when it is open', () => {
  const failedToListen: ResourceStatus = {
    ...stopped('a'),
    state: 'error',
    lastError: { code: 'PORT_IN_USE', message: '127.0.0.1:5433 is already in use', at: '', action: 'edit' },
  };
  let menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [failedToListen],
    startAtLogin: false,
    signedIn: false,
  });
  assert.deepEqual(items(menu)[0]!.command, { type: 'connect', id: 'a' });
  assert.match(items(menu)[0]!.sublabel!, /^Error: 127\.0\.0\.1:5433 is already in use/);
  const edgeDown: ResourceStatus = {
    ...stopped('a'),
    state: 'error',
    localAddress: '127.0.0.1:5433',
    lastError: { code: 'EDGE_UNREACHABLE', message: 'cannot reach the edge', at: '', action: 'test' },
  };
  menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [edgeDown],
    startAtLogin: false,
    signedIn: false,
  });
  assert.deepEqual(items(menu)[0]!.command, { type: 'disconnect', id: 'a' });
  assert.equal(items(menu)[0]!.checked, true);
});

test('a sign-in waiting in the browser comes first: open its page again, or cancel', () => {
  const url = 'https://auth.example.com/cdn-cgi/access/cli?aud=x';
  const menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [{ ...stopped('a'), state: 'signing-in', localAddress: '127.0.0.1:5433' }],
    sessions: [
      { edge: 'https://auth.example.com', signedIn: false, signInAvailable: true, signingIn: { startedAt: 't', url } },
    ],
    startAtLogin: false,
    signedIn: false,
  });
  const [open, cancel, db] = items(menu);
  assert.equal(open!.label, 'Sign in to auth.example.com…');
  assert.deepEqual(open!.command, { type: 'open-sign-in', url });
  assert.deepEqual(cancel!.command, { type: 'cancel-sign-in', edge: 'https://auth.example.com' });
  assert.match(db!.sublabel!, /^Waiting for sign-in/);
});

test('a resource whose edge wants a sign-in offers it; none is offered when nothing needs it', () => {
  const session = { edge: 'https://auth.example.com', signedIn: false, signInAvailable: true };
  const needs: ResourceStatus = {
    ...stopped('a'),
    state: 'error',
    localAddress: '127.0.0.1:5433',
    lastError: { code: 'LOGIN_CANCELLED', message: 'cancelled', at: '', action: 'sign-in' },
  };
  let menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [needs],
    sessions: [session],
    startAtLogin: false,
    signedIn: false,
  });
  assert.deepEqual(items(menu)[0]!.command, { type: 'sign-in', edge: 'https://auth.example.com' });
  menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [stopped('a')],
    sessions: [session],
    startAtLogin: false,
    signedIn: false,
  });
  assert.equal(items(menu).filter((item) => item.command.type === 'sign-in').length, 0);
});

test('long names and messages are cut', () => {
  const menu = buildTrayMenu({
    resources: [resource('a', 'x'.repeat(64), 5433)],
    statuses: [],
    startAtLogin: false,
    signedIn: false,
  });
  assert.equal(items(menu)[0]!.label.length, 40);
  assert.ok(items(menu)[0]!.label.endsWith('…'));
});

test('tooltip counts ready resources, and those that need the user', () => {
  assert.equal(
    trayTooltip({ resources: [], statuses: [], startAtLogin: false, signedIn: false }),
    'Airlock — nothing connected',
  );
  assert.equal(
    trayTooltip({
      resources: [],
      statuses: [{ ...stopped('a'), state: 'listening' }],
      startAtLogin: false,
      signedIn: false,
    }),
    'Airlock — nothing connected',
    'open but unchecked is not ready',
  );
  const statuses: ResourceStatus[] = [
    { ...stopped('a'), state: 'ready' },
    { ...stopped('b'), state: 'in-use' },
    { ...stopped('c'), state: 'signing-in' },
    { ...stopped('d'), state: 'error' },
  ];
  assert.equal(
    trayTooltip({ resources: [], statuses, startAtLogin: false, signedIn: false }),
    'Airlock — 2 ready, 1 waiting for sign-in, 1 with errors',
  );
});

test('apps an edge lists and that are not saved yet appear under it, each connecting with one click', () => {
  const menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [stopped('a')],
    startAtLogin: false,
    signedIn: true,
    discovered: [
      {
        edge: 'https://auth.example.com',
        apps: [
          { hostname: 'db.example.com', name: 'db', port: 5433, savedAs: 'a' },
          { hostname: 'cache.example.com', name: 'Session cache', kind: 'redis', port: 10000 },
        ],
      },
    ],
  });
  assert.ok(menu.some((item) => item.kind === 'label' && item.label === 'Available on auth.example.com'));
  const connect = byLabel(menu, 'Connect Session cache');
  assert.equal(connect.sublabel, 'cache.example.com');
  assert.deepEqual(connect.command, {
    type: 'connect-discovered',
    edge: 'https://auth.example.com',
    hostname: 'cache.example.com',
  });
  assert.equal(
    items(menu).filter((item) => item.command.type === 'connect-discovered').length,
    1,
    'the saved one is not offered again',
  );
});

test('a resource whose stream waits to resume says "Reconnecting…" in its row, still switched on', () => {
  const menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [{ ...stopped('a'), state: 'reconnecting', localAddress: '127.0.0.1:5433', activeConnections: 1 }],
    startAtLogin: false,
    signedIn: true,
  });
  const [db] = items(menu);
  assert.match(db!.sublabel!, /^Reconnecting… · 127\.0\.0\.1:5433/);
  assert.deepEqual(db!.command, { type: 'disconnect', id: 'a' });
});
