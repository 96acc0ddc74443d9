// The whole story of the portal, in a real browser, as three people in three windows.
import { Browser, Page } from '@playwright/test';
import {
  ADMIN,
  ADMIN_PASSWORD,
  PASSWORD,
  accessible,
  expect,
  hydrated,
  login,
  register,
  row,
  screenshot,
  test,
  uniq,
  uniqPhone,
} from './helpers';

async function person(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  return context.newPage();
}

test('register, approve, request and approve a business, manage the team, end sessions', async ({ browser }) => {
  test.setTimeout(120_000);
  const ann = uniq('ann');
  const ben = uniq('ben');
  const cid = uniq('cid');
  const business = uniq('edge-').toLowerCase();

  // A general admin registers and is told to wait.
  const annPage = await person(browser);
  await register(annPage, ann, { admin: true });
  await expect(annPage.getByRole('heading', { name: 'Awaiting approval' })).toBeVisible();
  await accessible(annPage);

  // The system administrator finds her in the pending queue and approves her.
  const root = await person(browser);
  await login(root, ADMIN, ADMIN_PASSWORD);
  await root.getByRole('navigation', { name: 'main' }).getByRole('link', { name: /^Users/ }).click();
  await hydrated(root);
  await root.getByRole('button', { name: 'Pending queue' }).click();
  await root.getByLabel('Search by name').fill(ann);
  await expect(row(root, 'user', ann)).toBeVisible();
  await expect(root.getByRole('button', { name: 'Next', exact: true })).toBeDisabled();
  // Clickable headers sort both ways, and say so.
  const byName = root.getByRole('columnheader', { name: /User name/ });
  await byName.getByRole('button').click();
  await expect(byName).toHaveAttribute('aria-sort', 'ascending');
  await byName.getByRole('button').click();
  await expect(byName).toHaveAttribute('aria-sort', 'descending');
  await screenshot(root, 'users');
  await accessible(root);
  await row(root, 'user', ann).getByRole('button', { name: 'Approve', exact: true }).click();
  await expect(root.getByRole('status').filter({ hasText: `${ann} approved` })).toBeVisible();

  // She signs in, sees her role, and requests a business.
  await login(annPage, ann, PASSWORD);
  await expect(annPage.locator('dd[data-role="1"]')).toHaveText('General admin');
  await screenshot(annPage, 'home');
  await accessible(annPage);
  await annPage.getByRole('link', { name: 'Business' }).click();
  await annPage.getByLabel('Business name').fill(business);
  await annPage.getByLabel('Introduction').fill('Edge sites in the north');
  await annPage.getByLabel('Objective').fill('Run inference close to the cameras');
  await annPage.getByLabel('Scale').fill('20 nodes');
  await accessible(annPage);
  await annPage.getByRole('button', { name: 'Request a business' }).click();
  await expect(row(annPage, 'business', business)).toContainText('Pending');

  // The system administrator approves it with a comment.
  await root.getByRole('navigation', { name: 'main' }).getByRole('link', { name: /^Businesses/ }).click();
  await root.getByLabel('Search by name').fill(business);
  await row(root, 'business', business).getByRole('link', { name: business }).click();
  await hydrated(root);
  await root.getByLabel('Comment').fill('Welcome aboard');
  await accessible(root);
  await root.getByRole('button', { name: 'Approve', exact: true }).click();
  await expect(root.getByRole('status').filter({ hasText: `${business} approved` })).toBeVisible();
  await expect(root.locator('.facts')).toContainText('Approved');
  await screenshot(root, 'business');

  // She sees it approved with the comment, and is now a business admin.
  await annPage.reload();
  await expect(row(annPage, 'business', business)).toContainText('Approved');
  await expect(row(annPage, 'business', business)).toContainText('Welcome aboard');
  await annPage.getByRole('link', { name: 'Home' }).click();
  await expect(annPage.locator('dd[data-role="3"]')).toHaveText('Business admin');

  // She creates two users of her team.
  await annPage.getByRole('link', { name: 'Users' }).click();
  for (const name of [ben, cid]) {
    await annPage.getByLabel('User name').fill(name);
    await annPage.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await annPage.getByLabel('Phone').fill(uniqPhone());
    await annPage.getByLabel('Real name').fill(`${name} Real`);
    await annPage.getByRole('button', { name: 'Create a user' }).click();
    await expect(annPage.getByText(`${name} created`)).toBeVisible();
    await expect(row(annPage, 'user', name)).toBeVisible();
  }

  // Ben signs in as a general user.
  const benPage = await person(browser);
  await login(benPage, ben, PASSWORD);
  await expect(benPage.locator('dd[data-role="2"]')).toHaveText('General user');

  // She resets his password: his open page is sent to the login form at its next action.
  await row(annPage, 'user', ben).locator('summary').click();
  await row(annPage, 'user', ben).getByRole('button', { name: 'Reset password' }).click();
  await row(annPage, 'user', ben).getByLabel('New password').fill('Reset2024x');
  await row(annPage, 'user', ben).getByRole('button', { name: 'Reset password' }).click();
  await expect(annPage.getByRole('status').filter({ hasText: `Password of ${ben} reset` })).toBeVisible();
  await benPage.getByRole('link', { name: 'Business' }).click();
  await expect(benPage).toHaveURL(/\/login\?reason=expired/);
  await expect(benPage.getByText('Your session has ended. Please sign in again.')).toBeVisible();
  await login(benPage, ben, 'Reset2024x');

  // The system administrator forbids Cid: likewise, and Cid cannot sign in again.
  const cidPage = await person(browser);
  await login(cidPage, cid, PASSWORD);
  await root.getByRole('navigation', { name: 'main' }).getByRole('link', { name: /^Users/ }).click();
  await hydrated(root);
  await root.getByLabel('Search by name').fill(cid);
  await row(root, 'user', cid).locator('summary').click();
  await row(root, 'user', cid).getByRole('button', { name: 'Forbid' }).click();
  await root.getByRole('button', { name: 'Confirm' }).click();
  await expect(row(root, 'user', cid)).toContainText('Forbidden');
  // A forbidden user holds no role (it does not read "Awaiting approval").
  await expect(row(root, 'user', cid).locator('td[data-label="Role"]')).toHaveText('none');
  await cidPage.getByRole('link', { name: 'Business' }).click();
  await expect(cidPage).toHaveURL(/\/login\?reason=expired/);
  await cidPage.getByLabel('User name').fill(cid);
  await cidPage.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await cidPage.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(cidPage.getByRole('alert').filter({ hasText: 'forbidden' })).toBeVisible();

  // Everything is in the audit log.
  await root.getByRole('link', { name: 'Audit log' }).click();
  await expect(root.locator('tr[data-action="user.audit"]').first()).toBeVisible();
  await expect(root.locator('tr[data-action="business.audit"]').first()).toBeVisible();
  await screenshot(root, 'audit');
  await accessible(root);
});
