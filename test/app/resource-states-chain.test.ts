// Every state a resource row shows, driven through a real chain: the edge with the built-in IdP,
// a connector and an echo origin, the loopback sign-in finished by Chromium, and the edge stopped
// and started again under an open connection (resumed by default, ended with resume off). The states are the ResourceManager's, as every UI
// (window, tray, browser mode) shows them.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ResourceStatus } from '../../src/shared/contract/api.js';
import { PATH } from '../../src/shared/constants.js';
import { loginWithBrowser } from '../../src/core/loopback-login.js';
import { ResourceManager } from '../../src/app/service/resource-manager.js';
import { MemoryStorage } from '../../src/app/service/resource-store.js';
import { SsoAuth } from '../../src/app/service/sso-auth.js';
import { startEdge, type RunningEdge } from '../../src/edge/edge-server.js';
import { startIdp, type RunningIdp } from '../../src/idp/provider.js';
import { chromiumMissing, launchChromium, signInInBrowser } from '../helpers/browser.js';
import { freePort, startChain, startEchoServer, type Chain } from '../helpers/chain.js';
import { MemoryTokens } from '../helpers/memory-tokens.js';

const ADA = { email: 'ada@example.com', password: 'ada-password', groups: ['eng'] };
const EVE = { email: 'eve@example.com', password: 'eve-password', groups: ['sales'] };
const skip = chromiumMissing;

let origin: Awaited<ReturnType<typeof startEchoServer>>;
let idp: RunningIdp;
let chain: Chain;
let browser: Browser;
let manager: ResourceManager;
let port: number;
let id: string;
let restartedEdge: RunningEdge | undefined;
const opened: string[] = [];

before(async () => {
  if (skip) return;
  origin = await startEchoServer();
  const edgePort = await freePort();
  idp = await startIdp({
    users: [ADA, EVE],
    clients: [
      {
        clientId: 'edge',
        clientSecret: 'states-idp-secret',
        redirectUris: [`https://127.0.0.1:${edgePort}${PATH.callback}`],
      },
    ],
  });
  chain = await startChain(
    [
      {
        hostname: 'db.airlock.test',
        service: `tcp://127.0.0.1:${origin.port}`,
        policy: '      include: [{ group: eng }]',
      },
      // A second app on the same edge: sign-in is per edge, so its row follows the first's.
      {
        hostname: 'cache.airlock.test',
        service: `tcp://127.0.0.1:${origin.port}`,
        policy: '      include: [{ group: eng }]',
      },
    ],
    {
      listenPort: edgePort,
      extraYaml: `idp: { issuer: "${idp.issuer}", clientId: edge, clientSecret: states-idp-secret }\n`,
    },
  );
  browser = await launchChromium();
  const auth = new SsoAuth({
    tokens: new MemoryTokens(),
    caFile: chain.pki.ca,
    // The system browser is the test's Chromium: it opens nothing by itself, the test signs in when it chooses.
    login: (options) =>
      loginWithBrowser({ ...options, openBrowser: async (url) => (opened.push(url), true), print: () => {} }),
  });
  manager = new ResourceManager({
    storage: new MemoryStorage(),
    auth,
    caFile: chain.pki.ca,
    recheckMs: 200,
    idleRecheckMs: 300,
  });
  port = await freePort();
  id = (
    await manager.addResource({
      name: 'db',
      hostname: 'db.airlock.test',
      edge: chain.edgeUrl,
      localPort: port,
      localHost: '127.0.0.1',
      tags: [],
      autoConnect: false,
      kind: 'postgres',
    })
  ).id;
});

after(async () => {
  if (skip) return;
  await manager?.close();
  await browser?.close();
  await chain?.close();
  await restartedEdge?.close(200); // chain.close() closes the edge it started, not this one
  await idp?.close();
  await origin?.close();
});

async function status(): Promise<ResourceStatus> {
  return (await manager.getStatus()).resources.find((entry) => entry.id === id)!;
}

