// Drives a real, headless Chromium (Debian's `chromium`) through the npm
// package `playwright-core`, for Mortar's web view tests.
//
//   launch()                      a fresh browser with an empty profile in a temp
//                                 dir: { context, page, close() }
//   signIn(page, {login, password})
//                                 fills the test IdP's login page (tests/idp), which
//                                 the page is on or about to show, presses "Sign in"
//                                 and waits until the page has left the login page;
//                                 throws with the page's message when it is rejected
//   shot(page, dir, name)         saves a screenshot of the whole page as dir/name.png
//
// The browser is $MORTAR_TEST_CHROMIUM, else `chromium` on PATH.

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function chromiumPath() {
  if (process.env.MORTAR_TEST_CHROMIUM) return process.env.MORTAR_TEST_CHROMIUM;
  const found = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')).find(existsSync);
  if (!found) throw new Error('chromium not found: install Debian\'s chromium or set MORTAR_TEST_CHROMIUM');
  return found;
}

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'mortar-browser-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] ?? await context.newPage();
    const close = async () => {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    };
    return { context, page, close };
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
}

const onLoginPage = (url) => url.pathname.startsWith('/interaction/');

export async function signIn(page, { login, password }) {
  const loginField = page.locator('input[name="login"]');
  await loginField.waitFor();
  await loginField.fill(login);
  await page.locator('input[name="password"]').fill(password);
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && onLoginPage(new URL(r.url())));
  await page.getByRole('button', { name: 'Sign in' }).click();
  const response = await posted;
  if (response.status() >= 400) {
    const message = /role="alert">([^<]*)</.exec(await response.text())?.[1] ?? `HTTP ${response.status()}`;
    throw new Error(`sign-in as ${login} rejected: ${message}`);
  }
  await page.waitForURL((url) => !onLoginPage(url));
}

export async function shot(page, dir, name) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
