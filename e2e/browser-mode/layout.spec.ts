// The layout from a 360 px wide window to a full screen, light and dark: nothing runs off the
// right edge or out of its box, hostnames, ports and addresses are never cut, and the resource
// form fits the window with its buttons in reach.
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeEdge, type FakeEdge } from '../../test/fixtures/fake-edge.js';
import { freePort, startUiProcess, type UiProcess } from './helpers.js';

const SHOTS = 'e2e/artifacts';
const VIEWPORTS = [
  { width: 360, height: 640 },
  { width: 420, height: 700 },
  { width: 768, height: 1024 },
  { width: 1280, height: 800 },
] as const;
const THEMES = ['light', 'dark'] as const;
const NARROW = 600;
const WIDE = 900;
const LONG_HOSTNAME = 'a-really-long-hostname-for-the-database.eu-west-1.internal.example.com';
const email = 'ada.lovelace@analytical-engine.example.com';
const token = `e30.${Buffer.from(JSON.stringify({ email, exp: Math.floor(Date.now() / 1000) + 7200 })).toString('base64url')}.sig`;
/** Elements that show a hostname, a port or a local address: they must never be cut. */
const FULL_VALUES = ['.resource-host', '[data-testid=local-address]', '.counters', '.edge-name', '.edge-who'];

let edge: FakeEdge;
let ui: UiProcess;
let page: Page;
let socket: net.Socket;

test.beforeAll(async ({ browser }) => {
  edge = await startFakeEdge({ requireToken: token, aud: 'aud-echo' });
  ui = await startUiProcess(join(mkdtempSync(join(tmpdir(), 'airlock-e2e-layout-')), 'resources.json'), edge.caFile, {
    AIRLOCK_E2E_LOGIN_TOKEN: token,
  });
  page = await browser.newPage();
  await page.goto(ui.url);
  await addResources();
});

test.afterAll(async () => {
  socket?.destroy();
  await page?.close();
  await ui?.stop();
  await edge?.close();
});

/** Everything in the app that sticks out of its box, its clipping container or the window. */
function layoutProblems(): Promise<string[]> {
  return page.evaluate((fullValues) => {
    const problems: string[] = [];
    const describe = (element: Element) => {
      const classes = Array.from(element.classList)
        .map((name) => `.${name}`)
        .join('');
      const text = (element.textContent ?? '').trim().slice(0, 30);
      return `${element.tagName.toLowerCase()}${classes}${text ? ` "${text}"` : ''}`;
    };
    const round = (value: number) => Math.round(value * 10) / 10;
    const root = document.documentElement;
    if (root.scrollWidth > innerWidth)
      problems.push(`the page scrolls sideways: scrollWidth ${root.scrollWidth} > innerWidth ${innerWidth}`);
    const viewport = { left: 0, right: root.clientWidth };
    // Only the outermost element that runs out is named, not each of its descendants.
    const runOut = new Set<Element>();

    for (const element of Array.from(document.querySelectorAll('.app *'))) {
      const style = getComputedStyle(element);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      // Text for screen readers only (visually hidden: clipped to nothing on purpose).
      if (style.clipPath !== 'none' || element.closest('.visually-hidden')) continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;

      // The box that would clip it: its nearest ancestor that does not let content overflow, else the
      // window. A scroll container (the dialog) counts as that box: sideways, nothing may leave it.
      let clip: { left: number; right: number } = viewport;
      let clipName = 'the window';
      for (let ancestor = element.parentElement; ancestor; ancestor = ancestor.parentElement) {
        if (getComputedStyle(ancestor).overflowX !== 'visible') {
          const ancestorBox = ancestor.getBoundingClientRect();
          clip = { left: Math.max(ancestorBox.left, 0), right: Math.min(ancestorBox.right, viewport.right) };
          clipName = describe(ancestor);
          break;
        }
      }
      if (box.right > clip.right + 1 || box.left < clip.left - 1) {
        runOut.add(element);
        if (!runOut.has(element.parentElement!))
          problems.push(
            `${describe(element)} runs out of ${clipName}: ${round(box.left)}–${round(box.right)} outside ${round(clip.left)}–${round(clip.right)}`,
          );
      }

      const parent = element.parentElement;
      if (parent && (style.position === 'static' || style.position === 'relative' || style.position === 'sticky')) {
        const parentBox = parent.getBoundingClientRect();
        if (box.right > parentBox.right + 1 || box.left < parentBox.left - 1) {
          problems.push(
            `${describe(element)} sticks out of ${describe(parent)}: ${round(box.left)}–${round(box.right)} outside ${round(parentBox.left)}–${round(parentBox.right)}`,
          );
        }
      }

      // Text wider than its own box: cut off (overflow hidden, ellipsis) or spilling over its neighbours.
      const formControl = /^(INPUT|SELECT|TEXTAREA)$/.test(element.tagName);
      if (!formControl && element.clientWidth > 0 && element.scrollWidth > element.clientWidth + 1) {
        problems.push(
          `${describe(element)} is too narrow for its content: scrollWidth ${element.scrollWidth} > clientWidth ${element.clientWidth} (overflow ${style.overflowX}, text-overflow ${style.textOverflow})`,
        );
      }
    }

    for (const selector of fullValues) {
      for (const element of Array.from(document.querySelectorAll<HTMLElement>(`.app ${selector}`))) {
        if (element.getClientRects().length === 0) continue;
        const cut = element.scrollWidth > element.clientWidth + 1;
        if (cut)
          problems.push(
            `${selector} "${element.textContent}" is cut: scrollWidth ${element.scrollWidth} > clientWidth ${element.clientWidth}`,
          );
        if (getComputedStyle(element).textOverflow === 'ellipsis' && cut)
          problems.push(`${selector} "${element.textContent}" ends in an ellipsis`);
      }
    }
    return problems;
  }, FULL_VALUES);
}

