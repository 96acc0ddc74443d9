import { Page, expect, test as base } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The tests' `test`: each fails if a page of its own context threw or the WASM panicked
 * (a hydration that does not match the server's HTML panics, leaving the page dead).
 */
export const test = base.extend<{ noPanics: void }>({
  noPanics: [
    async ({ context }, use) => {
      const problems: string[] = [];
      const watch = (page: Page) => {
        page.on('pageerror', (err) => problems.push(`${page.url()}: ${err.message}`));
        page.on('console', (msg) => {
          if (msg.type() === 'error' && msg.text().includes('panicked at')) problems.push(`${page.url()}: ${msg.text()}`);
        });
      };
      context.pages().forEach(watch);
      context.on('page', watch);
      await use();
      expect(problems, 'pages threw or panicked').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

export const ADMIN = 'admin';
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? 'E2eAdmin1pass';
export const PASSWORD = 'Story2024x';

let counter = 0;
/** A name no other test uses against the same server. */
export function uniq(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

let phone = Date.now() % 1_000_000_000;
export function uniqPhone(): string {
  phone += 1;
  return `+86${String(phone).padStart(11, '1')}`;
}

/** Waits for the WASM to take over the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator('[data-hydrated="true"]')).toBeAttached();
}

export async function login(page: Page, user: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

export async function register(page: Page, user: string, opts: { admin?: boolean; password?: string } = {}) {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(opts.password ?? PASSWORD);
  await page.getByLabel('Phone').fill(uniqPhone());
  await page.getByLabel('Real name').fill(`${user} Real`);
  if (opts.admin) await page.getByLabel('I will administer a team').check();
  await page.getByRole('button', { name: 'Register' }).click();
  await expect(page).toHaveURL(/\/awaiting/);
}

/** No serious or critical accessibility violations on the current page. */
export async function accessible(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

export async function screenshot(page: Page, name: string) {
  const dir = path.join(__dirname, '..', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/** The row of a user or business in a table. */
export function row(page: Page, attr: 'user' | 'business', name: string) {
  return page.locator(`tr[data-${attr}="${name}"]`);
}
