// The unsplit build (plain `cargo leptos build --release`, no `--split`: one bundle) gives
// working pages too. ../x serves that site from a second portal, the same server binary,
// and passes its URL here as UNSPLIT_PORTAL_URL (the split portal's stays PORTAL_URL).
import { APIRequestContext, Page } from '@playwright/test';
import { ADMIN, ADMIN_PASSWORD, expect, hydrated, login, row, test } from './helpers';

const unsplitURL = process.env.UNSPLIT_PORTAL_URL;
const splitURL = process.env.PORTAL_URL;

test.skip(
  !unsplitURL,
  'UNSPLIT_PORTAL_URL is not set: these tests need a portal serving the unsplit site (./x e2e and ./x test start one)',
);
if (unsplitURL) test.use({ baseURL: unsplitURL });

/** The split build's own files: its loader script, its manifest and its wasm chunks. */
const SPLIT_FILE = /__wasm_split|\/pkg\/split_[^/]*\.wasm|\/pkg\/chunk_\d+\.wasm/;

/**
 * Collects what would show that a page of the unsplit build does not work: any page
 * error, any console error about the split's files (the broken build logged `Failed to
 * resolve module specifier "__wasm_split_placeholder__"`), and any request for one.
 */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && msg.text().includes('__wasm_split')) problems.push(`console error: ${msg.text()}`);
  });
  page.on('request', (request) => {
    if (SPLIT_FILE.test(request.url())) problems.push(`requested a split file: ${request.url()}`);
  });
  return problems;
}

/** The page's HTML as served, and the text of the script module it loads. */
async function served(request: APIRequestContext, url: string) {
  const response = await request.get(url);
  expect(response.status()).toBe(200);
  const html = await response.text();
  const script = /<link rel="modulepreload" href="([^"]+\.js)"/.exec(html)?.[1];
  expect(script, `the script of ${url}`).toBeTruthy();
  const js = await request.get(new URL(script!, url).toString());
  expect(js.status()).toBe(200);
  return { html, js: await js.text() };
}

/**
 * A test in a browser page, watched (`watch`): it fails on any problem seen, and a step
 * that fails (a page that does not hydrate only times out) says what the page reported.
 */
function watchedTest(name: string, body: (page: Page) => Promise<void>) {
  test(name, async ({ page }) => {
    const problems = watch(page);
    try {
      await body(page);
    } catch (err) {
      const seen = problems.join('\n  ') || 'no page error, split console error or split request';
      throw new Error(`at ${page.url()}, after:\n  ${seen}\n${err instanceof Error ? err.message : err}`);
    }
    expect(problems).toEqual([]);
  });
}

/**
 * Clicks a link of the main navigation and checks that the new page rendered in this
 * document: the router's client-side navigation, not a full page load.
 */
async function navigatesInPlace(page: Page, link: string | RegExp, path: string, heading: string) {
  await page.evaluate(() => ((window as unknown as { sameDocument?: boolean }).sameDocument = true));
  let loads = 0;
  const countLoads = (request: { resourceType(): string }) => {
    if (request.resourceType() === 'document') loads += 1;
  };
  page.on('request', countLoads);
  await page
    .getByRole('navigation', { name: 'main' })
    .getByRole('link', { name: link, exact: typeof link === 'string' })
    .click();
  await expect(page).toHaveURL((url) => url.pathname === path);
  await expect(page.getByRole('heading', { level: 1, name: heading, exact: true })).toBeVisible();
  page.off('request', countLoads);
  expect(loads, 'documents loaded by the navigation').toBe(0);
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
}

test('the unsplit portal serves the one-bundle build: no split file referenced, no split manifest', async ({ request }) => {
  for (const path of ['/login', '/users', '/security', '/applications']) {
    const { html, js } = await served(request, `${unsplitURL}${path}`);
    expect(html, `the HTML of ${path}`).not.toContain('__wasm_split');
    expect(html, `the HTML of ${path}`).not.toMatch(SPLIT_FILE);
    // Not `not.toContain`: its failure would print the whole script.
    expect(js.includes('__wasm_split'), `the script of ${path} imports the split loader`).toBe(false);
  }
  expect((await request.get(`${unsplitURL}/pkg/__wasm_split_manifest.json`)).status()).toBe(404);

  // The same checks tell the split portal apart: its script imports the split's loader.
  if (splitURL) {
    const { js } = await served(request, `${splitURL}/users`);
    expect(js.includes('__wasm_split'), 'the split portal\'s script imports the split loader').toBe(true);
    expect((await request.get(`${splitURL}/pkg/__wasm_split_manifest.json`)).status()).toBe(200);
  }
});

watchedTest('the login page of the unsplit build hydrates, reacts, and navigates in place', async (page) => {
  await page.goto('/login');
  await hydrated(page);
  // Only the hydrated page reacts to this button.
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(password).toHaveAttribute('type', 'text');
  // To a lazy route: its code is in the one bundle here.
  await navigatesInPlace(page, 'Register', '/register', 'Create an account');
});

// Each page loaded by itself (the server's HTML, hydrated), then a link to another.
const signedIn = [
  { path: '/users', heading: 'Users', next: { link: 'Security', path: '/security', heading: 'Security' } },
  { path: '/security', heading: 'Security', next: { link: 'Applications', path: '/applications', heading: 'Applications' } },
  { path: '/applications', heading: 'Applications', next: { link: /^Users/, path: '/users', heading: 'Users' } },
];

for (const { path, heading, next } of signedIn) {
  watchedTest(`${path} of the unsplit build hydrates for the administrator and navigates in place to ${next.path}`, async (page) => {
    await login(page, ADMIN, ADMIN_PASSWORD);
    await page.goto(path);
    await hydrated(page);
    await expect(page.getByRole('heading', { level: 1, name: heading, exact: true })).toBeVisible();
    await navigatesInPlace(page, next.link, next.path, next.heading);
    if (next.path === '/users') await expect(row(page, 'user', ADMIN)).toBeVisible();
  });
}
