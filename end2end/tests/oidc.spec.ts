// The portal as an OpenID Connect provider (SPEC.md section 12) seen by a real relying
// party: openid-client (a certified RP library) behind a small http server on 127.0.0.1
// (./rp.ts), and people in the browser on the portal's consent page. Discovery, the code
// flow with PKCE, the ID token checked against the JWKS, userinfo, refresh rotation and
// its reuse, revocation, RP-initiated logout, two-factor sign-in on the consent page, a
// refusal, and a public client. ../x sets no OTE_PUBLIC_URL: the issuer is the address the
// portal listens on, the tests' base URL.
import { APIRequestContext, Page } from '@playwright/test';
import * as OTPAuth from 'otpauth';
import * as oidc from 'openid-client';
import { ADMIN, ADMIN_PASSWORD, PASSWORD, accessible, expect, hydrated, test, uniq, uniqPhone } from './helpers';
import { RelyingParty, SCOPE, errorCode } from './rp';

async function token(request: APIRequestContext, user: string, password: string): Promise<string> {
  const reply = await request.post('/v1/authorization', { data: { user, password } });
  expect(reply.status()).toBe(200);
  return (await reply.json()).token;
}

type Person = { id: number; name: string };

/** A registered and approved user, made through the API. */
async function approvedUser(request: APIRequestContext, root: string, isAdmin = false): Promise<Person> {
  const name = uniq('rp');
  const registered = await request.post('/v1/user', {
    data: { user: name, password: PASSWORD, phone: uniqPhone(), realName: `${name} Real`, isAdmin },
  });
  expect(registered.status()).toBe(200);
  const id = (await registered.json()).data.id;
  const approved = await request.put(`/v1/admin/user/${id}`, { headers: { Authorization: root }, data: { status: 1 } });
  expect(approved.status()).toBe(200);
  return { id, name };
}

/** An approved user who requested a business that was approved: its administrator. */
async function businessAdmin(request: APIRequestContext, root: string): Promise<Person & { business: string }> {
  const owner = await approvedUser(request, root, true);
  const business = uniq('apps-').toLowerCase();
  const requested = await request.post('/v1/business', {
    headers: { Authorization: await token(request, owner.name, PASSWORD) },
    data: { name: business, introduce: 'intro', objective: 'goal', scale: '10' },
  });
  expect(requested.status()).toBe(200);
  const id = (await requested.json()).data.id;
  const approved = await request.put(`/v1/admin/business/${id}`, { headers: { Authorization: root }, data: { status: 1, comment: '' } });
  expect(approved.status()).toBe(200);
  return { ...owner, business };
}

/** Turns two-factor sign-in on through the API; the authenticator, as an app computes it. */
async function withTwoFactor(request: APIRequestContext, user: string): Promise<OTPAuth.TOTP> {
  const session = await token(request, user, PASSWORD);
  const enrolment = await request.post('/v1/user/totp', { headers: { Authorization: session } });
  expect(enrolment.status()).toBe(200);
  const secret = (await enrolment.json()).data.secret as string;
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  // The step before now: the current one stays free for the sign-in.
  const confirmed = await request.put('/v1/user/totp', {
    headers: { Authorization: session },
    data: { code: totp.generate({ timestamp: Date.now() - 30_000 }) },
  });
  expect(confirmed.status()).toBe(200);
  return totp;
}

type Registered = { clientId: string; clientSecret?: string; name: string };

/** Registers the relying party with the portal as the system administrator. */
async function registerClient(request: APIRequestContext, root: string, rp: RelyingParty, isPublic = false): Promise<Registered> {
  const name = `Test application ${uniq('')}`;
  const reply = await request.post('/v1/admin/oauth/clients', {
    headers: { Authorization: root },
    data: { name, redirectUris: [rp.redirectUri], public: isPublic, postLogoutRedirectUris: [rp.postLogoutUri] },
  });
  expect(reply.status(), await reply.text()).toBe(200);
  const data = (await reply.json()).data;
  expect(data.clientId).toMatch(/^[0-9a-f]{24}$/);
  if (isPublic) expect(data.clientSecret).toBeUndefined();
  else expect(data.clientSecret).toMatch(/^[0-9a-f]{64}$/);
  return { ...data, name };
}