async function waitFor(state: ResourceStatus['state'], timeoutMs = 10_000): Promise<ResourceStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = await status();
    if (now.state === state) return now;
    if (Date.now() > until)
      assert.fail(`still ${now.state} (${now.lastError?.message ?? 'no error'}), expected ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function session() {
  return (await manager.getStatus()).sessions.find((entry) => entry.edge === chain.edgeUrl)!;
}

/** Opens a connection through the resource and waits for one echo. */
async function openConnection(): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', () => resolve());
    socket.write('ping');
  });
  return socket;
}

test(
  'sign-in needed: switched on, the row waits for the browser with the link; cancelling is an error that offers sign-in',
  { skip },
  async () => {
    const first = await manager.connect({ id });
    assert.equal(first.state, 'listening', 'open is not ready');
    const waiting = await waitFor('signing-in');
    assert.equal(waiting.edge, chain.edgeUrl);
    const pending = (await session()).signingIn;
    assert.ok(pending?.url, 'the sign-in page is in the status, not only in a terminal');
    assert.equal(pending.url, opened.at(-1));
    assert.ok((await manager.getLogs({})).some((entry) => /waiting for you to sign in/.test(entry.message)));

    await manager.cancelSignIn({ edge: chain.edgeUrl });
    const cancelled = await waitFor('error');
    assert.equal(cancelled.lastError?.code, 'LOGIN_CANCELLED');
    assert.equal(cancelled.lastError?.action, 'sign-in');
    assert.equal((await session()).signInError?.code, 'LOGIN_CANCELLED');
    assert.equal((await session()).signingIn, undefined);
  },
);

test(
  'ready: after the sign-in in the browser, the edge admits the user; who is signed in is shown',
  { skip },
  async () => {
    const testing = manager.testResource({ id });
    await waitFor('signing-in');
    const url = (await session()).signingIn?.url;
    assert.ok(url);
    assert.match(await signInInBrowser(browser, url, ADA.email, ADA.password), /Signed in/);
    const ready = await testing;
    assert.equal(ready.state, 'ready');
    assert.ok(ready.checkedAt, 'when the edge last answered');
    assert.equal(ready.lastError, undefined);
    const signedIn = await session();
    assert.equal(signedIn.signedIn, true);
    assert.equal(signedIn.email, ADA.email);
    assert.equal(signedIn.signInError, undefined);
  },
);

test('in use while a connection is open, ready again when it closes; last used is kept', { skip }, async () => {
  const socket = await openConnection();
  const inUse = await waitFor('in-use');
  assert.equal(inUse.activeConnections, 1);
  assert.ok(inUse.lastUsedAt);
  socket.destroy();
  await waitFor('ready');
});

test(
  'edge lost mid-session: the open connection waits, the row says "reconnecting", and the connection carries on when the edge returns',
  { skip },
  async () => {
    const socket = await openConnection();
    await waitFor('in-use');
    let closed = false;
    socket.once('close', () => (closed = true));
    await chain.edge.close(200);
    const waiting = await waitFor('reconnecting');
    assert.ok(waiting.localAddress, 'the listener stays open');
    assert.equal(waiting.activeConnections, 1, 'the connection is still open');
    restartedEdge = await startEdge({ config: chain.config });
    await chain.connector.waitConnected(1);
    await waitFor('in-use', 15_000);
    const echoed = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write('still here');
    assert.equal((await echoed).toString(), 'still here', 'the same connection answers after the resume');
    assert.equal(closed, false);
    socket.destroy();
    await waitFor('ready');
  },
);

test(
  'with resume off (the setting), the edge lost mid-session ends the open connection and the row turns to an error naming the edge',
  { skip },
  async () => {
    await manager.updateSettings({ resume: false });
    await manager.disconnect({ id });
    await manager.connect({ id }); // the setting applies to resources switched on after it changed
    await waitFor('ready');
    const socket = await openConnection();
    await waitFor('in-use');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await restartedEdge!.close(200);
    await closed;
    const lost = await waitFor('error');
    assert.equal(lost.lastError?.code, 'EDGE_UNREACHABLE', lost.lastError?.message);
    assert.match(lost.lastError!.message, /cannot reach the edge|connection to the edge/);
    assert.ok(lost.localAddress, 'the listener stays open');
    restartedEdge = await startEdge({ config: chain.config });
    await chain.connector.waitConnected(1);
    await waitFor('ready', 15_000);
    await manager.updateSettings({ resume: true });
    await manager.disconnect({ id });
    await manager.connect({ id });
    await waitFor('ready');
  },
);

test(
  'edge lost while nothing is connected: a ready row does not stay green; it turns to an error on its own',
  { skip },
  async () => {
    await waitFor('ready');
    await restartedEdge!.close(200);
    const lost = await waitFor('error');
    assert.equal(lost.lastError?.code, 'EDGE_UNREACHABLE', lost.lastError?.message);
    restartedEdge = await startEdge({ config: chain.config });
    await chain.connector.waitConnected(1);
    await waitFor('ready', 15_000);
  },
);

test(
  'signed out: the row says "Signed out" at once, a program is refused within 1 s without a browser, Sign in brings it back',
  { skip },
  async () => {
    await waitFor('ready');
    const browsersBefore = opened.length;
    const started = Date.now();
    await manager.signOut({ edge: chain.edgeUrl });
    const signedOut = await status();
    assert.equal(signedOut.state, 'signed-out', 'at once, with no check of the edge to wait for');
    assert.equal(signedOut.lastError?.code, 'SIGNED_OUT');
    assert.equal(signedOut.lastError?.action, 'sign-in');
    assert.ok(signedOut.localAddress, 'the port stays open, refusing');

    // A program connecting now is turned away at once, not held while a hidden browser waits.
    const refusedAt = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const closed = await new Promise<number>((resolve) => {
      socket.on('error', () => {});
      socket.once('close', () => resolve(Date.now() - refusedAt));
      socket.setTimeout(10_000, () => socket.destroy());
    });
    console.log(`sign-out → status ${Date.now() - started} ms; a program's connection refused after ${closed} ms`);
    assert.ok(closed < 5_000, `the connection was held ${closed} ms`);
    assert.equal(opened.length, browsersBefore, 'no browser sign-in was started');
    assert.equal((await session()).signingIn, undefined);
    assert.equal((await status()).state, 'signed-out');
    assert.ok((await manager.getLogs({})).some((entry) => /you signed out of/.test(entry.message)));

    const signingIn = manager.signIn({ edge: chain.edgeUrl });
    const url = await (async () => {
      for (let tries = 0; tries < 400; tries++) {
        const pending = (await session()).signingIn?.url;
        if (pending) return pending;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return assert.fail('no sign-in page');
    })();
    await signInInBrowser(browser, url, ADA.email, ADA.password);
    await signingIn;
    await waitFor('ready');
  },
);

