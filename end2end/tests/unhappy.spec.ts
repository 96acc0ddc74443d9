// What goes wrong, and how the portal says so.
import { test, expect } from '@playwright/test';
import { PASSWORD, accessible, hydrated, login, register, uniq, uniqPhone } from './helpers';

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
