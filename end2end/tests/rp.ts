// A relying party of the portal's identity provider, as small as one can be: a Node http
// server on 127.0.0.1 that signs people in with openid-client (panva's certified RP
// library), the authorization code flow with PKCE S256, state and nonce, and keeps what
// each callback and each return from signing out brought, for the test to look at. Every
// check of the answers (state, the ID token's signature against the JWKS, iss, aud, exp,
// nonce) is the library's, not ours.
import * as http from 'http';
import { AddressInfo } from 'net';
import * as oidc from 'openid-client';

/** What the test applications ask for. */
export const SCOPE = 'openid profile groups offline_access';

export type Tokens = Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;

/** What one visit to the callback brought: tokens (already validated) or the refusal. */
export type Callback =
  | { ok: true; state: string; tokens: Tokens; claims: oidc.IDToken }
  | { ok: false; state: string | null; error: unknown };

/** One sign-in begun at /login: what the callback must match. */
type Attempt = { state: string; nonce: string; verifier?: string };

/** The OAuth error code of a refusal (an authorization or a token endpoint error). */
export function errorCode(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError) return error.error;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: http.ServerResponse, title: string) {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><title>${escape(title)}</title><h1>${escape(title)}</h1></html>`);
}

export class RelyingParty {
  /** Every callback, in order. */
  readonly callbacks: Callback[] = [];
  /** The query of every return to the post-logout URI, in order. */
  readonly signedOut: URLSearchParams[] = [];
  /** The states handed out at /login, in order. */
  readonly states: string[] = [];
  private attempts = new Map<string, Attempt>();
  private configuration?: oidc.Configuration;

  private constructor(
    private readonly server: http.Server,
    readonly base: string,
  ) {}

  /** Listening on 127.0.0.1 on a free port; `configure` it once the client is registered. */
  static async start(): Promise<RelyingParty> {
    let rp: RelyingParty | undefined;
    const server = http.createServer((req, res) => {
      rp!.handle(req, res).catch((err) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    rp = new RelyingParty(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return rp;
  }

  get redirectUri(): string {
    return `${this.base}/callback`;
  }

  get postLogoutUri(): string {
    return `${this.base}/signed-out`;
  }

  /** Where the browser starts a sign-in (`prompt`, or `pkce: false` to leave PKCE out). */
  loginUrl(opts: { prompt?: string; pkce?: boolean } = {}): string {
    const query = new URLSearchParams();
    if (opts.prompt) query.set('prompt', opts.prompt);
    if (opts.pkce === false) query.set('pkce', 'off');
    return `${this.base}/login?${query}`;
  }

  /**
   * Discovery against the issuer, as the client `clientId`: with a secret, sent the way
   * `auth` says (client_secret_basic unless told); without one, a public client (none).
   * The portal under test speaks plain http on 127.0.0.1, hence allowInsecureRequests.
   */
  async configure(issuer: string, clientId: string, secret?: string, auth: 'basic' | 'post' = 'basic') {
    const authentication =
      secret === undefined ? oidc.None() : auth === 'basic' ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret);
    this.configuration = await oidc.discovery(new URL(issuer), clientId, undefined, authentication, {
      execute: [oidc.allowInsecureRequests],
    });
  }

  get config(): oidc.Configuration {
    if (!this.configuration) throw new Error('the relying party is not configured yet');
    return this.configuration;
  }

  /** The last callback, which the test expects to have brought tokens. */
  signedIn(): Extract<Callback, { ok: true }> {
    const last = this.callbacks.at(-1);
    if (!last) throw new Error('no callback yet');
    if (!last.ok) throw new Error(`the last callback was refused: ${errorCode(last.error)}`);
    return last;
  }

  /** The last callback, which the test expects to have been refused. */
  refused(): Extract<Callback, { ok: false }> {
    const last = this.callbacks.at(-1);
    if (!last) throw new Error('no callback yet');
    if (last.ok) throw new Error(`the last callback signed in ${last.claims.preferred_username}`);
    return last;
  }

  close() {
    this.server.closeAllConnections();
    this.server.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.base);
    if (url.pathname === '/login') {
      const attempt: Attempt = { state: oidc.randomState(), nonce: oidc.randomNonce() };
      const parameters: Record<string, string> = {
        redirect_uri: this.redirectUri,
        scope: SCOPE,
        state: attempt.state,
        nonce: attempt.nonce,
      };
      if (url.searchParams.get('pkce') !== 'off') {
        attempt.verifier = oidc.randomPKCECodeVerifier();
        parameters.code_challenge = await oidc.calculatePKCECodeChallenge(attempt.verifier);
        parameters.code_challenge_method = 'S256';
      }
      const prompt = url.searchParams.get('prompt');
      if (prompt) parameters.prompt = prompt;
      this.attempts.set(attempt.state, attempt);
      this.states.push(attempt.state);
      res.writeHead(302, { Location: oidc.buildAuthorizationUrl(this.config, parameters).href });
      res.end();
      return;
    }
    if (url.pathname === '/callback') {
      const state = url.searchParams.get('state');
      const attempt = state === null ? undefined : this.attempts.get(state);
      try {
        if (!attempt) throw new Error(`a callback with an unknown state: ${url.search}`);
        // Exchanges the code (with the verifier) and validates the ID token: signature
        // against the issuer's JWKS, iss, aud, exp, iat and the nonce.
        const tokens = await oidc.authorizationCodeGrant(this.config, url, {
          pkceCodeVerifier: attempt.verifier,
          expectedState: attempt.state,
          expectedNonce: attempt.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims()!;
        this.callbacks.push({ ok: true, state: attempt.state, tokens, claims });
        page(res, `Signed in as ${claims.preferred_username}`);
      } catch (error) {
        this.callbacks.push({ ok: false, state, error });
        page(res, `Not signed in: ${errorCode(error)}`);
      }
      return;
    }
    if (url.pathname === '/signed-out') {
      this.signedOut.push(url.searchParams);
      page(res, 'Signed out');
      return;
    }
    res.writeHead(404);
    res.end();
  }
}
