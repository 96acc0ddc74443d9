// What goes wrong, and how the portal says so.
import { ADMIN, ADMIN_PASSWORD, PASSWORD, accessible, expect, hydrated, login, register, row, test, uniq, uniqPhone } from './helpers';

test('registration shows each broken rule next to its field, and a taken name', async ({ page }) => {
  await page.goto('/register');
  await hydrated(page);
  await accessible(page);
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.locator('#register-user-error')).toContainText('2-32 characters');
  await expect(page.locator('#register-password-error')).toContainText('8-20 characters');
  await expect(page.locator('#register-phone-error')).toContainText('5-20 digits');
  await expect(page.locator('#register-real-name-error')).toContainText('1-64 characters');
  await expect(page.getByLabel('User name')).toHaveAttribute('aria-invalid', 'true');

  // The password checklist follows the typing.
  await page.getByLabel('Password', { exact: true }).fill('abc');
  await expect(page.locator('li[data-check="Lowercase"]')).toHaveClass('ok');
  await expect(page.locator('li[data-check="Uppercase"]')).toHaveClass('todo');
  await page.getByLabel('Password', { exact: true }).fill('Abcdefg1');
  await expect(page.locator('.checklist li.todo')).toHaveCount(0);

  // A taken name comes back from the server, next to the name.
  const name = uniq('dup');
  await register(page, name);
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('User name').fill(name.toUpperCase());
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Phone').fill(uniqPhone());
  await page.getByLabel('Real name').fill('Someone');
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page.locator('#register-user-error')).toHaveText('is already taken');
});

test('a wrong password, then throttling after five', async ({ page }) => {
  const name = uniq('thr');
  await register(page, name);
  await page.goto('/login');
  await hydrated(page);
  await accessible(page);
  for (let i = 0; i < 5; i++) {
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password', { exact: true }).fill('Wrong1pass');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'User name or password is incorrect.' })).toBeVisible();
  }
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: /Too many failed sign-ins\. Try again in \d+ seconds/ })).toBeVisible();
});

test('an old token is renewed once, however many calls need it at the same moment', async ({ page }) => {
  await login(page, ADMIN, ADMIN_PASSWORD);
  // The home page's own calls first: one of them still on its way would see the aged
  // token and renew it here, before the listener below.
  await page.waitForLoadState('networkidle');
  // Age the stored token past the renewal point (45 minutes of its hour).
  const before = await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem('ote.session')!);
    session.obtained = Date.now() - 50 * 60 * 1000;
    localStorage.setItem('ote.session', JSON.stringify(session));
    return session.token as string;
  });
  const renewals: string[] = [];
  page.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().endsWith('/v1/authorization')) renewals.push(request.url());
  });
  // The users page asks for the current user and the list at once: both need the renewal.
  await page.goto('/users');
  await hydrated(page);
  await expect(row(page, 'user', ADMIN)).toBeVisible();
  await expect(page).toHaveURL(/\/users$/);
  expect(renewals).toHaveLength(1);
  const after = await page.evaluate(() => JSON.parse(localStorage.getItem('ote.session')!));
  expect(after.token).not.toBe(before);
  expect(Date.now() - after.obtained).toBeLessThan(60 * 1000);
});

test('a pending user sees only its waiting state', async ({ page }) => {
  const name = uniq('wait');
  await register(page, name);
  await login(page, name, PASSWORD);
  await expect(page).toHaveURL(/\/awaiting/);
  await page.goto('/');
  await expect(page.locator('dd[data-role="0"]')).toHaveText('Awaiting approval');
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Business' })).toHaveCount(0);
  await accessible(page);
});

test('the language switch works on every page and is remembered', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Language').selectOption('zh-CN');
  await expect(page.getByRole('heading', { name: '登录' })).toBeVisible();
  await page.goto('/register');
  await expect(page.getByRole('heading', { name: '创建账号' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await hydrated(page);
  await page.getByRole('button', { name: '注册' }).click();
  await expect(page.locator('#register-password-error')).toContainText('8-20 个字符');
  await accessible(page);
  await page.getByLabel('语言').selectOption('en');
  await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
});

test('the login form works by keyboard alone, at 375 px wide', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  const name = uniq('kbd');
  await register(page, name);
  await page.goto('/login');
  await hydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(overflow).toBeLessThanOrEqual(375);
  await page.getByLabel('User name').focus();
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/awaiting/);
});

test('dark mode follows the system setting and stays readable', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/register');
  await hydrated(page);
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(17, 24, 29)');
  await page.getByRole('button', { name: 'Register' }).click();
  await accessible(page);
});
