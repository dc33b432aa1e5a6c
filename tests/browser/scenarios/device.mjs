// A person approves a terminal's device sign-in: opens the URL the CLI
// printed (its code filled in), confirms the code, and signs in.
//
// env: MORTAR_DEVICE_URL, MORTAR_LOGIN, MORTAR_PASSWORD.

export default async function ({ page, signIn, shot, env, expect }) {
  await page.goto(env.MORTAR_DEVICE_URL);
  await page.getByRole('button', { name: 'Continue' }).click();
  await signIn({ login: env.MORTAR_LOGIN, password: env.MORTAR_PASSWORD });
  await page.getByRole('heading', { name: 'Device signed in' }).waitFor();
  await shot('device-signed-in');
  expect.includes(await page.content(), 'You can close this page');
  return {};
}
