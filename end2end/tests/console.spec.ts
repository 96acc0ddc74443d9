// The console an operator meets first: the queue on the home page and in the navigation,
// approving from the lists, the business picker, cards at 375 px with the folded header,
// refusals in Chinese, and axe on every page.
import { APIRequestContext, Page } from '@playwright/test';
import {
  ADMIN,
  ADMIN_PASSWORD,
  PASSWORD,
  accessible,
  expect,
  hydrated,
  login,
  row,
  screenshot,
  test,
  uniq,
  uniqPhone,
} from './helpers';

async function token(request: APIRequestContext, user: string, password: string): Promise<string> {
  const reply = await request.post('/v1/authorization', { data: { user, password } });
  expect(reply.status()).toBe(200);
  return (await reply.json()).token;
}

/** Registers `name` (pending) and returns its id. */
async function registerApi(request: APIRequestContext, name: string, isAdmin = false): Promise<number> {
  const reply = await request.post('/v1/user', {
    data: { user: name, password: PASSWORD, phone: uniqPhone(), realName: `${name} Real`, isAdmin },
  });
  expect(reply.status()).toBe(200);
  return (await reply.json()).data.id;
}

/** An approved admin who requested `business` (pending): the business's id. */
async function requested(request: APIRequestContext, root: string, owner: string, business: string): Promise<number> {
  const id = await registerApi(request, owner, true);
  const approve = await request.put(`/v1/admin/user/${id}`, { headers: { Authorization: root }, data: { status: 1 } });
  expect(approve.status()).toBe(200);
  const mine = await token(request, owner, PASSWORD);
  const reply = await request.post('/v1/business', {
    headers: { Authorization: mine },
    data: { name: business, introduce: 'intro', objective: 'goal', scale: '10' },
  });
  expect(reply.status()).toBe(200);
  return (await reply.json()).data.id;
}

async function queue(request: APIRequestContext, root: string) {
  const reply = await request.get('/v1/admin/queue', { headers: { Authorization: root } });
  expect(reply.status()).toBe(200);
  return (await reply.json()).data as { pendingUsers: number; pendingBusinesses: number };
}

function nav(page: Page) {
  return page.getByRole('navigation', { name: 'main' });
}

