// The Security page (SPEC.md section 9) in a real browser: two-factor sign-in with the QR
// code read back from the screen (jsQR) and codes computed here by an independent TOTP
// library (otpauth), turning it off with the password and a one-time or recovery code,
// personal tokens used from the test as a script would, the sessions list's devices, and a
// session ended from another browser.
import { APIRequestContext, Browser, Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { ADMIN, ADMIN_PASSWORD, PASSWORD, accessible, expect, hydrated, login, test, uniq, uniqPhone } from './helpers';

/** A registered and approved user, made through the API. */
async function approvedUser(request: APIRequestContext): Promise<string> {
  const name = uniq('sec');
  const registered = await request.post('/v1/user', {
    data: { user: name, password: PASSWORD, phone: uniqPhone(), realName: `${name} Real`, isAdmin: false },
  });
  expect(registered.status()).toBe(200);
  const id = (await registered.json()).data.id;
  const admin = await request.post('/v1/authorization', { data: { user: ADMIN, password: ADMIN_PASSWORD } });
  const token = (await admin.json()).token;
  const approved = await request.put(`/v1/admin/user/${id}`, { headers: { Authorization: token }, data: { status: 1 } });
  expect(approved.status()).toBe(200);
  return name;
}

async function person(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

async function openSecurity(page: Page) {
  await page.getByRole('link', { name: 'Security' }).click();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Two-factor sign-in' })).toBeVisible();
}

/** The codes of a key as an authenticator app computes them (otpauth, not the server's library). */
function authenticator(secret: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
}

/** Sets up two-factor sign-in on the open Security page; the app and the recovery codes. */
async function enrol(page: Page): Promise<{ totp: OTPAuth.TOTP; recovery: string[] }> {
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const totp = authenticator((await page.locator('#totp-secret').textContent())!.trim());
  // The code of the step before now: the current and next steps stay free.
  await page.getByLabel('One-time code').fill(totp.generate({ timestamp: Date.now() - 30_000 }));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('heading', { name: 'Recovery codes' })).toBeVisible();
  return { totp, recovery: (await page.locator('ol.codes li').allTextContents()).map((c) => c.trim()) };
}

test('enrol with a scanned key, sign out, and sign in again with a one-time code', async ({ page, request }) => {
  const name = await approvedUser(request);
  await login(page, name, PASSWORD);
  await openSecurity(page);
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await expect(page.locator('.qr svg')).toBeVisible();
  const secret = (await page.locator('#totp-secret').textContent())!.trim();
  // What a phone's camera would read: the QR code as pixels, decoded by jsQR.
  const image = PNG.sync.read(await page.locator('.qr').screenshot());
  const scanned = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(scanned?.data).toBe(`otpauth://totp/OTE%20Portal:${name}?secret=${secret}&issuer=OTE%20Portal`);
  const totp = authenticator(secret);
  await accessible(page);
  // The code of the step before now: the current and next steps stay free for the sign-in.
  await page.getByLabel('One-time code').fill(totp.generate({ timestamp: Date.now() - 30_000 }));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('heading', { name: 'Recovery codes' })).toBeVisible();
  await expect(page.locator('ol.codes li')).toHaveCount(10);
  const recovery = (await page.locator('ol.codes li').allTextContents()).map((c) => c.trim());
  await expect(page.getByRole('link', { name: 'Download' })).toHaveAttribute('download', /recovery-codes/);
  await accessible(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await hydrated(page);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByText('Enter the one-time code')).toBeVisible();
  await page.getByLabel('One-time code').fill('000000');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByText('The code is not valid or was used already.')).toBeVisible();
  await page.getByLabel('One-time code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).not.toHaveURL(/\/login/);
  await openSecurity(page);
  await expect(page.locator('[data-totp="on"]')).toBeVisible();

  // Off again: the password and a code, both checked here first, then by the server. Both
  // steps of the authenticator near now are spent, so a recovery code does it.
  const password = page.getByLabel('Password', { exact: true });
  const code = page.getByLabel('One-time code');
  await expect(code).toHaveAttribute('autocomplete', 'one-time-code');
  await page.getByRole('button', { name: 'Turn off' }).click();
  await expect(page.locator('#totp-password-error')).toHaveText('is required');
  await expect(page.locator('#totp-off-code-error')).toHaveText('is required');
  await expect(code).toHaveAttribute('aria-invalid', 'true');
  await password.fill(PASSWORD);
  await code.fill('000000');
  await page.getByRole('button', { name: 'Turn off' }).click();
  await expect(page.locator('#totp-off-code-error')).toHaveText('The code is not valid or was used already.');
  await expect(page.locator('#totp-password-error')).toBeEmpty();
  await expect(page.locator('[data-totp="on"]')).toBeVisible();
  await accessible(page);
  await code.fill(recovery[0]);
  await page.getByRole('button', { name: 'Turn off' }).click();
  await expect(page.locator('[data-totp="off"]')).toBeVisible();
});

