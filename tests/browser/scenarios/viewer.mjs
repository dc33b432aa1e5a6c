// A viewer signs in and sees the app tree: every app with its sync status
// and health, no Sync button anywhere, and a Sync posted by hand from the
// page is refused with 403.
//
// env: MORTAR_URL (the daemon), MORTAR_APPS (comma-separated app names).

export default async function ({ page, signIn, shot, env, expect }) {
  const base = env.MORTAR_URL;
  await page.goto(`${base}/`);
  await signIn({ login: 'vera', password: 'vera-password' });
  await page.waitForURL(`${base}/`);
  await page.locator('table.apps').waitFor();
  const header = await page.locator('header.top').innerText();
  expect.includes(header, 'Signed in as vera', 'the header names the viewer');
  for (const app of env.MORTAR_APPS.split(',')) {
    const row = page.locator(`tr[data-app="${app}"]`);
    await row.waitFor();
    const text = await row.innerText();
    expect(/Synced|OutOfSync|Unknown/.test(text), `${app} shows its sync status: ${text}`);
    expect(/Healthy|Progressing|Degraded|Blocked|Error/.test(text), `${app} shows its health: ${text}`);
  }
  expect.equal(await page.locator('button[data-command]').count(), 0, 'a viewer sees no buttons');
  await shot('tree-viewer');

  const first = env.MORTAR_APPS.split(',')[0];
  await page.goto(`${base}/apps/${first}`);
  await page.locator('h1').waitFor();
  expect.equal(await page.locator('button[data-command]').count(), 0, 'no buttons on the app page');
  await shot('app-viewer');

  // The API refuses what the page does not offer.
  const answer = await page.evaluate(async (app) => {
    const me = await (await fetch('/auth/me')).json();
    const r = await fetch(`/api/v1/apps/${app}/sync`, { method: 'POST', headers: { 'X-CSRF-Token': me.csrf } });
    return { status: r.status, body: await r.json() };
  }, first);
  expect.equal(answer.status, 403, 'a direct POST by a viewer');
  return { refused: answer.body.message };
}
