// "First visit" for ./x bench (issues 14 and 24): Debian's chromium driven by Playwright, a
// cold cache each time (a new browser context), over loopback.
//
// node bench/first-visit.mjs PORTAL_URL ADMIN_PASSWORD [VISITS] [PAGE] prints
// "p50_ms p99_ms max_ms". PAGE is `users` (the default) or `login`, timed from the
// navigation's start:
// - users: a new context whose localStorage already holds a fresh token (as after a login),
//   `page.goto('/users')`, until the first user row is visible: the document, the bundle
//   (wasm and js, nothing cached; with the split, the pages' part too), hydration and the
//   list's request;
// - login: a new context without a session, `page.goto('/login')`, until the page has
//   hydrated (`data-hydrated`, as the end-to-end tests wait for it): what a person's first
//   visit loads before the form answers.
// With FIRST_VISIT_LINK="RTT_MS MBIT" the page's network is that link (Chrome's own
// throttling: each request waits the round trip, bytes arrive at that rate), as a person
// elsewhere on the network would load it; without it, loopback.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const [portal, password, visits = '20', visited = 'users'] = process.argv.slice(2);
if (!['users', 'login'].includes(visited)) throw new Error(`PAGE is users or login, not ${visited}`);
const link = process.env.FIRST_VISIT_LINK;

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
  const origins = visited === 'users'
    ? [{ origin: portal, localStorage: [{ name: 'ote.session', value: JSON.stringify({ token: await token(), obtained: Date.now() }) }] }]
    : [];
  const context = await browser.newContext({ storageState: { cookies: [], origins } });
  const page = await context.newPage();
  if (link) {
    const [latency, mbit] = link.split(' ').map(Number);
    const bytesPerSecond = (mbit * 1_000_000) / 8;
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency, downloadThroughput: bytesPerSecond, uploadThroughput: bytesPerSecond,
    });
  }
  const begun = performance.now();
  await page.goto(`${portal}/${visited}`);
  const ready = visited === 'users' ? page.locator('tr[data-user="admin"]') : page.locator('[data-hydrated="true"]');
  await ready.waitFor({ state: visited === 'users' ? 'visible' : 'attached', timeout: 30_000 });
  times.push(performance.now() - begun);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))];
console.log(`${times[Math.floor(times.length / 2)].toFixed(0)} ${p99.toFixed(0)} ${times[times.length - 1].toFixed(0)}`);
