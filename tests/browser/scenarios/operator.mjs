// An operator signs in, presses Sync on a manual app's page, and sees the
// history name them once the sync is done (the page updates itself).
//
// env: MORTAR_URL (the daemon), MORTAR_APP (the app to sync),
//      MORTAR_PERSON (how the history names the operator).

export default async function ({ page, signIn, shot, env, expect }) {
  const base = env.MORTAR_URL;
  const app = env.MORTAR_APP;
  await page.goto(`${base}/apps/${app}`);
  await signIn({ login: 'otto', password: 'otto-password' });
  await page.waitForURL(`${base}/apps/${app}`);
  await page.locator('h1').waitFor();
  await shot('app-before-sync');
  const sync = page.locator('button[data-command="sync"]').first();
  expect((await sync.count()) > 0, 'an operator sees Sync');
  expect.equal(await page.locator('button[data-command="pause"]').count(), 0, 'an operator may not pause');
  // The keyboard alone presses it.
  await sync.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/apps/${app}?did=sync`);
  expect.includes(await page.locator('[role="status"]').innerText(), 'Sync requested');
  // Live updates bring the sync into the history.
  await page.locator('td.by', { hasText: env.MORTAR_PERSON }).first().waitFor({ timeout: 30000 });
  const badge = await page.locator('h1 .badge').first().innerText();
  await shot('app-after-sync');
  await page.goto(`${base}/`);
  await page.locator('table.apps').waitFor();
  await shot('tree-operator');
  return { sync: badge };
}
