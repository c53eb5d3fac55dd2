// `airlock ui` once passed its one-time link to the browser launcher on the command line, where
// every local user could read it in ps and redeem it first. The browser is now given a local page
// (0700 folder, 0600 file) that posts the token; the plain link is printed only on request.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { startUiServer, type UiServer } from '../../src/app/browser/ui-server.js';
import { writeLaunchPage } from '../../src/app/browser/ui-launch-page.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { airlock } from '../helpers/processes.js';

const staticDir = mkdtempSync(join(tmpdir(), 'airlock-ui-static-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Airlock</title><h1>Airlock resources</h1>');
let manager: ResourceManager;
let server: UiServer;

before(async () => {
  manager = new ResourceManager({ storage: new MemoryStorage() });
  server = await startUiServer({ service: manager, staticDir });
});
after(async () => {
  await server.close();
  await manager.close();
});

test('the launch page is private (0700 folder, 0600 file) and its file:// URL carries no token', async () => {
  const page = await writeLaunchPage('http://127.0.0.1:1', 'secret-token-value');
  try {
    assert.equal(statSync(dirname(page.file)).mode & 0o777, 0o700);
    assert.equal(statSync(page.file).mode & 0o777, 0o600);
    assert.doesNotMatch(page.url, /secret-token-value/);
    assert.match(
      readFileSync(page.file, 'utf8'),
      /<form method="post" action="http:\/\/127\.0\.0\.1:1\/"><input type="hidden" name="token" value="secret-token-value">/,
    );
  } finally {
    await page.remove();
  }
});

test('in Chromium, the launch page signs the browser in once; opening it again is refused', async (t) => {
  if (chromiumMissing) return t.skip(chromiumMissing);
  const page = await writeLaunchPage(server.origin, server.token);
  const browser = await launchChromium();
  try {
    const tab = await (await browser.newContext()).newPage();
    await tab.goto(page.url);
    await tab.getByRole('heading', { name: 'Airlock resources' }).waitFor({ timeout: 10_000 });
    assert.equal(new URL(tab.url()).origin, server.origin, 'on the UI, signed in');
    const second = await (await browser.newContext()).newPage();
    await second.goto(page.url);
    await second.waitForLoadState('load');
    assert.match((await second.textContent('body')) ?? '', /this link has expired or was already used/);
  } finally {
    await browser.close();
    await page.remove();
  }
});

test('`airlock ui` prints no token unless asked (--print-link)', async () => {
  const data = join(mkdtempSync(join(tmpdir(), 'airlock-ui-data-')), 'resources.json');
  const quiet = airlock(['ui', '--data', data]);
  try {
    await quiet.waitFor(/Airlock UI at http:\/\/127\.0\.0\.1:\d+\//);
    await quiet.waitFor(/Open \S+open-airlock\.html in a browser on this machine/);
    assert.doesNotMatch(quiet.output(), /token=/);
  } finally {
    await quiet.stop();
  }
  const loud = airlock(['ui', '--data', data, '--print-link']);
  try {
    await loud.waitFor(/One-time link \(keep it to yourself\): http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
  } finally {
    await loud.stop();
  }
});
