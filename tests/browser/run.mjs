// Runs one browser scenario in a fresh headless Chromium (see lib.mjs).
//
// Usage: node run.mjs SCENARIO.mjs
//
// SCENARIO.mjs exports `default async function (ctx)` with ctx:
//   page                     the Playwright page
//   signIn({login, password}) signIn() of lib.mjs on that page
//   shot(name)               saves $MORTAR_BROWSER_SHOTS/name.png (nothing when unset)
//   env                      process.env, for the URLs and names the test passes
//   expect                   asserts that throw with a clear message:
//                            expect(cond, msg), expect.equal(actual, expected, msg),
//                            expect.includes(text, part, msg),
//                            expect.rejects(promise, /pattern/, msg)
//
// On success it prints one JSON line, {"ok":true, ...what the scenario returned},
// and exits 0; on failure {"ok":false,"error":...,"url":...} (and the stack on
// stderr) and exits 1, after a screenshot `failure` when screenshots are on. The
// browser is always closed. The whole run is limited to
// $MORTAR_BROWSER_TIMEOUT_MS milliseconds (default 60000).

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { launch, signIn, shot } from './lib.mjs';

const show = (v) => inspect(v, { depth: 3, breakLength: Infinity });

function expect(cond, msg = 'expectation failed') {
  if (!cond) throw new Error(msg);
}
expect.equal = (actual, expected, msg = 'values differ') => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${msg}: expected ${show(expected)}, got ${show(actual)}`);
  }
};
expect.includes = (text, part, msg = 'missing text') => {
  if (!String(text).includes(part)) throw new Error(`${msg}: ${show(part)} not in ${show(text)}`);
};
expect.rejects = async (promise, pattern, msg = 'expected a failure') => {
  try {
    await promise;
  } catch (err) {
    if (pattern && !pattern.test(err.message)) throw new Error(`${msg}: ${show(err.message)} does not match ${pattern}`);
    return err;
  }
  throw new Error(`${msg}, but it succeeded`);
};

const scenarioPath = process.argv[2];
if (!scenarioPath) {
  console.error('usage: node run.mjs SCENARIO.mjs');
  process.exit(2);
}
const timeoutMs = Number(process.env.MORTAR_BROWSER_TIMEOUT_MS ?? 60000);
const shotsDir = process.env.MORTAR_BROWSER_SHOTS;

let browser;
let timer;
let code = 1;
try {
  const { default: scenario } = await import(pathToFileURL(resolve(scenarioPath)).href);
  if (typeof scenario !== 'function') throw new Error(`${scenarioPath} has no default export function`);
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  const run = (async () => {
    browser = await launch();
    const { page } = browser;
    return scenario({
      page,
      signIn: (credentials) => signIn(page, credentials),
      shot: async (name) => (shotsDir ? shot(page, shotsDir, name) : null),
      env: process.env,
      expect,
    });
  })();
  run.catch(() => {});
  const result = await Promise.race([run, timeout]);
  console.log(JSON.stringify({ ok: true, ...(typeof result === 'object' ? result : { result }) }));
  code = 0;
} catch (err) {
  const url = browser?.page.url();
  if (browser && shotsDir) await shot(browser.page, shotsDir, 'failure').catch(() => {});
  console.log(JSON.stringify({ ok: false, error: err.message, url }));
  console.error(err.stack ?? err);
} finally {
  clearTimeout(timer);
  const closing = browser?.close();
  await Promise.race([closing, new Promise((r) => { setTimeout(r, 10000).unref(); })]).catch(() => {});
}
process.exit(code);
