// The audit page's search and CSV (SPEC.md section 11, issue 13): a filter by action keeps
// only that action's rows, status changes read in words, and "Download CSV" saves a file
// of the matches that starts with its header.
import * as fs from 'fs';
import { ADMIN, ADMIN_PASSWORD, PASSWORD, accessible, expect, hydrated, login, test, uniq, uniqPhone } from './helpers';

test('the audit log filters by action and downloads the matches as CSV', async ({ page, request }) => {
  // A registration and its approval, through the API.
  const signIn = await request.post('/v1/authorization', { data: { user: ADMIN, password: ADMIN_PASSWORD } });
  const token = (await signIn.json()).token as string;
  const name = uniq('aud');
  const registered = await request.post('/v1/user', {
    data: { user: name, password: PASSWORD, phone: uniqPhone(), realName: 'Audit Person', isAdmin: false },
  });
  const id = (await registered.json()).data.id as number;
  const approved = await request.put(`/v1/admin/user/${id}`, { data: { status: 1 }, headers: { Authorization: token } });
  expect(approved.status()).toBe(200);

  await login(page, ADMIN, ADMIN_PASSWORD);
  await page.goto('/audit');
  await hydrated(page);
  await expect(page.locator('tr[data-action="user.register"]').first()).toBeVisible();

  const action = page.getByLabel('Action', { exact: true });
  await action.fill('user.audit');
  await action.press('Enter');
  const approval = page.locator('tr[data-action="user.audit"]', { hasText: name });
  await expect(approval).toBeVisible();
  await expect(page.locator('tr[data-action]:not([data-action="user.audit"])')).toHaveCount(0);
  // The status change in words, and the target linked to the users page.
  await expect(approval.locator('td.detail')).toHaveText(`${name}: Pending → Approved`);
  await expect(approval.getByRole('link', { name: `user ${id}` })).toHaveAttribute('href', `/users?name=${name}`);
  await accessible(page);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('audit.csv');
  const lines = fs.readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(lines[0]).toBe('id,time,actor_id,actor,action,target_type,target_id,detail');
  const rows = lines.slice(1).filter((line) => line !== '');
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.every((line) => line.split(',')[4] === 'user.audit')).toBe(true);
  expect(rows.some((line) => line.includes(`${name}: status 0 -> 1`))).toBe(true);
});