test('two-factor sign-in turns off with the password and a current one-time code', async ({ page, request }) => {
  const name = await approvedUser(request);
  await login(page, name, PASSWORD);
  await openSecurity(page);
  const { totp } = await enrol(page);
  await page.goto('/security');
  await hydrated(page);
  await expect(page.locator('[data-totp="on"]')).toBeVisible();
  // A code alone is not enough.
  await page.getByLabel('One-time code').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn off' }).click();
  await expect(page.locator('#totp-password-error')).toHaveText('is required');
  await expect(page.locator('#totp-off-code-error')).toBeEmpty();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  // The current step: the enrolment spent the one before.
  await page.getByLabel('One-time code').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn off' }).click();
  await expect(page.locator('[data-totp="off"]')).toBeVisible();
  // Off for signing in too: the password alone does it now.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await login(page, name, PASSWORD);
});

test('a personal token made on the page works from a script until revoked', async ({ page, request }) => {
  const name = await approvedUser(request);
  await login(page, name, PASSWORD);
  await openSecurity(page);
  await page.getByLabel('Token name').fill('deploy script');
  await page.getByLabel('Scope').selectOption('read');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.locator('#new-token').inputValue();
  expect(token).toMatch(/^otep_[0-9a-f]{64}$/);
  await expect(page.locator('tr[data-token="deploy script"]')).toContainText('read');
  await accessible(page);

  const me = await request.get('/v1/authorization', { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).data.displayName).toBe(name);
  const write = await request.post('/v1/business', {
    headers: { Authorization: token },
    data: { name: 'x', introduce: 'x', objective: 'x', scale: '1' },
  });
  expect(write.status()).toBe(403);

  await page.locator('tr[data-token="deploy script"]').getByRole('button', { name: 'Revoke' }).click();
  await expect(page.locator('tr[data-token="deploy script"]')).toHaveCount(0);
  const after = await request.get('/v1/authorization', { headers: { Authorization: token } });
  expect(after.status()).toBe(401);
});

test('the sessions list names each device, with the agent as it came on hover', async ({ page, request }) => {
  const name = await approvedUser(request);
  // Three more places signed in, each with its own agent.
  const agents: [string, string][] = [
    ['Firefox on Windows', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'],
    [
      'Safari on iOS',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1',
    ],
    ['curl', 'curl/8.5.0'],
  ];
  for (const [, agent] of agents) {
    const signedIn = await request.post('/v1/authorization', {
      headers: { 'User-Agent': agent },
      data: { user: name, password: PASSWORD },
    });
    expect(signedIn.status()).toBe(200);
  }
  await login(page, name, PASSWORD);
  await openSecurity(page);
  // This browser: Debian's chromium, headless, on Linux.
  const mine = page.locator('#sessions tr[data-current="true"] .device');
  await expect(mine).toHaveText('Chrome on Linux');
  await expect(mine).toHaveAttribute('title', await page.evaluate(() => navigator.userAgent));
  for (const [device, agent] of agents) {
    await expect(page.locator(`#sessions tr[data-current="false"] .device[title="${agent}"]`)).toHaveText(device);
  }
  await expect(page.locator('#sessions tbody')).not.toContainText('Mozilla/5.0');
  await accessible(page);
  await page.getByLabel('Language').selectOption('zh-CN');
  await expect(page.locator(`#sessions .device[title="${agents[0][1]}"]`)).toHaveText('Windows 上的 Firefox');
});

test('ending another browser\'s session sends that browser to the login form', async ({ browser, request }) => {
  const name = await approvedUser(request);
  const laptop = await person(browser);
  const phone = await person(browser);
  await login(laptop, name, PASSWORD);
  await login(phone, name, PASSWORD);
  await openSecurity(laptop);
  const others = laptop.locator('#sessions tr[data-current="false"]');
  await expect(laptop.locator('#sessions tr[data-current="true"]')).toContainText('this device');
  await expect(others).toHaveCount(1);
  await others.getByRole('button', { name: 'End' }).click();
  await expect(others).toHaveCount(0);

  await phone.reload();
  await expect(phone).toHaveURL(/\/login\?reason=expired/);
  await expect(phone.getByText('Your session has ended')).toBeVisible();
  // The laptop carries on.
  await laptop.reload();
  await hydrated(laptop);
  await expect(laptop.locator('#sessions tr[data-current="true"]')).toBeVisible();
});
