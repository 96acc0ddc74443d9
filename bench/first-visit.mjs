// "First visit to /users until the table shows" for ./x bench (issue 14): Debian's chromium
// driven by Playwright, a cold cache each time (a new browser context), over loopback.
//
// node bench/first-visit.mjs PORTAL_URL ADMIN_PASSWORD [VISITS] prints "p50_ms p99_ms max_ms".
// Each visit: a new context whose localStorage already holds a fresh token (as after a
// login), then `page.goto('/users')`, timed from the navigation's start to the first user
// row being visible: the document, the bundle (wasm and js, nothing cached), hydration and
// the list's request.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const [portal, password, visits = '20'] = process.argv.slice(2);

async function token() {
  const reply = await fetch(`${portal}/v1/authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'admin', password }),
  });
  return (await reply.json()).token;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const times = [];
for (let i = 0; i < Number(visits); i++) {
  const session = { token: await token(), obtained: Date.now() };
  const context = await browser.newContext({
    storageState: { cookies: [], origins: [{ origin: portal, localStorage: [{ name: 'ote.session', value: JSON.stringify(session) }] }] },
  });
  const page = await context.newPage();
  const begun = performance.now();
  await page.goto(`${portal}/users`);
  await page.locator('tr[data-user="admin"]').waitFor({ state: 'visible', timeout: 30_000 });
  times.push(performance.now() - begun);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))];
console.log(`${times[Math.floor(times.length / 2)].toFixed(0)} ${p99.toFixed(0)} ${times[times.length - 1].toFixed(0)}`);
