// The Security page (SPEC.md section 9) in a real browser: two-factor sign-in with the QR
// code read back from the screen (jsQR) and codes computed here by an independent TOTP
// library (otpauth), personal tokens used from the test as a script would, and a session
// ended from another browser.
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
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await accessible(page);
  // The code of the step before now: the current and next steps stay free for the sign-in.
  await page.getByLabel('One-time code').fill(totp.generate({ timestamp: Date.now() - 30_000 }));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('heading', { name: 'Recovery codes' })).toBeVisible();
  await expect(page.locator('ol.codes li')).toHaveCount(10);
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