function issuerOf(baseURL: string | undefined): string {
  return (baseURL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The parts of a JWT, unchecked (the library checked the ID token; this is for reading). */
function jwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header, payload };
}

/** The refusal of a refresh, or 'accepted'. */
async function refreshRefusal(config: oidc.Configuration, refreshToken: string): Promise<string> {
  try {
    await oidc.refreshTokenGrant(config, refreshToken);
    return 'accepted';
  } catch (error) {
    return errorCode(error);
  }
}

/** How userinfo answers an access token: 'ok', or the Bearer challenge's error. */
async function userinfoAnswer(config: oidc.Configuration, accessToken: string, sub: string): Promise<string> {
  try {
    await oidc.fetchUserInfo(config, accessToken, sub);
    return 'ok';
  } catch (error) {
    if (error instanceof oidc.WWWAuthenticateChallengeError) {
      return `${error.status} ${error.cause.map((c) => `${c.scheme} ${c.parameters.error ?? ''}`).join(', ')}`;
    }
    return errorCode(error);
  }
}

/** The browser is on the consent page, signed out: sign in with its form (and a code). */
async function signInOnConsentPage(page: Page, issuer: string, user: string, code?: () => string) {
  await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(issuer)}/oauth/authorize\\?`));
  await hydrated(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (code) {
    await page.getByLabel('One-time code').fill(code());
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  await expect(page.getByRole('button', { name: 'Allow', exact: true })).toBeVisible();
}

/** The portal's session token in this browser (the page must be on the portal). */
async function browserSession(page: Page): Promise<string> {
  const stored = await page.evaluate(() => localStorage.getItem('ote.session'));
  expect(stored).not.toBeNull();
  return JSON.parse(stored!).token;
}

async function atCallback(page: Page, rp: RelyingParty) {
  await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(rp.redirectUri)}\\?`));
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
}

