import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  linuxDesktopEntry,
  macWebloc,
  safeFileName,
  shortcutPath,
  windowsShortcut,
  writeShortcut,
} from '../../src/app/service/desktop-shortcut.js';

const request = { name: 'prod db', executable: '/opt/Airlock/airlock' };

test('a Linux .desktop entry runs the app with the quoted, %-escaped link', () => {
  const entry = linuxDesktopEntry(request);
  assert.equal(entry.fileName, 'Airlock - prod db.desktop');
  assert.match(entry.content, /^\[Desktop Entry\]\nType=Application\n/);
  assert.match(entry.content, /\nName=Connect prod db\n/);
  assert.match(entry.content, /\nExec="\/opt\/Airlock\/airlock" "airlock:\/\/connect\/prod%%20db"\n/);
  assert.equal(entry.mode, 0o755);
});

test('the Exec line escapes shell metacharacters in the executable path', () => {
  const entry = linuxDesktopEntry({ name: 'db', executable: '/home/a$b/"x"/air`lock' });
  assert.match(entry.content, /\nExec="\/home\/a\\\$b\/\\"x\\"\/air\\`lock" /);
});

test('a macOS .webloc is a plist with the link', () => {
  const webloc = macWebloc(request);
  assert.equal(webloc.fileName, 'Airlock - prod db.webloc');
  assert.match(webloc.content, /<key>URL<\/key>\n\t<string>airlock:\/\/connect\/prod%20db<\/string>/);
});

test('Windows shortcut details for shell.writeShortcutLink', () => {
  assert.deepEqual(windowsShortcut({ ...request, executable: 'C:\\Airlock\\Airlock.exe' }), {
    fileName: 'Airlock - prod db.lnk',
    options: {
      target: 'C:\\Airlock\\Airlock.exe',
      args: 'airlock://connect/prod%20db',
      description: 'Connect prod db through Airlock',
    },
  });
});

test('file names lose separators, leading dots and device names', () => {
  assert.equal(safeFileName('../../etc/passwd'), '_._etc_passwd');
  assert.equal(safeFileName('..'), 'resource');
  assert.equal(safeFileName('a\\b:c*?'), 'a_b_c__');
  assert.equal(safeFileName('CON'), 'CON_');
  assert.equal(safeFileName('x'.repeat(100)).length, 64);
});

test('shortcutPath refuses anything outside the folder', () => {
  const directory = mkdtempSync(join(tmpdir(), 'airlock-shortcut-'));
  assert.throws(() => shortcutPath(directory, '../evil.desktop'), /unsafe/);
  assert.throws(() => shortcutPath(directory, '.hidden.desktop'), /unsafe/);
  assert.equal(shortcutPath(directory, 'ok.desktop'), join(directory, 'ok.desktop'));
});

test('writes a Linux shortcut into the folder, executable, and nothing else', () => {
  const directory = mkdtempSync(join(tmpdir(), 'airlock-shortcut-'));
  const path = writeShortcut('linux', directory, { name: '../../x', executable: '/usr/bin/airlock' });
  assert.deepEqual(readdirSync(directory), ['Airlock - _._x.desktop']);
  assert.equal(path, join(directory, 'Airlock - _._x.desktop'));
  assert.equal(statSync(path).mode & 0o777, 0o755);
  assert.match(readFileSync(path, 'utf8'), /airlock:\/\/connect\/..%%2F..%%2Fx/);
});

test('writes a macOS .webloc and hands Windows to the injected writer', () => {
  const directory = mkdtempSync(join(tmpdir(), 'airlock-shortcut-'));
  assert.equal(writeShortcut('darwin', directory, request), join(directory, 'Airlock - prod db.webloc'));
  const calls: unknown[] = [];
  const path = writeShortcut('win32', directory, request, (target, options) => (calls.push([target, options]), true));
  assert.equal(path, join(directory, 'Airlock - prod db.lnk'));
  assert.equal(calls.length, 1);
  assert.throws(() => writeShortcut('win32', directory, request), /could not create/);
});