async function box(selector: string) {
  const found = await page.locator(selector).first().boundingBox();
  expect(found, `${selector} is on the page`).not.toBeNull();
  return found!;
}

/** Three resources with long hostnames and tags; one connected through a signed-in edge, its counters moving. */
async function addResources() {
  const echoPort = await freePort();
  const resources = [
    {
      name: 'warehouse',
      hostname: LONG_HOSTNAME,
      localPort: 15432,
      kind: 'postgres',
      tags: ['prod', 'databases', 'eu-west-1'],
    },
    {
      name: 'echo',
      hostname: 'echo-service.eu-west-1.internal.example.com',
      localPort: echoPort,
      localHost: '127.100.200.250',
      edge: edge.url,
      kind: 'other',
      tags: ['staging', 'echo'],
    },
    {
      name: 'cache',
      hostname: 'redis.eu-west-1.internal.example.com',
      localPort: await freePort(),
      edge: 'https://edge.eu-west-1.internal.example.com:8443',
      kind: 'redis',
      tags: ['cache'],
    },
  ];
  await page.getByTestId('import-file').setInputFiles({
    name: 'resources.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ resources })),
  });
  await expect(page.locator('.resource')).toHaveCount(3);

  const row = page.locator('.resource[data-name="echo"]');
  await row.getByRole('switch').click();
  await expect(row.getByTestId('local-address')).toHaveText(`127.100.200.250:${echoPort}`);
  socket = net.connect(echoPort, '127.100.200.250');
  socket.on('data', () => {});
  socket.write(Buffer.alloc(150_000, 'x'));
  await expect(row.getByTestId('counters')).toContainText('146.5 KiB');
  // Sections per edge: the signed-in edge's header names the account (another edge's may come first).
  await expect(page.locator('.edge-account').filter({ hasText: email }).first()).toBeVisible();
  await expect(page.locator('.toast'), 'the import toast has gone').toHaveCount(0);
}

async function chooseTheme(theme: (typeof THEMES)[number]) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: theme === 'dark' ? 'Dark' : 'Light' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
  await page.getByRole('button', { name: 'Resources' }).click();
}