test('a business admin signs in to a confidential application: consent, claims, userinfo, refresh rotation, and RP-initiated logout', async ({ page, request, baseURL }) => {
  test.setTimeout(120_000);
  const issuer = issuerOf(baseURL);
  const root = await token(request, ADMIN, ADMIN_PASSWORD);
  const person = await businessAdmin(request, root);
  const rp = await RelyingParty.start();
  try {
    const app = await registerClient(request, root, rp);
    await rp.configure(issuer, app.clientId, app.clientSecret, 'basic');
    const metadata = rp.config.serverMetadata();
    expect(metadata).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      jwks_uri: `${issuer}/oauth/jwks`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      end_session_endpoint: `${issuer}/oauth/logout`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(SCOPE.split(' ')));
    const jwks = await request.get('/oauth/jwks');
    expect(jwks.status()).toBe(200);
    expect(jwks.headers()['cache-control']).toBe('public, max-age=300');
    const keys = (await jwks.json()).keys as Record<string, string>[];

    // The browser goes to the application, which sends it to the portal's consent page.
    await page.goto(rp.loginUrl());
    await signInOnConsentPage(page, issuer, person.name);
    await expect(page.locator('body')).toContainText(app.name);
    await accessible(page);
    const session = await browserSession(page);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await atCallback(page, rp);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Signed in as ${person.name}`);

    // What the application learnt, its ID token already checked by the library.
    const first = rp.signedIn();
    expect(new URL(page.url()).searchParams.get('state')).toBe(first.state);
    const sub = String(person.id);
    expect(first.claims).toMatchObject({
      iss: issuer,
      sub,
      azp: app.clientId,
      preferred_username: person.name,
      name: `${person.name} Real`,
      amr: ['pwd'],
    });
    expect([first.claims.aud].flat()).toEqual([app.clientId]);
    expect(first.claims.sid).toEqual(expect.any(String));
    expect(first.claims.auth_time).toBeLessThanOrEqual(first.claims.iat);
    const groups = first.claims.groups as string[];
    expect(groups).toHaveLength(2);
    expect(groups).toEqual(expect.arrayContaining([person.business, 'ote:business-admin']));
    const tokens = first.tokens;
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope?.split(' ').sort()).toEqual(SCOPE.split(' ').sort());
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const idToken = jwt(tokens.id_token!);
    expect(idToken.header).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    expect(keys.find((key) => key.kid === idToken.header.kid)).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
    const accessToken = jwt(tokens.access_token);
    expect(accessToken.header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(accessToken.payload).toMatchObject({ iss: issuer, sub, client_id: app.clientId });
    expect([accessToken.payload.aud].flat()).toEqual([app.clientId]);

    // Userinfo: the same claims.
    const userinfo = await oidc.fetchUserInfo(rp.config, tokens.access_token, sub);
    expect(userinfo).toMatchObject({ sub, preferred_username: person.name, name: `${person.name} Real` });
    expect((userinfo.groups as string[]).sort()).toEqual([...groups].sort());

    // A refresh rotates the refresh token; using the old one again ends the whole family.
    const second = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect(second.claims()?.sub).toBe(sub);
    expect(await userinfoAnswer(rp.config, second.access_token, sub)).toBe('ok');
    expect(await refreshRefusal(rp.config, tokens.refresh_token!)).toBe('invalid_grant');
    expect(await refreshRefusal(rp.config, second.refresh_token!)).toBe('invalid_grant');
    expect(await userinfoAnswer(rp.config, second.access_token, sub)).toBe('401 bearer invalid_token');

    // Consent is remembered: the next sign-in from the same browser comes straight back,
    // in the same portal session.
    await page.goto(rp.loginUrl());
    await atCallback(page, rp);
    expect(rp.callbacks).toHaveLength(2);
    const again = rp.signedIn();
    expect(again.claims.sid).toBe(first.claims.sid);
    expect(again.claims.sub).toBe(sub);

    // RP-initiated logout: a post-logout URI that is not registered is refused, not followed.
    const end = (postLogout: string, state: string) =>
      oidc.buildEndSessionUrl(rp.config, { id_token_hint: again.tokens.id_token!, post_logout_redirect_uri: postLogout, state }).href;
    const stray = await request.get(end(`${rp.base}/elsewhere`, 'stray'), { maxRedirects: 0 });
    expect(stray.status()).toBe(422);
    const bye = oidc.randomState();
    await page.goto(end(rp.postLogoutUri, bye));
    await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(rp.postLogoutUri)}\\?`));
    await expect(page.getByRole('heading', { name: 'Signed out' })).toBeVisible();
    expect(rp.signedOut).toHaveLength(1);
    expect(rp.signedOut[0].get('state')).toBe(bye);
    // The portal session is over, and so is the application's grant from it.
    expect((await request.get('/v1/authorization', { headers: { Authorization: session } })).status()).toBe(401);
    expect(await refreshRefusal(rp.config, again.tokens.refresh_token!)).toBe('invalid_grant');
    await page.goto('/');
    await expect(page).toHaveURL(/\/login/);
  } finally {
    rp.close();
  }
});

test('a person with two-factor sign-in gives the one-time code on the consent page, and the ID token says so', async ({ page, request, baseURL }) => {
  test.setTimeout(90_000);
  const issuer = issuerOf(baseURL);
  const root = await token(request, ADMIN, ADMIN_PASSWORD);
  const person = await approvedUser(request, root);
  const totp = await withTwoFactor(request, person.name);
  const rp = await RelyingParty.start();
  try {
    const app = await registerClient(request, root, rp);
    // This one sends its secret in the body (client_secret_post).
    await rp.configure(issuer, app.clientId, app.clientSecret, 'post');
    await page.goto(rp.loginUrl());
    await signInOnConsentPage(page, issuer, person.name, () => totp.generate());
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await atCallback(page, rp);
    const signedIn = rp.signedIn();
    expect(signedIn.claims).toMatchObject({ sub: String(person.id), preferred_username: person.name, amr: ['pwd', 'otp'] });
    // Approved, in no business: the role group alone.
    expect(signedIn.claims.groups).toEqual(['ote:member']);
  } finally {
    rp.close();
  }
});

