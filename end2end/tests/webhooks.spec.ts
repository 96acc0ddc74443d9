// The Webhooks page (SPEC.md section 10) in a real browser, with a real receiver on
// 127.0.0.1 started by the test: the system administrator adds an endpoint, copies its
// secret, and sees the delivery of a change as the receiver, verifying each signature
// with the npm `standardwebhooks` package, records it. ./x starts the portal with
// OTE_WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32.
import * as http from 'http';
import { AddressInfo } from 'net';
import { Webhook } from 'standardwebhooks';
import { ADMIN, ADMIN_PASSWORD, PASSWORD, accessible, expect, hydrated, login, test, uniq, uniqPhone } from './helpers';

type Received = { id: string; type: string; verified: boolean };

function receiver(secret: () => string | undefined, answers: number[]) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      let verified = false;
      try {
        new Webhook(secret() ?? '').verify(body, headers);
        verified = true;
      } catch {
        verified = false;
      }
      got.push({ id: headers['webhook-id'], type: JSON.parse(body).type, verified });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  return { got, server };
}

test('an endpoint added on the page receives signed events; a failing one is retried and shown', async ({ page, request }) => {
  let secret: string | undefined;
  const { got, server } = receiver(() => secret, [500]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    await login(page, ADMIN, ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
    // Refusals name the field, in the page.
    await page.getByLabel('URL').fill('http://127.0.0.2:9/nope');
    await page.getByLabel('Events').fill('user.register');
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    await expect(page.locator('#new-webhook-url-error')).toContainText('OTE_WEBHOOK_ALLOWED_NETWORKS');
    await page.getByLabel('URL').fill(url);
    await page.getByLabel('Description').fill('namespace provisioner');
    await page.getByRole('button', { name: 'Add an endpoint' }).click();
    secret = await page.locator('#new-secret').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const row = page.locator(`tr[data-webhook="${url}"]`);
    await expect(row).toContainText('enabled');
    await accessible(page);

    // A registration: the receiver answers 500 once, then 200.
    const name = uniq('hooked');
    const registered = await request.post('/v1/user', {
      data: { user: name, password: PASSWORD, phone: uniqPhone(), realName: 'Hooked', isAdmin: false },
    });
    expect(registered.status()).toBe(200);
    await expect.poll(() => got.length, { timeout: 15_000 }).toBe(2);
    expect(got.every((r) => r.verified)).toBe(true);
    expect(got[0].id).toBe(got[1].id);
    expect(got[0].type).toBe('user.register');

    await row.getByRole('button', { name: 'Deliveries' }).click();
    const delivery = page.locator('table.deliveries tr[data-status="delivered"]');
    await expect(delivery).toContainText('user.register');
    await expect(delivery).toContainText('delivered');
    await accessible(page);

    await row.getByRole('button', { name: 'Disable' }).click();
    await expect(row).toContainText('disabled');
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(row).toHaveCount(0);
  } finally {
    server.close();
  }
});
