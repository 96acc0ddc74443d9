import { test, expect } from '@playwright/test';

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