test('denying on the consent page sends access_denied back to the application, and nothing is remembered', async ({ page, request, baseURL }) => {
  test.setTimeout(90_000);
  const issuer = issuerOf(baseURL);
  const root = await token(request, ADMIN, ADMIN_PASSWORD);
  const person = await approvedUser(request, root);
  const rp = await RelyingParty.start();
  try {
    const app = await registerClient(request, root, rp);
    await rp.configure(issuer, app.clientId, app.clientSecret);
    await page.goto(rp.loginUrl());
    await signInOnConsentPage(page, issuer, person.name);
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await atCallback(page, rp);
    const query = new URL(page.url()).searchParams;
    expect(query.get('error')).toBe('access_denied');
    expect(query.get('code')).toBeNull();
    // The library checked the state before reading the error.
    const refused = rp.refused();
    expect(refused.error).toBeInstanceOf(oidc.AuthorizationResponseError);
    expect(errorCode(refused.error)).toBe('access_denied');
    expect(refused.state).toBe(rp.states.at(-1));

    // Asked again, the person is asked again.
    await page.goto(rp.loginUrl());
    await expect(page.getByRole('button', { name: 'Allow', exact: true })).toBeVisible();
    await expect(page.locator('body')).toContainText(app.name);
  } finally {
    rp.close();
  }
});

test('a public client signs in with PKCE alone; revoking its refresh token ends the grant; without PKCE it is refused', async ({ page, request, baseURL }) => {
  test.setTimeout(90_000);
  const issuer = issuerOf(baseURL);
  const root = await token(request, ADMIN, ADMIN_PASSWORD);
  const person = await approvedUser(request, root);
  const rp = await RelyingParty.start();
  try {
    const app = await registerClient(request, root, rp, true);
    // No secret: token_endpoint_auth_method none.
    await rp.configure(issuer, app.clientId);
    expect(rp.config.serverMetadata().token_endpoint_auth_methods_supported).toContain('none');
    await page.goto(rp.loginUrl());
    await signInOnConsentPage(page, issuer, person.name);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await atCallback(page, rp);
    const first = rp.signedIn();
    const sub = String(person.id);
    expect(first.claims).toMatchObject({ sub, preferred_username: person.name, azp: app.clientId, amr: ['pwd'] });
    expect([first.claims.aud].flat()).toEqual([app.clientId]);
    expect(await userinfoAnswer(rp.config, first.tokens.access_token, sub)).toBe('ok');

    // RFC 7009: revoking the refresh token ends every token of that sign-in.
    await oidc.tokenRevocation(rp.config, first.tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await refreshRefusal(rp.config, first.tokens.refresh_token!)).toBe('invalid_grant');
    expect(await userinfoAnswer(rp.config, first.tokens.access_token, sub)).toBe('401 bearer invalid_token');
    // Unknown tokens are no error.
    await oidc.tokenRevocation(rp.config, 'no-such-token');

    // A public client must send a code challenge: the request goes back refused.
    await page.goto(rp.loginUrl({ pkce: false }));
    await atCallback(page, rp);
    expect(errorCode(rp.refused().error)).toBe('invalid_request');

    // Consent stays (revoking a grant is not revoking consent): prompt=none comes straight back.
    await page.goto(rp.loginUrl({ prompt: 'none' }));
    await atCallback(page, rp);
    const silent = rp.signedIn();
    expect(silent.claims.sub).toBe(sub);
    expect(silent.claims.sid).toBe(first.claims.sid);
    expect(await userinfoAnswer(rp.config, silent.tokens.access_token, sub)).toBe('ok');
  } finally {
    rp.close();
  }
});
