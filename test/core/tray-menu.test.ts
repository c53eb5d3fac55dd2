import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource, ResourceStatus } from '../../src/shared/api.js';
import { buildTrayMenu, trayTooltip, type TrayMenuItem } from '../../src/core/tray-menu.js';

const resource = (id: string, name: string, localPort: number): Resource => ({ id, name, hostname: `${name}.example.com`, localPort, localHost: '127.0.0.1', tags: [], autoConnect: false, kind: 'other' });
const stopped = (id: string): ResourceStatus => ({ id, state: 'stopped', activeConnections: 0, totalConnections: 0, bytesUp: 0, bytesDown: 0 });
const items = (menu: TrayMenuItem[]) => menu.filter((item): item is Extract<TrayMenuItem, { kind: 'item' }> => item.kind === 'item');
const byLabel = (menu: TrayMenuItem[], label: string) => items(menu).find((item) => item.label === label)!;

test('an empty menu says what to do first and disables connect/disconnect all', () => {
  const menu = buildTrayMenu({ resources: [], statuses: [], startAtLogin: false, signedIn: false });
  assert.equal(menu[0]!.kind, 'label');
  assert.match((menu[0] as { label: string }).label, /open Airlock to add one/);
  assert.equal(byLabel(menu, 'Connect all').enabled, false);
  assert.equal(byLabel(menu, 'Disconnect all').enabled, false);
  assert.equal(byLabel(menu, 'Sign out').enabled, false);
  assert.deepEqual(items(menu).map((item) => item.label), ['Connect all', 'Disconnect all', 'Open Airlock', 'Sign out', 'Start at login', 'Quit Airlock']);
});

test('each resource toggles: connect when stopped, disconnect when listening, sorted by name', () => {
  const menu = buildTrayMenu({
    resources: [resource('b', 'redis', 6380), resource('a', 'db', 5433)],
    statuses: [stopped('b'), { ...stopped('a'), state: 'listening', localAddress: '127.0.0.1:5433', activeConnections: 1, bytesUp: 2048, bytesDown: 10 }],
    startAtLogin: true,
    signedIn: true,
  });
  const [db, redis] = items(menu);
  assert.equal(db!.label, 'db');
  assert.deepEqual(db!.command, { type: 'disconnect', id: 'a' });
  assert.equal(db!.checked, true);
  assert.match(db!.sublabel!, /127\.0\.0\.1:5433 · 1 open · ↑2\.00 KiB ↓10 B/);
  assert.deepEqual(redis!.command, { type: 'connect', id: 'b' });
  assert.equal(redis!.sublabel, 'disconnected');
  assert.equal(byLabel(menu, 'Connect all').enabled, true);
  assert.equal(byLabel(menu, 'Disconnect all').enabled, true);
  assert.equal(byLabel(menu, 'Start at login').checked, true);
  assert.equal(byLabel(menu, 'Sign out').enabled, true);
});

test('an error status shows its message and offers connect again', () => {
  const menu = buildTrayMenu({
    resources: [resource('a', 'db', 5433)],
    statuses: [{ ...stopped('a'), state: 'error', lastError: { code: 'PORT_IN_USE', message: '127.0.0.1:5433 is already in use', at: '' } }],
    startAtLogin: false,
    signedIn: false,
  });
  assert.deepEqual(items(menu)[0]!.command, { type: 'connect', id: 'a' });
  assert.match(items(menu)[0]!.sublabel!, /^error: 127\.0\.0\.1:5433 is already in use/);
});

test('long names and messages are cut', () => {
  const menu = buildTrayMenu({ resources: [resource('a', 'x'.repeat(64), 5433)], statuses: [], startAtLogin: false, signedIn: false });
  assert.equal(items(menu)[0]!.label.length, 40);
  assert.ok(items(menu)[0]!.label.endsWith('…'));
});

test('tooltip counts connected resources', () => {
  assert.equal(trayTooltip({ resources: [], statuses: [], startAtLogin: false, signedIn: false }), 'Airlock — nothing connected');
  assert.equal(trayTooltip({ resources: [], statuses: [{ ...stopped('a'), state: 'listening' }], startAtLogin: false, signedIn: false }), 'Airlock — 1 connected');
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
  assert.deepEqual(connect.command, { type: 'connect-discovered', edge: 'https://auth.example.com', hostname: 'cache.example.com' });
  assert.equal(items(menu).filter((item) => item.command.type === 'connect-discovered').length, 1, 'the saved one is not offered again');
});
