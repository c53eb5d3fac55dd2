// Debian's Chromium driven by playwright-core: the real login page, clicked like a person would.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (Debian package chromium)`;

/**
 * `mapToLoopback`: host patterns (e.g. "*.airlock.test") Chromium resolves to 127.0.0.1, so a test
 * can use names as users do while every byte stays on this machine.
 */
export function launchChromium(options: { mapToLoopback?: string[] } = {}): Promise<Browser> {
  const rules = (options.mapToLoopback ?? []).map((pattern) => `MAP ${pattern} 127.0.0.1`).join(', ');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...(rules ? [`--host-resolver-rules=${rules}`] : []),
    ],
  });
}

/** Opens the sign-in URL, fills the IdP's form, and returns the text of the page it ends on. */
export async function signInInBrowser(
  browser: Browser,
  url: string,
  email: string,
  password: string,
  caTrusted = false,
): Promise<string> {
  const context = await browser.newContext({ ignoreHTTPSErrors: !caTrusted });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await Promise.all([
      page.waitForURL(/127\.0\.0\.1:\d+\/callback/, { timeout: 15_000 }).catch(() => undefined),
      page.click('button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    return (await page.textContent('body')) ?? '';
  } finally {
    await context.close();
  }
}