async function statusOf(resourceId: string): Promise<ResourceStatus> {
  return (await manager.getStatus()).resources.find((entry) => entry.id === resourceId)!;
}

async function pendingSignInUrl(): Promise<string> {
  for (let tries = 0; tries < 400; tries++) {
    const pending = (await session()).signingIn?.url;
    if (pending) return pending;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return assert.fail('no sign-in page');
}

test(
  'sign-in is per edge: after signing in again from one "Signed out" row (Sign in, then Test), every row of that edge is ready',
  { skip },
  async () => {
    await waitFor('ready');
    const other = (
      await manager.addResource({
        name: 'cache',
        hostname: 'cache.airlock.test',
        edge: chain.edgeUrl,
        localPort: await freePort(),
        localHost: '127.0.0.1',
        tags: [],
        autoConnect: false,
        kind: 'redis',
      })
    ).id;
    try {
      await manager.connect({ id: other });
      const bothReady = async () => {
        const until = Date.now() + 10_000;
        for (;;) {
          const states = [(await statusOf(id)).state, (await statusOf(other)).state];
          if (states.every((state) => state === 'ready')) return;
          if (Date.now() > until) assert.fail(`rows are ${states.join(' and ')}, expected both ready`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      };
      await bothReady(); // the second app's token came from the edge's session: no browser
      for (const how of ['sign in', 'test'] as const) {
        await manager.signOut({ edge: chain.edgeUrl });
        assert.equal((await statusOf(id)).state, 'signed-out');
        assert.equal((await statusOf(other)).state, 'signed-out');
        // The row's "Sign in" (the edge), or its ⋯ Test, which signs in when the edge asks.
        const signingIn = how === 'sign in' ? manager.signIn({ edge: chain.edgeUrl }) : manager.testResource({ id });
        await signInInBrowser(browser, await pendingSignInUrl(), ADA.email, ADA.password);
        await signingIn;
        await bothReady();
      }
    } finally {
      await manager.removeResource({ id: other });
    }
  },
);

test('denied: signed in as a user the policy does not admit, the row is an error that says so', { skip }, async () => {
  await manager.signOut({ edge: chain.edgeUrl });
  const testing = manager.testResource({ id });
  await waitFor('signing-in');
  const url = (await session()).signingIn?.url;
  assert.ok(url);
  await signInInBrowser(browser, url, EVE.email, EVE.password);
  const denied = await testing;
  assert.equal(denied.state, 'error');
  assert.equal(denied.lastError?.code, 'ACCESS_DENIED', denied.lastError?.message);
  assert.match(denied.lastError!.message, /not allowed|refused/);
  await manager.disconnect({ id });
  assert.equal((await status()).state, 'off');
});