test('the home page shows the queue first, its links open the filtered lists, and approving updates the badges', async ({ page, request }) => {
  test.setTimeout(90_000);
  const root = await token(request, ADMIN, ADMIN_PASSWORD);
  const waiting = uniq('wait');
  const owner = uniq('own');
  const business = uniq('queued-').toLowerCase();
  await registerApi(request, waiting);
  await requested(request, root, owner, business);
  const before = await queue(request, root);

  await login(page, ADMIN, ADMIN_PASSWORD);
  await hydrated(page);
  const users = page.locator('a[data-queue="/users?status=0"]');
  const businesses = page.locator('a[data-queue="/business?status=0"]');
  await expect(users.locator('.big-count')).toHaveText(String(before.pendingUsers));
  await expect(businesses.locator('.big-count')).toHaveText(String(before.pendingBusinesses));
  await expect(page.locator('ul.queue')).toContainText('the oldest waiting for');
  await expect(nav(page).getByRole('link', { name: /^Users/ })).toContainText(`${before.pendingUsers} pending`);
  await accessible(page);

  // The count of pending users leads to the list filtered to them; approving takes one click.
  await users.click();
  await expect(page).toHaveURL(/\/users\?status=0/);
  await hydrated(page);
  await expect(page.locator('#status-filter')).toHaveValue('0');
  await page.getByLabel('Search by name').fill(waiting);
  await row(page, 'user', waiting).getByRole('button', { name: 'Approve', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${waiting} approved` })).toBeVisible();
  const after = await queue(request, root);
  const usersLink = nav(page).getByRole('link', { name: /^Users/ });
  if (after.pendingUsers > 0) {
    await expect(usersLink).toContainText(`${after.pendingUsers} pending`);
  } else {
    await expect(usersLink.locator('.count')).toHaveCount(0);
  }

  // Likewise for businesses: the owner by name, rejected in one click.
  await page.goto('/');
  await hydrated(page);
  await businesses.click();
  await expect(page).toHaveURL(/\/business\?status=0/);
  await hydrated(page);
  await expect(page.locator('#business-status-filter')).toHaveValue('0');
  await page.getByLabel('Search by name').fill(business);
  await expect(row(page, 'business', business).getByRole('link', { name: owner })).toBeVisible();
  await accessible(page);
  await row(page, 'business', business).getByRole('button', { name: 'Reject', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: `${business} rejected` })).toBeVisible();
  await expect(row(page, 'business', business)).toHaveCount(0);
});

test('the system administrator picks a business by name when creating a user, and its admin sees it on the home page', async ({ page, request }) => {
  test.setTimeout(90_000);
  const root = await token(request, ADMIN, ADMIN_PASSWORD);
  const owner = uniq('boss');
  const business = uniq('picked-').toLowerCase();
  const id = await requested(request, root, owner, business);
  const approve = await request.put(`/v1/admin/business/${id}`, { headers: { Authorization: root }, data: { status: 1, comment: '' } });
  expect(approve.status()).toBe(200);

  await login(page, ADMIN, ADMIN_PASSWORD);
  await nav(page).getByRole('link', { name: /^Users/ }).click();
  await hydrated(page);
  const name = uniq('picked');
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Phone').fill(uniqPhone());
  await page.getByLabel('Real name').fill(`${name} Real`);
  // By keyboard alone: type part of the name, move to the match, choose it.
  const picker = page.getByRole('combobox', { name: 'Business' });
  await picker.fill(business.slice(0, -2));
  await expect(page.getByRole('option', { name: new RegExp(business) })).toBeVisible();
  await expect(picker).toHaveAttribute('aria-expanded', 'true');
  await accessible(page);
  await picker.press('ArrowDown');
  await picker.press('ArrowUp');
  const options = page.getByRole('listbox').getByRole('option');
  const index = (await options.allTextContents()).findIndex((t) => t.startsWith(business));
  for (let n = 0; n < index; n += 1) await picker.press('ArrowDown');
  await picker.press('Enter');
  await expect(picker).toHaveValue(business);
  await expect(picker).toHaveAttribute('aria-expanded', 'false');
  await page.getByRole('button', { name: 'Create a user' }).click();
  await expect(page.getByText(`${name} created`)).toBeVisible();
  const members = await request.get(`/v1/business/${id}/members`, { headers: { Authorization: root } });
  expect((await members.json()).data.map((u: { user: string }) => u.user)).toContain(name);

  // Its admin's home: the business by name, linked, and its members.
  await login(page, owner, PASSWORD);
  await hydrated(page);
  await expect(page.getByRole('link', { name: business })).toHaveAttribute('href', `/business/${id}`);
  await expect(page.locator('[data-members]')).toHaveText('2');
  await expect(page.locator('[data-pending]')).toHaveText('0');
  await accessible(page);

  // Its page names the owner and the members, each linked to the users page.
  await page.getByRole('link', { name: business }).click();
  await expect(page.getByRole('heading', { name: business })).toBeVisible();
  const memberList = page.locator('ul.members');
  await expect(memberList).toHaveAttribute('data-total', '2');
  await expect(memberList.getByRole('link', { name })).toHaveAttribute('href', `/users?name=${name}`);
  await expect(page.locator('.facts').getByRole('link', { name: owner })).toBeVisible();
  await accessible(page);
});

test('at 375 px lists are cards without sideways scrolling, and the header folds into a menu', async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 375, height: 800 });
  await login(page, ADMIN, ADMIN_PASSWORD);
  await hydrated(page);
  const menu = page.getByRole('button', { name: 'Menu' });
  const audit = nav(page).getByRole('link', { name: 'Audit log' });
  await expect(audit).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(audit).toBeVisible();
  await accessible(page);
  await nav(page).getByRole('link', { name: /^Users/ }).click();
  await expect(page).toHaveURL(/\/users/);
  await expect(audit).toBeHidden();
  for (const path of ['/users', '/business', '/', '/audit', '/webhooks', '/security']) {
    await page.goto(path);
    await hydrated(page);
    await expect(page.locator('main')).not.toContainText('Loading');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${path} scrolls sideways`).toBeLessThanOrEqual(375);
  }
  await page.goto('/users');
  await hydrated(page);
  const first = page.locator('tbody tr[data-user]').first();
  await expect(first).toBeVisible();
  // A card: the cells stack, each under its column's name.
  expect(await first.evaluate((tr) => getComputedStyle(tr).display)).toBe('block');
  await screenshot(page, 'users-375');
  await accessible(page);
});

test('a 409 is shown in Chinese in the Chinese page', async ({ page }) => {
  await login(page, ADMIN, ADMIN_PASSWORD);
  await nav(page).getByRole('link', { name: /^Users/ }).click();
  await hydrated(page);
  await page.getByLabel('Language').selectOption('zh-CN');
  await expect(page.getByRole('heading', { name: '用户', exact: true })).toBeVisible();
  // The system administrator's name is taken: the server answers 409 `user: is already taken`.
  await page.locator('#create-user').fill(ADMIN);
  await page.locator('#create-password').fill(PASSWORD);
  await page.locator('#create-phone').fill(uniqPhone());
  await page.locator('#create-real-name').fill('Taken');
  await page.getByRole('button', { name: '创建用户' }).click();
  await expect(page.locator('#create-user-error')).toHaveText('该用户名已被占用');
  await screenshot(page, 'users-zh');
  await accessible(page);
  await page.getByLabel('语言').selectOption('en');
});

test('every page passes axe, in both languages', async ({ page }) => {
  test.setTimeout(90_000);
  await login(page, ADMIN, ADMIN_PASSWORD);
  for (const lang of ['en', 'zh-CN']) {
    await page.goto('/');
    await hydrated(page);
    await page.locator('.lang select').selectOption(lang);
    for (const path of ['/', '/users', '/users?status=0', '/business', '/business?status=0', '/audit', '/webhooks', '/security']) {
      await page.goto(path);
      await hydrated(page);
      await expect(page.locator('main')).not.toContainText(lang === 'en' ? 'Loading' : '加载');
      await accessible(page);
    }
  }
  await page.locator('.lang select').selectOption('en');
});
