import { ADMIN, ADMIN_PASSWORD, expect, hydrated, row, test } from './helpers';

test('the login page renders on the server and becomes interactive after hydration', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });

  // The server-rendered HTML already holds the form, before any script runs.
  const response = await page.request.get('/login');
  expect(response.status()).toBe(200);
  expect(await response.text()).toContain('id="login-password"');

  await page.goto('/login');
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();

  // Only the hydrated page reacts to this button.
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(password).toHaveAttribute('type', 'text');

  expect(errors).toEqual([]);
});

test('a page whose code arrives after the session is known hydrates, and shows its data', async ({ page }) => {
  // Signed in as after a login, on the login page: it loads the frame only, so the
  // signed-in pages' code (the lazy split) is not in the cache yet.
  const signIn = await page.request.post('/v1/authorization', { data: { user: ADMIN, password: ADMIN_PASSWORD } });
  const token = (await signIn.json()).token as string;
  await page.goto('/login');
  await hydrated(page);
  await page.evaluate((token) => localStorage.setItem('ote.session', JSON.stringify({ token, obtained: Date.now() })), token);
  // Hydration waits for the page's code. Held back here until the session's own call
  // (GET /v1/authorization, made by the frame, already hydrated) is answered, the users
  // page hydrates with the caller known, where the server rendered it without one: the
  // page must still match the server's HTML (or the WASM panics and the page stays dead,
  // as the fixture reports) and then show the list.
  let sessionKnown!: () => void;
  const known = new Promise<void>((resolve) => (sessionKnown = resolve));
  page.on('response', (response) => {
    if (response.request().method() === 'GET' && response.url().endsWith('/v1/authorization')) sessionKnown();
  });
  let held = 0;
  await page.route(/\/pkg\/(chunk_\d+|split_\w+)\.wasm$/, async (route) => {
    held += 1;
    await known;
    await new Promise((resolve) => setTimeout(resolve, 200));
    await route.continue();
  });
  await page.goto('/users');
  await hydrated(page);
  expect(held).toBeGreaterThan(0);
  await expect(row(page, 'user', ADMIN)).toBeVisible();
});

test('the Content-Security-Policy lets the hydration script run and stops an injected one', async ({ page }) => {
  const response = await page.goto('/login');
  const policy = response!.headers()['content-security-policy'];
  expect(policy).toContain("frame-ancestors 'none'");
  const nonce = /'nonce-([^']+)'/.exec(policy)![1];
  await expect(page.locator('[data-hydrated="true"]')).toBeVisible();
  // The page hydrated, so its nonced script ran. A script without that nonce does not.
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true;';
    document.body.appendChild(script);
    return (window as unknown as { injected?: boolean }).injected === true;
  });
  expect(ran).toBe(false);
  // Each response has its own nonce.
  const again = await page.request.get('/login');
  expect(again.headers()['content-security-policy']).not.toContain(nonce);
});