for (const theme of THEMES) {
  for (const { width, height } of VIEWPORTS) {
    test(`${width}×${height}, ${theme}: nothing overflows and every hostname and port is shown in full`, async () => {
      await page.setViewportSize({ width, height });
      await chooseTheme(theme);
      await expect(page.locator('.resource')).toHaveCount(3);
      await page.screenshot({ path: `${SHOTS}/30-layout-${width}x${height}-${theme}.png`, fullPage: true });

      expect.soft(await layoutProblems()).toEqual([]);

      const search = await box('.search input');
      expect.soft(search.width, 'search box width').toBeGreaterThanOrEqual(140);

      const counters = page.getByTestId('counters');
      const { height: countersHeight, lineHeight } = await counters.evaluate((element) => ({
        height: element.getBoundingClientRect().height,
        lineHeight: parseFloat(getComputedStyle(element).lineHeight),
      }));
      expect
        .soft(countersHeight, `counters' height (line height ${lineHeight})`)
        .toBeLessThanOrEqual(2 * lineHeight + 1);

      const brand = await box('.brand');
      const nav = await box('nav');
      const toggle = await box('.resource[data-name="warehouse"] .toggle');
      const main = await box('.resource[data-name="warehouse"] .resource-main');
      const menu = await box('.resource[data-name="warehouse"] .menu-anchor');
      expect.soft(nav.y, 'brand and nav share a row').toBeLessThan(brand.y + brand.height);
      expect.soft(main.x, 'toggle and details share a row').toBeGreaterThanOrEqual(toggle.x + toggle.width);
      expect.soft(menu.y, 'the menu button on the name’s line').toBeLessThan(main.y + main.height);
      expect.soft(menu.x, 'the menu button at the end of the row').toBeGreaterThanOrEqual(main.x + main.width);
    });
  }
}

for (const { width, height } of VIEWPORTS.filter((viewport) => viewport.width === 360 || viewport.width === 1280)) {
  for (const theme of THEMES) {
    test(`${width}×${height}, ${theme}: the add form fits the window, its buttons in reach`, async () => {
      await page.setViewportSize({ width, height });
      await chooseTheme(theme);
      await page.getByRole('button', { name: 'Add resource' }).first().click();
      const dialog = page.locator('.dialog');
      await expect(dialog).toBeVisible();
      await page.screenshot({ path: `${SHOTS}/30-layout-${width}x${height}-${theme}-add-dialog.png` });

      expect.soft(await layoutProblems()).toEqual([]);
      const frame = (await dialog.boundingBox())!;
      expect.soft(frame.y, 'dialog top').toBeGreaterThanOrEqual(0);
      expect.soft(frame.y + frame.height, 'dialog bottom').toBeLessThanOrEqual(height);
      // Without scrolling: the submit button is inside the window and nothing covers it.
      const submit = page.getByRole('button', { name: 'Add resource', exact: true }).last();
      const button = (await submit.boundingBox())!;
      expect.soft(button.x, 'submit left').toBeGreaterThanOrEqual(0);
      expect.soft(button.x + button.width, 'submit right').toBeLessThanOrEqual(width);
      expect.soft(button.y, 'submit top').toBeGreaterThanOrEqual(0);
      expect.soft(button.y + button.height, 'submit bottom').toBeLessThanOrEqual(height);
      expect
        .soft(
          await submit.evaluate((element) => {
            const { left, top, width: w, height: h } = element.getBoundingClientRect();
            return element.contains(document.elementFromPoint(left + w / 2, top + h / 2));
          }),
          'submit is not covered',
        )
        .toBe(true);

      await page.locator('#field-name').fill('x');
      await page.locator('#field-hostname').fill('bad host');
      await submit.click();
      await expect(page.locator('#error-hostname')).toBeVisible();
      expect.soft(await layoutProblems()).toEqual([]);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await expect(dialog).toHaveCount(0);
    });
  }
}

test('360×640: browse, settings and logs fit too', async () => {
  await page.setViewportSize({ width: 360, height: 640 });
  await page.getByRole('button', { name: 'Browse' }).click();
  // The stand-in edge lists no applications: the view shows why.
  await expect(page.locator('.browse-edge [role=alert]')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/30-layout-360x640-browse.png`, fullPage: true });
  expect.soft(await layoutProblems(), 'Browse').toEqual([]);
  for (const view of ['Settings', 'Logs']) {
    await page.getByRole('button', { name: view }).click();
    await expect(page.getByRole('heading', { name: view })).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/30-layout-360x640-${view.toLowerCase()}.png`, fullPage: true });
    expect.soft(await layoutProblems(), view).toEqual([]);
  }
  await page.getByRole('button', { name: 'Resources' }).click();
});
