//! The identity provider (SPEC.md section 12) as an application sees it: it registers, signs
//! people in through the API alone (no browser), checks their ID tokens with an independent
//! OpenID Connect library (`openidconnect`, against the keys of `/oauth/jwks`), and every
//! attack of the contract fails.

use crate::common::{PASSWORD, Reply, TestPortal};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, JsonWebKey, Nonce};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Where the confidential test application takes its codes (never fetched).
const REDIRECT: &str = "https://rp.example/callback";
/// Where it may send the browser after a logout.
const AFTER_LOGOUT: &str = "https://rp.example/signed-out";
/// Where a CLI (a public client) listens.
const LOOPBACK: &str = "http://127.0.0.1:18000/callback";
const ALL_SCOPES: &str = "openid profile phone groups offline_access";

// --- The application's side ---------------------------------------------------------------

/// An application registered with the portal.
#[derive(Clone, Debug)]
struct App {
    id: String,
    secret: Option<String>,
    redirect: String,
}

/// How an application proves who it is at the token endpoint.
#[derive(Clone, Copy, Debug)]
enum Auth {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `none`: only `client_id` (a public client, or an attacker without the secret).
    None,
}

async fn register_app(portal: &TestPortal, admin: &str, body: Value) -> App {
    let reply = portal
        .post("/v1/admin/oauth/clients", Some(admin), body.clone())
        .await
        .expect(200);
    App {
        id: reply.body["data"]["clientId"]
            .as_str()
            .expect("a client id")
            .to_owned(),
        secret: reply.body["data"]["clientSecret"].as_str().map(str::to_owned),
        redirect: body["redirectUris"][0].as_str().unwrap().to_owned(),
    }
}

/// A confidential application (a dashboard) with one redirect URI and one logout URI.
async fn confidential(portal: &TestPortal, admin: &str, name: &str) -> App {
    let body = json!({"name": name, "redirectUris": [REDIRECT], "postLogoutRedirectUris": [AFTER_LOGOUT]});
    let app = register_app(portal, admin, body).await;
    assert!(app.secret.is_some(), "a confidential client gets a secret");
    app
}

/// A public application (a CLI such as kubelogin) on a loopback port.
async fn public(portal: &TestPortal, admin: &str, name: &str) -> App {
    let body = json!({"name": name, "redirectUris": [LOOPBACK], "public": true});
    let app = register_app(portal, admin, body).await;
    assert_eq!(app.secret, None, "a public client has no secret");
    app
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn s256(verifier: &str) -> String {
    use sha2::Digest;
    b64(&sha2::Sha256::digest(verifier.as_bytes()))
}

/// One authorization request: its parameters in order, and what the application keeps to
/// check the answer (state, nonce, PKCE verifier).
#[derive(Clone, Debug)]
struct Ask {
    params: Vec<(String, String)>,
    state: String,
    nonce: String,
    verifier: Option<String>,
}

impl Ask {
    /// Every scope, a fresh state and nonce, PKCE S256.
    fn new(app: &App) -> Self {
        let state = random_hex(8);
        let nonce = random_hex(12);
        let verifier = format!("v-{}", random_hex(32));
        let params = [
            ("response_type", "code"),
            ("client_id", &app.id),
            ("redirect_uri", &app.redirect),
            ("scope", ALL_SCOPES),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &s256(&verifier)),
            ("code_challenge_method", "S256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            params,
            state,
            nonce,
            verifier: Some(verifier),
        }
    }

    /// Sets (or, with `None`, removes) one parameter.
    fn set(mut self, key: &str, value: Option<&str>) -> Self {
        let at = self.params.iter().position(|(k, _)| k == key);
        match (at, value) {
            (Some(i), Some(v)) => self.params[i].1 = v.to_owned(),
            (Some(i), None) => {
                self.params.remove(i);
            }
            (None, Some(v)) => self.params.push((key.to_owned(), v.to_owned())),
            (None, None) => {}
        }
        self
    }

    fn scope(self, scope: &str) -> Self {
        self.set("scope", Some(scope))
    }

    /// No PKCE at all (allowed for a confidential client).
    fn without_pkce(mut self) -> Self {
        self.verifier = None;
        self.set("code_challenge", None)
            .set("code_challenge_method", None)
    }

    fn redirect_uri(&self) -> &str {
        self.get("redirect_uri").unwrap_or_default()
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The query string of `GET /oauth/authorize?...` as the browser has it.
    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.params {
            query.append_pair(k, v);
        }
        query.finish()
    }
}

/// `POST /v1/oauth/authorize`: the consent page's question (`approve` absent) or decision.
async fn decide(portal: &TestPortal, token: Option<&str>, ask: &Ask, approve: Option<bool>) -> Reply {
    let mut body = json!({"query": ask.query()});
    if let Some(approve) = approve {
        body["approve"] = json!(approve);
    }
    portal.post("/v1/oauth/authorize", token, body).await
}

/// Where the answer sends the browser: the URI before its query, and the query's
/// parameters. Panics when the answer has no redirect.
#[track_caller]
fn sent_back(reply: &Reply) -> (String, HashMap<String, String>) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let redirect = reply.body["data"]["redirect"]
        .as_str()
        .unwrap_or_else(|| panic!("a redirect: {}", reply.body));
    let url = url::Url::parse(redirect).expect("an absolute URI");
    let params = url.query_pairs().into_owned().collect();
    let base = redirect.split(['?', '#']).next().unwrap().to_owned();
    (base, params)
}

/// Asserts the answer sends the browser back to the application with `error` and the state.
#[track_caller]
fn refused_back(reply: &Reply, ask: &Ask, error: &str) {
    let (base, params) = sent_back(reply);
    assert_same_place(&base, ask.redirect_uri(), reply);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some(error),
        "{}",
        reply.body
    );
    assert_eq!(
        params.get("state"),
        Some(&ask.state),
        "the state comes back: {}",
        reply.body
    );
    assert!(
        !params.contains_key("code"),
        "no code with an error: {}",
        reply.body
    );
}

/// Asserts the browser goes back to the registered URI: the same scheme, host, port and
/// path (`http://localhost:8000` and `http://localhost:8000/` are one place, RFC 3986 6.2.3).
#[track_caller]
fn assert_same_place(sent: &str, registered: &str, reply: &Reply) {
    let place = |uri: &str| {
        let mut url = url::Url::parse(uri).expect("an absolute URI");
        url.set_query(None);
        url.to_string()
    };
    assert_eq!(place(sent), place(registered), "{}", reply.body);
}

/// Asserts a 422 that names `field` and sends nobody anywhere.
#[track_caller]
fn refused_here(reply: Reply, message: &str) {
    let reply = reply.expect(422);
    assert_eq!(reply.message(), message, "{}", reply.body);
    assert!(
        !reply.body.to_string().contains("redirect\":"),
        "never a redirect: {}",
        reply.body
    );
}

/// Approves `ask` as the holder of `token` and returns the code the browser brings back.
async fn code_for(portal: &TestPortal, token: &str, ask: &Ask) -> String {
    let reply = decide(portal, Some(token), ask, Some(true)).await;
    code_of(&reply, ask)
}

#[track_caller]
fn code_of(reply: &Reply, ask: &Ask) -> String {
    let (base, params) = sent_back(reply);
    assert_same_place(&base, ask.redirect_uri(), reply);
    assert_eq!(params.get("state"), Some(&ask.state), "{}", reply.body);
    assert_eq!(params.get("error"), None, "{}", reply.body);
    params
        .get("code")
        .unwrap_or_else(|| panic!("a code: {}", reply.body))
        .clone()
}

/// `POST /oauth/token` with the form, the application authenticating as `auth` says.
async fn token_endpoint(portal: &TestPortal, app: &App, auth: Auth, form: &[(&str, &str)]) -> Reply {
    let mut form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut request = portal.client_request(Method::POST, "/oauth/token");
    match auth {
        Auth::Basic => {
            let secret = app.secret.as_deref().unwrap_or_default();
            let pair = format!("{}:{}", urlencode(&app.id), urlencode(secret));
            request = request.header("Authorization", format!("Basic {}", STANDARD.encode(pair)));
        }
        Auth::Post => {
            form.push(("client_id".into(), app.id.clone()));
            form.push(("client_secret".into(), app.secret.clone().unwrap_or_default()));
        }
        Auth::None => form.push(("client_id".into(), app.id.clone())),
    }
    let body = serde_urlencoded::to_string(&form).unwrap();
    let request = request
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    send(request).await
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// The natural authentication of the application: Basic with its secret, none if public.
fn natural(app: &App) -> Auth {
    if app.secret.is_some() {
        Auth::Basic
    } else {
        Auth::None
    }
}

/// Exchanges `code` (from `ask`) for tokens.
async fn exchange(portal: &TestPortal, app: &App, auth: Auth, code: &str, ask: &Ask) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", ask.redirect_uri()),
    ];
    if let Some(verifier) = &ask.verifier {
        form.push(("code_verifier", verifier));
    }
    token_endpoint(portal, app, auth, &form).await
}

async fn refresh(portal: &TestPortal, app: &App, refresh_token: &str) -> Reply {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    token_endpoint(portal, app, natural(app), &form).await
}

/// Asserts an OAuth error answer (RFC 6749 5.2).
#[track_caller]
fn oauth_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["error"], error, "{}", reply.body);
}

/// Asserts the application may not use its grant any more: either the client or the grant
/// is refused (for a deleted client both answers are right).
#[track_caller]
fn dead_refresh(reply: &Reply) {
    let error = reply.body["error"].as_str().unwrap_or_default();
    assert!(
        (reply.status == StatusCode::BAD_REQUEST && error == "invalid_grant")
            || (reply.status == StatusCode::UNAUTHORIZED && error == "invalid_client"),
        "{} {}",
        reply.status,
        reply.body
    );
}

async fn userinfo(portal: &TestPortal, access_token: &str) -> Reply {
    let request = portal
        .client_request(Method::GET, "/oauth/userinfo")
        .header("Authorization", format!("Bearer {access_token}"));
    send(request).await
}

/// Asserts userinfo refuses the token as RFC 6750 says.
#[track_caller]
fn refused_token(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.body);
    let challenge = reply
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("invalid_token"),
        "{what}: WWW-Authenticate {challenge:?}"
    );
}

/// What one sign-in gave the application.
#[derive(Clone, Debug)]
struct Tokens {
    access: String,
    id: String,
    refresh: Option<String>,
    body: Value,
}

#[track_caller]
fn tokens_of(reply: &Reply) -> Tokens {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.body.clone();
    Tokens {
        access: body["access_token"].as_str().expect("an access token").to_owned(),
        id: body["id_token"].as_str().expect("an ID token").to_owned(),
        refresh: body["refresh_token"].as_str().map(str::to_owned),
        body,
    }
}

/// The whole code flow for the holder of `token`: consent, code, exchange.
async fn sign_in_with(portal: &TestPortal, app: &App, token: &str, ask: &Ask, auth: Auth) -> Tokens {
    let code = code_for(portal, token, ask).await;
    tokens_of(&exchange(portal, app, auth, &code, ask).await)
}

async fn sign_in(portal: &TestPortal, app: &App, token: &str) -> (Ask, Tokens) {
    let ask = Ask::new(app);
    let tokens = sign_in_with(portal, app, token, &ask, natural(app)).await;
    (ask, tokens)
}

// --- Tokens, seen independently --------------------------------------------------------------

/// A JWT's header and payload, unverified.
fn parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut next = || {
        let part = parts.next().expect("a JWT part");
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (next(), next())
}

async fn discovery(portal: &TestPortal) -> Value {
    let reply = portal.get("/.well-known/openid-configuration", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

async fn jwks(portal: &TestPortal) -> Value {
    let reply = portal.get("/oauth/jwks", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

fn kids(jwks: &Value) -> BTreeSet<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

/// Verifies an ID token as a relying party would (openidconnect's verifier: the issuer of
/// the discovery document, the keys of its `jwks_uri`, RS256 only, audience, expiry and
/// nonce), and returns its payload for the finer checks.
async fn verify_id_token(portal: &TestPortal, app: &App, id_token: &str, nonce: &str) -> Value {
    let metadata: CoreProviderMetadata =
        serde_json::from_value(discovery(portal).await).expect("the discovery document parses");
    let keys: CoreJsonWebKeySet = serde_json::from_value(jwks(portal).await).expect("the JWKS parses");
    let issuer = IssuerUrl::new(metadata.issuer().to_string()).unwrap();
    let verifier = match &app.secret {
        Some(secret) => CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(app.id.clone()),
            ClientSecret::new(secret.clone()),
            issuer,
            keys,
        ),
        None => CoreIdTokenVerifier::new_public_client(ClientId::new(app.id.clone()), issuer, keys),
    };
    let token: CoreIdToken = id_token.parse().expect("an ID token");
    let claims = token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .unwrap_or_else(|e| panic!("the ID token verifies: {e}"));
    assert_eq!(claims.audiences().len(), 1);
    assert_eq!(claims.audiences()[0].as_str(), app.id);
    assert_eq!(claims.nonce().map(|n| n.secret().as_str()), Some(nonce));
    // A relying party that expects another nonce refuses the same token.
    assert!(
        token
            .claims(&verifier, &Nonce::new(format!("{nonce}-other")))
            .is_err(),
        "the nonce is checked"
    );
    parts(id_token).1
}

/// The same for an ID token that answers no authorization request (a refresh): any nonce
/// it carries is accepted.
async fn verify_id_token_without_nonce(portal: &TestPortal, app: &App, id_token: &str) -> Value {
    let metadata: CoreProviderMetadata =
        serde_json::from_value(discovery(portal).await).expect("the discovery document parses");
    let keys: CoreJsonWebKeySet = serde_json::from_value(jwks(portal).await).expect("the JWKS parses");
    let issuer = IssuerUrl::new(metadata.issuer().to_string()).unwrap();
    let verifier = CoreIdTokenVerifier::new_public_client(ClientId::new(app.id.clone()), issuer, keys);
    let token: CoreIdToken = id_token.parse().expect("an ID token");
    token
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .unwrap_or_else(|e| panic!("the ID token verifies: {e}"));
    parts(id_token).1
}

/// Verifies an access token's signature with the published key its `kid` names.
async fn verify_access_token(portal: &TestPortal, access: &str) -> (Value, Value) {
    let (header, payload) = parts(access);
    assert_eq!(header["alg"], "RS256", "{header}");
    assert_eq!(
        header["typ"].as_str().map(str::to_ascii_lowercase).as_deref(),
        Some("at+jwt"),
        "{header}"
    );
    let kid = header["kid"].as_str().expect("a kid");
    let set = jwks(portal).await;
    let key = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} is published"));
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(access, &decoding, &validation).expect("the access token verifies");
    (header, payload)
}

fn groups(claims: &Value) -> Vec<String> {
    let mut groups: Vec<String> = claims["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("groups: {claims}"))
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect();
    groups.sort();
    groups
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    list.sort();
    list
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Runs `ote-portal ARGS...` on the portal's database: (success, stdout, stderr).
fn console(portal: &TestPortal, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ote-portal"))
        .args(args)
        .env("DATABASE_URL", &portal.database_url)
        .env("RUST_LOG", "warn")
        .env_remove("OTE_ADMIN_PASSWORD")
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A client that shows redirects instead of following them (a browser's first hop).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn personal_token(portal: &TestPortal, token: &str) -> String {
    let body = json!({"name": "ci", "expiresInDays": 7, "scope": "write"});
    portal
        .post("/v1/user/tokens", Some(token), body)
        .await
        .expect(200)
        .body["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

// --- Discovery and keys -------------------------------------------------------------------

#[tokio::test]
async fn discovery_names_the_issuer_and_every_endpoint_under_it() {
    let portal = TestPortal::start().await;
    let doc = discovery(&portal).await;
    let issuer = portal.url.as_str();
    assert_eq!(
        doc["issuer"], issuer,
        "the default issuer is where the portal is reached"
    );
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("jwks_uri", "/oauth/jwks"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("end_session_endpoint", "/oauth/logout"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    let set = |field: &str| -> BTreeSet<String> {
        doc[field]
            .as_array()
            .unwrap_or_else(|| panic!("{field}: {doc}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let exactly = |list: &[&str]| -> BTreeSet<String> { list.iter().map(|s| s.to_string()).collect() };
    assert_eq!(set("response_types_supported"), exactly(&["code"]));
    assert_eq!(
        set("grant_types_supported"),
        exactly(&["authorization_code", "refresh_token"])
    );
    assert_eq!(set("code_challenge_methods_supported"), exactly(&["S256"]));
    assert_eq!(
        set("token_endpoint_auth_methods_supported"),
        exactly(&["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(set("id_token_signing_alg_values_supported"), exactly(&["RS256"]));
    assert_eq!(
        set("scopes_supported"),
        exactly(&["openid", "profile", "phone", "groups", "offline_access"])
    );
    assert_eq!(set("subject_types_supported"), exactly(&["public"]));
    // `select_account` may be listed too (accepted and ignored: one account per person).
    let prompts = set("prompt_values_supported");
    assert!(
        prompts.is_superset(&exactly(&["none", "login", "consent"])),
        "{prompts:?}"
    );
    assert!(
        prompts.is_subset(&exactly(&["none", "login", "consent", "select_account"])),
        "{prompts:?}"
    );
    let claims = set("claims_supported");
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "amr",
        "sid",
        "azp",
        "preferred_username",
        "name",
        "phone_number",
        "groups",
    ] {
        assert!(
            claims.contains(claim),
            "claims_supported lacks {claim}: {claims:?}"
        );
    }

    // An independent library reads it the same way.
    let metadata: CoreProviderMetadata = serde_json::from_value(doc.clone()).expect("the document parses");
    assert_eq!(metadata.issuer().as_str(), issuer);
    assert_eq!(metadata.jwks_uri().as_str(), format!("{issuer}/oauth/jwks"));
    assert_eq!(
        metadata.token_endpoint().map(|u| u.as_str().to_owned()),
        Some(format!("{issuer}/oauth/token"))
    );
    assert_eq!(
        metadata.userinfo_endpoint().map(|u| u.as_str().to_owned()),
        Some(format!("{issuer}/oauth/userinfo"))
    );
    assert_eq!(
        metadata.authorization_endpoint().as_str(),
        format!("{issuer}/oauth/authorize")
    );
}

#[tokio::test]
async fn the_issuer_is_the_public_url_when_one_is_set() {
    let portal = TestPortal::start_with(&["--public-url=https://id.edge.example"]).await;
    let doc = discovery(&portal).await;
    assert_eq!(doc["issuer"], "https://id.edge.example");
    assert_eq!(doc["token_endpoint"], "https://id.edge.example/oauth/token");
    assert_eq!(doc["jwks_uri"], "https://id.edge.example/oauth/jwks");

    // The tokens it signs name that issuer.
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (ask, tokens) = sign_in(&portal, &app, &admin).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(claims["iss"], "https://id.edge.example");

    // An issuer with a trailing slash (or a query) would never match a token's `iss`: refused
    // at start, naming the variable.
    for bad in [
        "https://id.edge.example/",
        "https://id.edge.example?x=1",
        "ftp://id.edge.example",
    ] {
        let err =
            server::config::Config::load_from(["ote-portal", &format!("--public-url={bad}")]).expect_err(bad);
        assert!(err.contains("OTE_PUBLIC_URL"), "{bad}: {err}");
    }
}

#[tokio::test]
async fn the_jwks_publishes_public_rs256_keys_by_kid_for_caches() {
    let portal = TestPortal::start().await;
    let reply = portal.get("/oauth/jwks", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cache = reply.headers["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("public") && cache.contains("max-age=300"),
        "Cache-Control {cache:?}"
    );
    let keys = reply.body["keys"].as_array().expect("keys");
    assert!(!keys.is_empty(), "a key from the first start on");
    for key in keys {
        assert_eq!(key["kty"], "RSA", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert_eq!(key["alg"], "RS256", "{key}");
        assert!(!key["kid"].as_str().unwrap_or_default().is_empty(), "{key}");
        let modulus = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
        assert!(
            modulus.len() * 8 >= 2048,
            "a 2048-bit key or larger: {} bits",
            modulus.len() * 8
        );
        assert!(key["e"].as_str().is_some(), "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "the JWKS must not show {private}");
        }
    }
    assert_eq!(kids(&reply.body).len(), keys.len(), "kids are distinct");
    let parsed: CoreJsonWebKeySet = serde_json::from_value(reply.body.clone()).expect("the JWKS parses");
    assert_eq!(parsed.keys().len(), keys.len());
    assert!(parsed.keys().iter().all(|k| k.key_id().is_some()));
    // The same keys on a second read (they live in the database, not in one request).
    assert_eq!(kids(&jwks(&portal).await), kids(&reply.body));
}

// --- The happy paths ------------------------------------------------------------------------

#[tokio::test]
async fn a_business_admin_signs_into_a_confidential_app_with_basic_auth_and_pkce() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (boss_id, _, boss) = portal.business_admin("boss", "acme").await;

    let ask = Ask::new(&app);
    // The page asks first: the consent screen names the application and the scopes.
    let question = decide(&portal, Some(&boss), &ask, None).await.expect(200);
    let data = &question.body["data"];
    assert_eq!(data.get("redirect"), None, "no redirect before consent: {data}");
    assert_eq!(data["login"], false);
    assert_eq!(data["client"], json!({"clientId": app.id, "name": "Grafana"}));
    let scopes: BTreeSet<&str> = data["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(scopes, ALL_SCOPES.split(' ').collect());

    let approved = decide(&portal, Some(&boss), &ask, Some(true)).await.expect(200);
    assert_eq!(approved.body["data"]["client"]["clientId"], app.id.as_str());
    let code = code_of(&approved, &ask);
    let reply = exchange(&portal, &app, Auth::Basic, &code, &ask).await;
    let tokens = tokens_of(&reply);
    assert_eq!(tokens.body["token_type"], "Bearer");
    assert_eq!(tokens.body["expires_in"], 300);
    let granted: BTreeSet<&str> = tokens.body["scope"].as_str().unwrap().split(' ').collect();
    assert_eq!(granted, ALL_SCOPES.split(' ').collect());
    assert!(tokens.refresh.is_some(), "offline_access gives a refresh token");
    let cache = reply.headers["cache-control"].to_str().unwrap();
    assert!(cache.contains("no-store"), "Cache-Control {cache:?}");

    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    let (header, _) = parts(&tokens.id);
    assert_eq!(header["alg"], "RS256");
    assert!(kids(&jwks(&portal).await).contains(header["kid"].as_str().expect("a kid")));
    assert_eq!(claims["iss"], portal.url.as_str());
    assert_eq!(claims["sub"], boss_id.to_string());
    assert_eq!(claims["azp"], app.id.as_str());
    assert_eq!(claims["preferred_username"], "boss");
    assert_eq!(claims["name"], "boss Real");
    assert!(
        claims["phone_number"].as_str().unwrap().starts_with("+86"),
        "{claims}"
    );
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()), "{claims}");
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!(auth_time <= now() && auth_time > now() - 120, "{claims}");
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 300, "{claims}");
    assert_eq!(groups(&claims), sorted(&["acme", "ote:business-admin"]));

    // The access token: a JWT for this client with the grant's scope.
    let (_, access) = verify_access_token(&portal, &tokens.access).await;
    assert_eq!(access["aud"], app.id.as_str());
    assert_eq!(access["client_id"], app.id.as_str());
    assert_eq!(access["sub"], boss_id.to_string());
    assert!(access["gid"].as_str().is_some(), "{access}");
    let access_scopes: BTreeSet<&str> = access["scope"].as_str().unwrap().split(' ').collect();
    assert_eq!(access_scopes, ALL_SCOPES.split(' ').collect());

    // Userinfo answers the same claims, by GET and by POST.
    let info = userinfo(&portal, &tokens.access).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    for claim in ["sub", "preferred_username", "name", "phone_number"] {
        assert_eq!(info.body[claim], claims[claim], "{claim}: {}", info.body);
    }
    assert_eq!(groups(&info.body), groups(&claims));
    let posted = send(
        portal
            .client_request(Method::POST, "/oauth/userinfo")
            .header("Authorization", format!("Bearer {}", tokens.access)),
    )
    .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert_eq!(posted.body["sub"], info.body["sub"]);
}

#[tokio::test]
async fn a_member_signs_in_with_client_secret_post_and_userinfo_agrees() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Registry").await;
    let (_, _, boss) = portal.business_admin("owner", "edge-co").await;
    let (member_id, member) = portal.member(&boss, "worker", false).await;

    let ask = Ask::new(&app);
    let tokens = sign_in_with(&portal, &app, &member, &ask, Auth::Post).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(claims["sub"], member_id.to_string());
    assert_eq!(claims["preferred_username"], "worker");
    assert_eq!(groups(&claims), sorted(&["edge-co", "ote:member"]));
    let info = userinfo(&portal, &tokens.access).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert_eq!(info.body["sub"], member_id.to_string());
    assert_eq!(groups(&info.body), groups(&claims));
    assert_eq!(info.body["preferred_username"], "worker");
}

#[tokio::test]
async fn the_system_administrator_is_in_the_system_admin_group() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Kubernetes").await;
    let (ask, tokens) = sign_in(&portal, &app, &admin).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(groups(&claims), ["ote:system-admin"]);
    assert_eq!(
        groups(&userinfo(&portal, &tokens.access).await.body),
        ["ote:system-admin"]
    );
}

#[tokio::test]
async fn claims_follow_the_scopes_granted() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Git").await;
    let (_, member) = portal.approved("plain", false).await;

    // `openid` alone: who, but no name, phone, groups nor refresh token.
    let ask = Ask::new(&app).scope("openid");
    let tokens = sign_in_with(&portal, &app, &member, &ask, Auth::Basic).await;
    assert_eq!(tokens.refresh, None, "no refresh token without offline_access");
    assert_eq!(tokens.body["scope"], "openid");
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(claims["preferred_username"], "plain");
    for absent in ["name", "phone_number", "groups"] {
        assert!(
            claims.get(absent).is_none(),
            "{absent} without its scope: {claims}"
        );
    }
    let info = userinfo(&portal, &tokens.access).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    for absent in ["name", "phone_number", "groups"] {
        assert!(
            info.body.get(absent).is_none(),
            "{absent} without its scope: {}",
            info.body
        );
    }

    // Scopes the portal does not know are left out; `openid` is required.
    let ask = Ask::new(&app).scope("openid groups email");
    let tokens = sign_in_with(&portal, &app, &member, &ask, Auth::Basic).await;
    assert_eq!(tokens.body["scope"], "openid groups");
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(groups(&claims), ["ote:member"], "approved, in no business");

    // Without a nonce, the ID token has none.
    let ask = Ask::new(&app).set("nonce", None);
    let tokens = sign_in_with(&portal, &app, &member, &ask, Auth::Basic).await;
    assert!(parts(&tokens.id).1.get("nonce").is_none());
}

#[tokio::test]
async fn a_public_cli_signs_in_with_pkce_and_no_secret() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let body = json!({"name": "kubelogin", "public": true,
                      "redirectUris": ["http://127.0.0.1:18000/callback?from=cli", "http://localhost:8000"]});
    let app = register_app(&portal, &admin, body).await;
    assert_eq!(app.secret, None);
    let (_, token) = portal.approved("dev", false).await;
    let ask = Ask::new(&app);
    let code = {
        let reply = decide(&portal, Some(&token), &ask, Some(true)).await;
        let redirect = reply.body["data"]["redirect"].as_str().unwrap().to_owned();
        // A registered query stays, the code is added to it.
        assert!(
            redirect.starts_with("http://127.0.0.1:18000/callback?from=cli&"),
            "{redirect}"
        );
        let (_, params) = sent_back(&reply);
        assert_eq!(params["from"], "cli");
        assert_eq!(params["state"], ask.state);
        params["code"].clone()
    };
    let tokens = tokens_of(&exchange(&portal, &app, Auth::None, &code, &ask).await);
    verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    let refreshed = tokens_of(&refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await);
    assert_eq!(userinfo(&portal, &refreshed.access).await.status, StatusCode::OK);

    // The second registered URI works as well.
    let ask = Ask::new(&app).set("redirect_uri", Some("http://localhost:8000"));
    let tokens = sign_in_with(&portal, &app, &token, &ask, Auth::None).await;
    verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;

    // Go's oauth2 package (kubelogin, Grafana) sends a public client as Basic `id:`.
    let ask = Ask::new(&app);
    let tokens = sign_in_with(&portal, &app, &token, &ask, Auth::Basic).await;
    verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
}

#[tokio::test]
async fn a_business_not_approved_yet_is_no_group() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Kubernetes").await;
    let (_, founder) = portal.approved("founder", true).await;
    let body = json!({"name": "pending-co", "introduce": "i", "objective": "o", "scale": "5"});
    portal
        .post("/v1/business", Some(&founder), body)
        .await
        .expect(200);
    let (ask, tokens) = sign_in(&portal, &app, &founder).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(
        groups(&claims),
        ["ote:member"],
        "no business group, no business-admin group"
    );
}

#[tokio::test]
async fn a_stale_session_signs_in_again_when_the_application_asks() {
    let portal = TestPortal::start_with(&["--fresh-login-seconds=3"]).await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, user) = portal.approved("dev", false).await;
    sign_in(&portal, &app, &user).await;
    let fresh = Ask::new(&app).set("prompt", Some("login"));
    code_of(&decide(&portal, Some(&user), &fresh, None).await, &fresh);
    tokio::time::sleep(Duration::from_millis(4000)).await;

    // prompt=login, max_age exceeded: the page signs the person in again.
    for ask in [
        Ask::new(&app).set("prompt", Some("login")),
        Ask::new(&app).set("max_age", Some("1")),
    ] {
        for approve in [None, Some(true)] {
            let reply = decide(&portal, Some(&user), &ask, approve).await.expect(200);
            assert_eq!(
                reply.body["data"]["login"], true,
                "{:?}: {}",
                ask.params, reply.body
            );
            assert!(
                reply.body["data"]["redirect"]
                    .as_str()
                    .is_none_or(|r| !r.contains("code=")),
                "no code for a stale session: {}",
                reply.body
            );
        }
    }
    let silent = Ask::new(&app)
        .set("max_age", Some("1"))
        .set("prompt", Some("none"));
    refused_back(
        &decide(&portal, Some(&user), &silent, None).await,
        &silent,
        "login_required",
    );
    // A generous max_age is met.
    let ask = Ask::new(&app).set("max_age", Some("3600"));
    let tokens = sign_in_with(&portal, &app, &user, &ask, Auth::Basic).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    let old_auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(old_auth_time <= now() - 2, "auth_time is the sign-in's: {claims}");

    // A new sign-in is fresh: prompt=login passes, and auth_time moves.
    let again = portal.login("dev", PASSWORD).await;
    let ask = Ask::new(&app)
        .set("prompt", Some("login"))
        .set("max_age", Some("30"));
    let tokens = sign_in_with(&portal, &app, &again, &ask, Auth::Basic).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert!(claims["auth_time"].as_i64().unwrap() > old_auth_time, "{claims}");
}

#[tokio::test]
async fn the_authorize_endpoint_is_a_portal_page() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let query = Ask::new(&app).query();
    let reply = browser()
        .get(format!("{}/oauth/authorize?{query}", portal.url))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let kind = reply.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
}

// --- Codes ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_code_is_good_once_and_its_replay_ends_what_the_first_use_gave() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, user) = portal.approved("victim", false).await;
    let ask = Ask::new(&app);
    let code = code_for(&portal, &user, &ask).await;
    let first = tokens_of(&exchange(&portal, &app, Auth::Basic, &code, &ask).await);
    assert_eq!(userinfo(&portal, &first.access).await.status, StatusCode::OK);

    let second = exchange(&portal, &app, Auth::Basic, &code, &ask).await;
    oauth_error(&second, 400, "invalid_grant");
    refused_token(
        &userinfo(&portal, &first.access).await,
        "the first use's access token",
    );
    oauth_error(
        &refresh(&portal, &app, first.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    // Other sign-ins of the same user are not touched.
    let (_, other) = sign_in(&portal, &app, &user).await;
    assert_eq!(userinfo(&portal, &other.access).await.status, StatusCode::OK);
    // A made-up code is no better.
    let made_up = exchange(&portal, &app, Auth::Basic, "not-a-code", &ask).await;
    oauth_error(&made_up, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_expires() {
    // Expiry is counted in whole seconds, so a code of 2 s lives more than 1 s: time enough
    // for an exchange at once.
    let portal = TestPortal::start_with(&["--code-seconds=2"]).await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    // At once it is good (the short setting breaks nothing else).
    sign_in(&portal, &app, &admin).await;
    let ask = Ask::new(&app);
    let code = code_for(&portal, &admin, &ask).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let reply = exchange(&portal, &app, Auth::Basic, &code, &ask).await;
    oauth_error(&reply, 400, "invalid_grant");
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let portal = TestPortal::start_with(&["--access-seconds=1"]).await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, tokens) = sign_in(&portal, &app, &admin).await;
    assert_eq!(tokens.body["expires_in"], 1);
    assert_eq!(userinfo(&portal, &tokens.access).await.status, StatusCode::OK);
    // The portal allows 5 s of clock skew between replicas (`auth::token::LEEWAY_SECONDS`).
    tokio::time::sleep(Duration::from_millis(7500)).await;
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "an expired access token",
    );
    // Its refresh token still gives a fresh one.
    let fresh = tokens_of(&refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await);
    assert_eq!(userinfo(&portal, &fresh.access).await.status, StatusCode::OK);
}

#[tokio::test]
async fn pkce_is_required_of_public_clients_and_only_as_s256() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let cli = public(&portal, &admin, "kubelogin").await;
    let web = confidential(&portal, &admin, "Grafana").await;
    let (_, user) = portal.approved("dev", false).await;

    // A public client without a challenge is sent back with an error, not a code.
    let ask = Ask::new(&cli).without_pkce();
    refused_back(
        &decide(&portal, Some(&user), &ask, Some(true)).await,
        &ask,
        "invalid_request",
    );
    // `plain` is refused, for any client.
    for app in [&cli, &web] {
        let verifier = format!("v-{}", random_hex(32));
        let ask = Ask::new(app)
            .set("code_challenge", Some(&verifier))
            .set("code_challenge_method", Some("plain"));
        refused_back(
            &decide(&portal, Some(&user), &ask, Some(true)).await,
            &ask,
            "invalid_request",
        );
    }

    // A wrong verifier, or none, is invalid_grant; the right one then is refused too (the
    // code is spent or still good; either way the wrong one got nothing).
    for app in [&cli, &web] {
        let ask = Ask::new(app);
        let code = code_for(&portal, &user, &ask).await;
        let mut wrong = ask.clone();
        wrong.verifier = Some(format!("v-{}", random_hex(32)));
        oauth_error(
            &exchange(&portal, app, natural(app), &code, &wrong).await,
            400,
            "invalid_grant",
        );

        let ask = Ask::new(app);
        let code = code_for(&portal, &user, &ask).await;
        let mut missing = ask.clone();
        missing.verifier = None;
        oauth_error(
            &exchange(&portal, app, natural(app), &code, &missing).await,
            400,
            "invalid_grant",
        );
    }

    // A confidential client may do without PKCE, but a verifier for a code that had no
    // challenge is refused.
    let ask = Ask::new(&web).without_pkce();
    let code = code_for(&portal, &user, &ask).await;
    let mut extra = ask.clone();
    extra.verifier = Some(format!("v-{}", random_hex(32)));
    let reply = exchange(&portal, &web, Auth::Basic, &code, &extra).await;
    assert_ne!(
        reply.status,
        StatusCode::OK,
        "a verifier without a challenge: {}",
        reply.body
    );
    let ask = Ask::new(&web).without_pkce();
    let tokens = sign_in_with(&portal, &web, &user, &ask, Auth::Basic).await;
    verify_id_token(&portal, &web, &tokens.id, &ask.nonce).await;
}

#[tokio::test]
async fn malformed_requests_go_back_to_the_application_as_errors() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, user) = portal.approved("dev", false).await;

    let without_openid = Ask::new(&app).scope("profile groups");
    refused_back(
        &decide(&portal, Some(&user), &without_openid, Some(true)).await,
        &without_openid,
        "invalid_scope",
    );
    let implicit = Ask::new(&app).set("response_type", Some("token"));
    refused_back(
        &decide(&portal, Some(&user), &implicit, Some(true)).await,
        &implicit,
        "unsupported_response_type",
    );
    let hybrid = Ask::new(&app).set("response_type", Some("code id_token"));
    refused_back(
        &decide(&portal, Some(&user), &hybrid, Some(true)).await,
        &hybrid,
        "unsupported_response_type",
    );

    // No token: the page must sign the person in; with prompt=none, that is an error.
    let ask = Ask::new(&app);
    let reply = decide(&portal, None, &ask, None).await.expect(200);
    assert_eq!(reply.body["data"]["login"], true, "{}", reply.body);
    assert_eq!(reply.body["data"].get("redirect"), None);
    assert_eq!(reply.body["data"]["client"]["clientId"], app.id.as_str());
    let reply = decide(&portal, Some("not-a-token"), &ask, None).await.expect(200);
    assert_eq!(reply.body["data"]["login"], true, "{}", reply.body);
    let silent = Ask::new(&app).set("prompt", Some("none"));
    refused_back(
        &decide(&portal, None, &silent, None).await,
        &silent,
        "login_required",
    );
    // Approving needs a signed-in person.
    let reply = decide(&portal, None, &ask, Some(true)).await;
    assert!(
        reply.body["data"]["redirect"]
            .as_str()
            .is_none_or(|r| !r.contains("code=")),
        "no code without a person: {}",
        reply.body
    );

    // A user not approved yet is denied.
    portal.register("waiting", false).await;
    let waiting = portal.login("waiting", PASSWORD).await;
    let ask = Ask::new(&app);
    refused_back(
        &decide(&portal, Some(&waiting), &ask, Some(true)).await,
        &ask,
        "access_denied",
    );

    // Saying no is access_denied, with the state.
    let ask = Ask::new(&app);
    refused_back(
        &decide(&portal, Some(&user), &ask, Some(false)).await,
        &ask,
        "access_denied",
    );
}

#[tokio::test]
async fn redirect_uris_match_exactly_or_nobody_is_sent_anywhere() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let body = json!({"name": "Grafana", "redirectUris": [REDIRECT, "http://127.0.0.1:18000/cb"]});
    let app = register_app(&portal, &admin, body).await;
    let (_, user) = portal.approved("dev", false).await;
    const MISMATCH: &str = "redirect_uri: must be exactly one of the application's registered redirect URIs";

    for wrong in [
        "https://rp.example/callback/",
        "https://rp.example/callback?extra=1",
        "https://rp.example/callback#x",
        "https://rp.example:8443/callback",
        "https://RP.example/callback",
        "https://rp.example/Callback",
        "http://rp.example/callback",
        "https://rp.example.evil.example/callback",
        "https://evil.example/callback",
        "http://127.0.0.1:18001/cb",
        "http://localhost:18000/cb",
        "http://127.0.0.1:18000/cb/../cb",
        " https://rp.example/callback",
    ] {
        let ask = Ask::new(&app).set("redirect_uri", Some(wrong));
        for approve in [None, Some(true)] {
            refused_here(decide(&portal, Some(&user), &ask, approve).await, MISMATCH);
        }
        // Even the errors that otherwise go back to the application stay here.
        let ask = ask.scope("profile").set("prompt", Some("none"));
        refused_here(decide(&portal, None, &ask, None).await, MISMATCH);
    }
    let ask = Ask::new(&app).set("redirect_uri", None);
    refused_here(decide(&portal, Some(&user), &ask, Some(true)).await, MISMATCH);

    // An unknown client is never redirected to either.
    const UNKNOWN: &str = "client_id: is not a registered application";
    for client in ["0123456789abcdef01234567", "nonsense"] {
        let ask = Ask::new(&app).set("client_id", Some(client));
        refused_here(decide(&portal, Some(&user), &ask, Some(true)).await, UNKNOWN);
    }
    // Absent or empty: 422 about client_id, whatever its words.
    for ask in [
        Ask::new(&app).set("client_id", None),
        Ask::new(&app).set("client_id", Some("")),
    ] {
        let reply = decide(&portal, Some(&user), &ask, Some(true)).await.expect(422);
        assert!(reply.message().starts_with("client_id: "), "{}", reply.body);
        assert!(!reply.body.to_string().contains("redirect\":"), "{}", reply.body);
    }

    // The code is bound to the URI it was asked for: the other registered one is refused.
    let ask = Ask::new(&app);
    let code = code_for(&portal, &user, &ask).await;
    let other = ask.clone().set("redirect_uri", Some("http://127.0.0.1:18000/cb"));
    oauth_error(
        &exchange(&portal, &app, Auth::Basic, &code, &other).await,
        400,
        "invalid_grant",
    );
    let ask = Ask::new(&app);
    let code = code_for(&portal, &user, &ask).await;
    let trailing = ask
        .clone()
        .set("redirect_uri", Some("https://rp.example/callback/"));
    oauth_error(
        &exchange(&portal, &app, Auth::Basic, &code, &trailing).await,
        400,
        "invalid_grant",
    );
}

// --- Client authentication ----------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let ask = Ask::new(&app);
    let code = code_for(&portal, &admin, &ask).await;

    let mut wrong = app.clone();
    wrong.secret = Some("0".repeat(64));
    let reply = exchange(&portal, &wrong, Auth::Basic, &code, &ask).await;
    oauth_error(&reply, 401, "invalid_client");
    let challenge = reply
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        challenge.as_deref().is_some_and(|c| c.starts_with("Basic")),
        "WWW-Authenticate: Basic after a Basic attempt: {challenge:?}"
    );
    oauth_error(
        &exchange(&portal, &wrong, Auth::Post, &code, &ask).await,
        401,
        "invalid_client",
    );
    // Without the secret at all, a confidential client is not authenticated.
    oauth_error(
        &exchange(&portal, &app, Auth::None, &code, &ask).await,
        401,
        "invalid_client",
    );
    // A client that does not exist.
    let mut nobody = app.clone();
    nobody.id = "0123456789abcdef01234567".into();
    oauth_error(
        &exchange(&portal, &nobody, Auth::Basic, &code, &ask).await,
        401,
        "invalid_client",
    );
    // The secret of the client, a prefix of it, or it in another case.
    let secret = app.secret.clone().unwrap();
    for guess in [
        secret[..63].to_owned(),
        secret.to_uppercase(),
        format!("{secret}0"),
    ] {
        let mut guessing = app.clone();
        guessing.secret = Some(guess);
        oauth_error(
            &exchange(&portal, &guessing, Auth::Basic, &code, &ask).await,
            401,
            "invalid_client",
        );
    }

    // The code survived the failed attempts: the right secret gets the tokens.
    tokens_of(&exchange(&portal, &app, Auth::Basic, &code, &ask).await);
    // An unknown grant type is its own error.
    let reply = token_endpoint(&portal, &app, Auth::Basic, &[("grant_type", "password")]).await;
    oauth_error(&reply, 400, "unsupported_grant_type");
}

#[tokio::test]
async fn another_applications_code_is_invalid_grant() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let grafana = confidential(&portal, &admin, "Grafana").await;
    let thief = confidential(&portal, &admin, "Thief").await;
    let ask = Ask::new(&grafana);
    let code = code_for(&portal, &admin, &ask).await;
    // The thief presents it with its own (valid) credentials, at the URI it was asked for.
    oauth_error(
        &exchange(&portal, &thief, Auth::Basic, &code, &ask).await,
        400,
        "invalid_grant",
    );
    oauth_error(
        &exchange(&portal, &thief, Auth::Post, &code, &ask).await,
        400,
        "invalid_grant",
    );
    // Nor may it refresh another application's grant.
    let (_, tokens) = sign_in(&portal, &grafana, &admin).await;
    oauth_error(
        &refresh(&portal, &thief, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
}

// --- Refresh tokens ---------------------------------------------------------------------------

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_family() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (user_id, user) = portal.approved("dev", false).await;
    let (ask, first) = sign_in(&portal, &app, &user).await;
    let r1 = first.refresh.clone().unwrap();

    let second = tokens_of(&refresh(&portal, &app, &r1).await);
    let r2 = second.refresh.clone().expect("a new refresh token");
    assert_ne!(r1, r2, "rotated");
    // The refreshed ID token still verifies (its nonce, when any, is the sign-in's).
    let claims = parts(&second.id).1;
    assert_eq!(claims["sub"], user_id.to_string());
    if let Some(nonce) = claims["nonce"].as_str() {
        assert_eq!(
            nonce, ask.nonce,
            "a refreshed ID token's nonce, if any, is the sign-in's"
        );
    }
    verify_id_token_without_nonce(&portal, &app, &second.id).await;
    assert_eq!(userinfo(&portal, &second.access).await.status, StatusCode::OK);

    // The old one presented again: refused, and the whole family with it.
    oauth_error(&refresh(&portal, &app, &r1).await, 400, "invalid_grant");
    oauth_error(&refresh(&portal, &app, &r2).await, 400, "invalid_grant");
    refused_token(
        &userinfo(&portal, &second.access).await,
        "the family's latest access token",
    );
    refused_token(
        &userinfo(&portal, &first.access).await,
        "the family's first access token",
    );

    // A refresh token is no access token and the reverse.
    let (_, fresh) = sign_in(&portal, &app, &user).await;
    refused_token(
        &userinfo(&portal, fresh.refresh.as_deref().unwrap()).await,
        "a refresh token",
    );
    oauth_error(&refresh(&portal, &app, &fresh.access).await, 400, "invalid_grant");
    oauth_error(&refresh(&portal, &app, "made-up").await, 400, "invalid_grant");
}

#[tokio::test]
async fn revoking_a_token_ends_its_grant() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let revoke = async |token: &str, hint: Option<&str>| {
        let mut form = vec![("token", token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        let mut request = portal.client_request(Method::POST, "/oauth/revoke");
        let pair = format!("{}:{}", app.id, app.secret.as_deref().unwrap());
        request = request
            .header("Authorization", format!("Basic {}", STANDARD.encode(pair)))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap());
        send(request).await
    };

    let (_, tokens) = sign_in(&portal, &app, &admin).await;
    let reply = revoke(tokens.refresh.as_deref().unwrap(), Some("refresh_token")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "an access token of a revoked grant",
    );

    let (_, tokens) = sign_in(&portal, &app, &admin).await;
    assert_eq!(revoke(&tokens.access, None).await.status, StatusCode::OK);
    refused_token(&userinfo(&portal, &tokens.access).await, "a revoked access token");
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );

    assert_eq!(revoke("never-issued", None).await.status, StatusCode::OK);

    // Another application may not revoke this one's tokens.
    let other = confidential(&portal, &admin, "Other").await;
    let (_, tokens) = sign_in(&portal, &app, &admin).await;
    let pair = format!("{}:{}", other.id, other.secret.as_deref().unwrap());
    let reply = send(
        portal
            .client_request(Method::POST, "/oauth/revoke")
            .header("Authorization", format!("Basic {}", STANDARD.encode(pair)))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string([("token", tokens.refresh.as_deref().unwrap())]).unwrap()),
    )
    .await;
    assert_ne!(reply.status.as_u16() / 100, 5, "{}", reply.body);
    assert_eq!(userinfo(&portal, &tokens.access).await.status, StatusCode::OK);
    tokens_of(&refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await);
}

// --- Forgeries ------------------------------------------------------------------------------

/// A JWS over the given header and payload with the given signer.
fn forge(header: &Value, payload: &Value, sign: impl Fn(&[u8]) -> String) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{signature}")
}

fn hs256(secret: &[u8]) -> impl Fn(&[u8]) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    move |input| jsonwebtoken::crypto::sign(input, &key, jsonwebtoken::Algorithm::HS256).unwrap()
}

#[tokio::test]
async fn forged_tokens_are_refused_at_userinfo() {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (user_id, user) = portal.approved("eve", false).await;
    let (_, tokens) = sign_in(&portal, &app, &user).await;
    let (header, claims) = parts(&tokens.access);
    // The admin's claims are what a forger wants.
    let mut wanted = claims.clone();
    wanted["sub"] = json!("1");
    wanted["exp"] = json!(now() + 3600);
    assert_ne!(user_id, 1);

    let set = jwks(&portal).await;
    let key = &set["keys"][0];
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    let public =
        rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(&n), rsa::BigUint::from_bytes_be(&e)).unwrap();
    let spki_pem = public.to_public_key_pem(LineEnding::LF).unwrap();
    let pkcs1_pem = public.to_pkcs1_pem(LineEnding::LF).unwrap();
    let spki_der = public.to_public_key_der().unwrap();

    let attacker = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let attacker_key =
        jsonwebtoken::EncodingKey::from_rsa_pem(attacker.to_pkcs1_pem(LineEnding::LF).unwrap().as_bytes())
            .unwrap();
    let rs256 = |input: &[u8]| {
        jsonwebtoken::crypto::sign(input, &attacker_key, jsonwebtoken::Algorithm::RS256).unwrap()
    };
    let attacker_jwk = {
        use rsa::traits::PublicKeyParts;
        json!({"kty": "RSA", "kid": "attacker", "use": "sig", "alg": "RS256",
               "n": b64(&attacker.n().to_bytes_be()), "e": b64(&attacker.e().to_bytes_be())})
    };
    let kid = header["kid"].clone();
    let with = |changes: Value| {
        let mut h = header.clone();
        for (k, v) in changes.as_object().unwrap() {
            h[k] = v.clone();
        }
        h
    };

    let unsigned = format!(
        "{}.{}.",
        b64(with(json!({"alg": "none"})).to_string().as_bytes()),
        b64(wanted.to_string().as_bytes())
    );
    let attacks: Vec<(&str, String)> = vec![
        ("alg none", unsigned.clone()),
        (
            "alg none, signature kept",
            format!("{unsigned}{}", tokens.access.rsplit('.').next().unwrap()),
        ),
        (
            "alg None",
            forge(&with(json!({"alg": "None"})), &wanted, |_| String::new()),
        ),
        (
            "HS256 with the public key's PEM (SPKI)",
            forge(
                &with(json!({"alg": "HS256"})),
                &wanted,
                hs256(spki_pem.as_bytes()),
            ),
        ),
        (
            "HS256 with the public key's PEM (PKCS#1)",
            forge(
                &with(json!({"alg": "HS256"})),
                &wanted,
                hs256(pkcs1_pem.as_bytes()),
            ),
        ),
        (
            "HS256 with the public key's DER",
            forge(
                &with(json!({"alg": "HS256"})),
                &wanted,
                hs256(spki_der.as_bytes()),
            ),
        ),
        (
            "HS256 with the modulus",
            forge(&with(json!({"alg": "HS256"})), &wanted, hs256(&n)),
        ),
        (
            "HS256 with the JWK's text",
            forge(
                &with(json!({"alg": "HS256"})),
                &wanted,
                hs256(key.to_string().as_bytes()),
            ),
        ),
        (
            "RS256 by another key, unknown kid",
            forge(&with(json!({"kid": "attacker"})), &wanted, rs256),
        ),
        (
            "RS256 by another key, no kid",
            forge(&json!({"alg": "RS256", "typ": header["typ"]}), &wanted, rs256),
        ),
        (
            "RS256 by another key, the portal's kid",
            forge(&with(json!({"kid": kid})), &wanted, rs256),
        ),
        (
            "RS256 by another key, embedded jwk",
            forge(
                &with(json!({"kid": "attacker", "jwk": attacker_jwk})),
                &wanted,
                rs256,
            ),
        ),
        (
            "RS256 by another key, jku",
            forge(
                &with(json!({"kid": "attacker", "jku": format!("{}/oauth/jwks", portal.url)})),
                &wanted,
                rs256,
            ),
        ),
        (
            "the portal's signature over other claims",
            forge(&header, &wanted, |_| {
                tokens.access.rsplit('.').next().unwrap().to_owned()
            }),
        ),
        (
            "the real token's kid swapped",
            forge(&with(json!({"kid": "0"})), &claims, |_| {
                tokens.access.rsplit('.').next().unwrap().to_owned()
            }),
        ),
        ("the ID token as an access token", tokens.id.clone()),
        ("the portal session's own JWT", user.clone()),
        ("garbage", "not.a.token".into()),
    ];
    for (name, forged) in attacks {
        refused_token(&userinfo(&portal, &forged).await, name);
    }
    let empty = userinfo(&portal, "").await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED, "{}", empty.body);
    // The original still passes: each attack failed for its flaw alone.
    assert_eq!(userinfo(&portal, &tokens.access).await.status, StatusCode::OK);
    // No Authorization at all, or another scheme.
    let bare = send(portal.client_request(Method::GET, "/oauth/userinfo")).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    let basic = send(
        portal
            .client_request(Method::GET, "/oauth/userinfo")
            .header("Authorization", format!("Basic {}", tokens.access)),
    )
    .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);

    // An application's access token is not a portal session.
    portal
        .get("/v1/authorization", Some(&tokens.access))
        .await
        .expect(401);
    portal
        .get("/v1/authorization", Some(&format!("Bearer {}", tokens.access)))
        .await
        .expect(401);
    portal
        .get("/v1/authorization", Some(&format!("Bearer {}", tokens.id)))
        .await
        .expect(401);
}

// --- What ends a user's grants -------------------------------------------------------------

#[tokio::test]
async fn a_forbidden_users_tokens_die() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (id, user) = portal.approved("rogue", false).await;
    let (_, tokens) = sign_in(&portal, &app, &user).await;
    portal.set_status(id, 3).await;
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "a forbidden user's access token",
    );
    // Allowed again, the old grant stays dead and no consent was kept.
    portal.set_status(id, 1).await;
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    let user = portal.login("rogue", PASSWORD).await;
    let reply = decide(&portal, Some(&user), &Ask::new(&app), None)
        .await
        .expect(200);
    assert_eq!(
        reply.body["data"].get("redirect"),
        None,
        "consent asked again: {}",
        reply.body
    );
}

#[tokio::test]
async fn a_deleted_users_tokens_die() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (id, user) = portal.approved("leaver", false).await;
    let (_, tokens) = sign_in(&portal, &app, &user).await;
    let ask = Ask::new(&app);
    let code = code_for(&portal, &user, &ask).await;
    portal
        .delete(&format!("/v1/admin/user/{id}"), Some(&admin))
        .await
        .expect(200);
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "a deleted user's access token",
    );
    // A code handed out before the deletion gives nothing either.
    oauth_error(
        &exchange(&portal, &app, Auth::Basic, &code, &ask).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn leaving_a_deleted_business_ends_the_grant_and_the_group() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Kubernetes").await;
    let (_, business_id, boss) = portal.business_admin("owner", "team-k").await;
    let (_, member) = portal.member(&boss, "crew", false).await;
    let (ask, tokens) = sign_in(&portal, &app, &member).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(groups(&claims), sorted(&["team-k", "ote:member"]));

    portal
        .delete(&format!("/v1/admin/business/{business_id}"), Some(&admin))
        .await
        .expect(200);
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "an access token naming the old business",
    );

    // A new sign-in asks consent again and names no business.
    let member = portal.login("crew", PASSWORD).await;
    let ask = Ask::new(&app);
    let reply = decide(&portal, Some(&member), &ask, None).await.expect(200);
    assert_eq!(
        reply.body["data"].get("redirect"),
        None,
        "consent was forgotten: {}",
        reply.body
    );
    let tokens = sign_in_with(&portal, &app, &member, &ask, Auth::Basic).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(groups(&claims), ["ote:member"]);
    assert_eq!(
        groups(&userinfo(&portal, &tokens.access).await.body),
        ["ote:member"]
    );
}

#[tokio::test]
async fn a_password_reset_or_a_refusal_ends_the_grants_and_consents() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, _, boss) = portal.business_admin("boss", "acme").await;
    let (id, member) = portal.member(&boss, "crew", false).await;
    let (_, tokens) = sign_in(&portal, &app, &member).await;
    portal
        .put(
            &format!("/v1/admin/user/{id}/password"),
            Some(&admin),
            json!({"password": "Reset2024x"}),
        )
        .await
        .expect(200);
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "an access token from before a password reset",
    );
    let member = portal.login("crew", "Reset2024x").await;
    let silent = Ask::new(&app).set("prompt", Some("none"));
    refused_back(
        &decide(&portal, Some(&member), &silent, None).await,
        &silent,
        "consent_required",
    );

    // Refused (status 2) by the system administrator: the same.
    let (_, tokens) = sign_in(&portal, &app, &member).await;
    portal.set_status(id, 2).await;
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "a refused user's access token",
    );
}

#[tokio::test]
async fn a_sign_in_with_a_second_factor_says_so_in_amr() {
    use crate::accounts::{code_at, enrol};
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, token) = portal.approved("careful", false).await;
    let (secret, _) = enrol(&portal, &token).await;
    let code = code_at(&secret, now() as u64);
    let reply = portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "careful", "password": PASSWORD, "code": code}),
        )
        .await
        .expect(200);
    let session = reply.body["token"].as_str().unwrap().to_owned();
    let (ask, tokens) = sign_in(&portal, &app, &session).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    // Refreshed, it still says how the person signed in.
    let refreshed = tokens_of(&refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await);
    assert_eq!(parts(&refreshed.id).1["amr"], json!(["pwd", "otp"]));
}

// --- Consent --------------------------------------------------------------------------------

#[tokio::test]
async fn consent_is_remembered_until_the_user_revokes_it() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let other = confidential(&portal, &admin, "Harbor").await;
    let (_, user) = portal.approved("dev", false).await;

    // prompt=none before any consent: consent_required, sent back to the application.
    let silent = Ask::new(&app).set("prompt", Some("none"));
    refused_back(
        &decide(&portal, Some(&user), &silent, None).await,
        &silent,
        "consent_required",
    );
    assert_eq!(
        portal
            .get("/v1/user/applications", Some(&user))
            .await
            .expect(200)
            .body["data"],
        json!([])
    );

    let (_, tokens) = sign_in(&portal, &app, &user).await;
    // Remembered: the next request is answered at once, prompt=none too.
    let ask = Ask::new(&app);
    let code = code_of(&decide(&portal, Some(&user), &ask, None).await.expect(200), &ask);
    tokens_of(&exchange(&portal, &app, Auth::Basic, &code, &ask).await);
    let silent = Ask::new(&app).set("prompt", Some("none"));
    code_of(&decide(&portal, Some(&user), &silent, None).await, &silent);
    // Narrower scopes are covered by the consent; wider ones, or prompt=consent, ask again.
    let narrower = Ask::new(&app).scope("openid groups");
    code_of(&decide(&portal, Some(&user), &narrower, None).await, &narrower);
    let again = Ask::new(&app).set("prompt", Some("consent"));
    let reply = decide(&portal, Some(&user), &again, None).await.expect(200);
    assert_eq!(reply.body["data"].get("redirect"), None, "{}", reply.body);
    // The consent is per application.
    let elsewhere = Ask::new(&other);
    let reply = decide(&portal, Some(&user), &elsewhere, None).await.expect(200);
    assert_eq!(reply.body["data"].get("redirect"), None, "{}", reply.body);

    let listed = portal.get("/v1/user/applications", Some(&user)).await.expect(200);
    let apps = listed.body["data"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{}", listed.body);
    assert_eq!(apps[0]["clientId"], app.id.as_str());
    assert_eq!(apps[0]["name"], "Grafana");
    let scopes: BTreeSet<&str> = apps[0]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(scopes, ALL_SCOPES.split(' ').collect());
    assert!(apps[0]["createTime"].as_i64().is_some());
    // Another user sees none of it.
    let (_, stranger) = portal.approved("stranger", false).await;
    assert_eq!(
        portal
            .get("/v1/user/applications", Some(&stranger))
            .await
            .expect(200)
            .body["data"],
        json!([])
    );
    portal
        .delete(&format!("/v1/user/applications/{}", app.id), Some(&stranger))
        .await
        .expect(404);
    assert_eq!(userinfo(&portal, &tokens.access).await.status, StatusCode::OK);

    // Revoked: forgotten, and the grants of that application end.
    portal
        .delete(&format!("/v1/user/applications/{}", app.id), Some(&user))
        .await
        .expect(200);
    assert_eq!(
        portal
            .get("/v1/user/applications", Some(&user))
            .await
            .expect(200)
            .body["data"],
        json!([])
    );
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "an access token of a revoked consent",
    );
    let silent = Ask::new(&app).set("prompt", Some("none"));
    refused_back(
        &decide(&portal, Some(&user), &silent, None).await,
        &silent,
        "consent_required",
    );
    portal
        .delete(&format!("/v1/user/applications/{}", app.id), Some(&user))
        .await
        .expect(404);
    portal
        .delete("/v1/user/applications/not-a-client", Some(&user))
        .await
        .expect(422);
    let audit = portal
        .get("/v1/admin/audit?pageSize=100", Some(&admin))
        .await
        .expect(200);
    assert!(
        audit.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "oauth.consent.revoke"),
        "audited: {}",
        audit.body
    );
}

#[tokio::test]
async fn a_personal_access_token_may_not_allow_applications() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, user) = portal.approved("ci", false).await;
    let pat = personal_token(&portal, &user).await;
    let ask = Ask::new(&app);
    for approve in [None, Some(true)] {
        decide(&portal, Some(&pat), &ask, approve).await.expect(403);
        decide(&portal, Some(&format!("Bearer {pat}")), &ask, approve)
            .await
            .expect(403);
    }
    portal.get("/v1/user/applications", Some(&pat)).await.expect(403);
    portal
        .delete(&format!("/v1/user/applications/{}", app.id), Some(&pat))
        .await
        .expect(403);
    // The session it belongs to may.
    sign_in(&portal, &app, &user).await;
}

// --- Applications ----------------------------------------------------------------------------

#[tokio::test]
async fn application_fields_are_checked_at_their_limits() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let uris =
        |count: usize| -> Vec<String> { (0..count).map(|i| format!("https://rp.example/cb{i}")).collect() };
    let valid = json!({"name": "Grafana", "redirectUris": [REDIRECT]});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    for (body, field) in [
        (with("name", json!("")), "name"),
        (with("name", json!("   ")), "name"),
        (with("name", json!("n".repeat(65))), "name"),
        (with("name", json!("bad\u{7}name")), "name"),
        (with("redirectUris", json!([])), "redirectUris"),
        (with("redirectUris", json!(uris(11))), "redirectUris"),
        (
            with("redirectUris", json!(["http://rp.example/callback"])),
            "redirectUris",
        ),
        (
            with("redirectUris", json!(["http://10.0.0.8/callback"])),
            "redirectUris",
        ),
        (
            with("redirectUris", json!(["https://rp.example/cb#frag"])),
            "redirectUris",
        ),
        (
            with("redirectUris", json!(["ftp://rp.example/cb"])),
            "redirectUris",
        ),
        (with("redirectUris", json!(["/relative"])), "redirectUris"),
        (with("redirectUris", json!([REDIRECT, REDIRECT])), "redirectUris"),
        (
            with("redirectUris", json!([format!("https://{}", "a".repeat(501))])),
            "redirectUris",
        ),
        (
            with("redirectUris", json!([format!("https://{}", "h".repeat(254))])),
            "redirectUris",
        ),
        (
            with(
                "redirectUris",
                json!([format!("https://rp.example/{}", "p".repeat(481))]),
            ),
            "redirectUris",
        ),
        (
            with("redirectUris", json!(["https://rp.example:65536/cb"])),
            "redirectUris",
        ),
        (with("redirectUris", json!(["https://[x/cb"])), "redirectUris"),
        (
            with("redirectUris", json!(["https://rp.example@attacker.example/cb"])),
            "redirectUris",
        ),
        (
            with("postLogoutRedirectUris", json!(uris(11))),
            "postLogoutRedirectUris",
        ),
        (
            with("postLogoutRedirectUris", json!(["http://rp.example/bye"])),
            "postLogoutRedirectUris",
        ),
    ] {
        let reply = portal
            .post("/v1/admin/oauth/clients", Some(&admin), body.clone())
            .await
            .expect(422);
        assert!(
            reply.message().starts_with(field),
            "{body}: the message names {field}: {:?}",
            reply.message()
        );
    }
    let mut without = valid.clone();
    without.as_object_mut().unwrap().remove("redirectUris");
    let reply = portal
        .post("/v1/admin/oauth/clients", Some(&admin), without)
        .await
        .expect(422);
    assert!(reply.message().starts_with("redirectUris"), "{}", reply.message());
    assert_eq!(
        portal
            .get("/v1/admin/oauth/clients", Some(&admin))
            .await
            .expect(200)
            .body["data"],
        json!([]),
        "nothing refused was stored"
    );

    // At the limits, accepted.
    for body in [
        with("name", json!("n".repeat(64))),
        with("name", json!("a")),
        with("redirectUris", json!(uris(10))),
        with("postLogoutRedirectUris", json!(uris(10))),
        with(
            "redirectUris",
            json!([
                "http://localhost:8000",
                "http://[::1]:8000/cb",
                "http://127.0.0.1/cb"
            ]),
        ),
        with(
            "redirectUris",
            json!([
                format!("https://{}", "h".repeat(253)),
                format!("https://rp.example:65535/{}", "p".repeat(480)),
            ]),
        ),
    ] {
        portal
            .post("/v1/admin/oauth/clients", Some(&admin), body)
            .await
            .expect(200);
    }
    // Names are trimmed.
    let app = register_app(&portal, &admin, with("name", json!("  Spaced  "))).await;
    let list = portal
        .get("/v1/admin/oauth/clients", Some(&admin))
        .await
        .expect(200);
    let newest = &list.body["data"][0];
    assert_eq!(newest["clientId"], app.id.as_str(), "newest first");
    assert_eq!(newest["name"], "Spaced");
    assert_eq!(list.body["data"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn applications_are_the_system_administrators_and_their_secrets_are_shown_once() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let (_, _, boss) = portal.business_admin("boss", "acme").await;
    let body =
        json!({"name": "Grafana", "redirectUris": [REDIRECT], "postLogoutRedirectUris": [AFTER_LOGOUT]});
    portal
        .post("/v1/admin/oauth/clients", Some(&boss), body.clone())
        .await
        .expect(403);
    portal
        .get("/v1/admin/oauth/clients", Some(&boss))
        .await
        .expect(403);
    portal
        .post("/v1/admin/oauth/clients", None, body.clone())
        .await
        .expect(401);

    let app = register_app(&portal, &admin, body).await;
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    assert!(hex(&app.id, 24), "clientId {}", app.id);
    let secret = app.secret.clone().unwrap();
    assert!(hex(&secret, 64), "clientSecret {secret}");
    let cli = public(&portal, &admin, "kubelogin").await;

    let list = portal
        .get("/v1/admin/oauth/clients", Some(&admin))
        .await
        .expect(200);
    assert!(
        !list.body.to_string().contains(&secret),
        "the list never shows a secret"
    );
    let rows = list.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["clientId"], cli.id.as_str(), "newest first");
    assert_eq!(rows[0]["public"], true);
    assert_eq!(rows[1]["redirectUris"], json!([REDIRECT]));
    assert_eq!(rows[1]["postLogoutRedirectUris"], json!([AFTER_LOGOUT]));
    assert_eq!(rows[1]["enabled"], true);
    let stored: Vec<Option<String>> = sqlx::query_scalar("SELECT secret_digest FROM oauth_clients")
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap();
    assert!(
        stored.iter().flatten().all(|digest| !digest.contains(&secret)),
        "only a digest is stored"
    );

    // Changed: what is given changes, the rest stays.
    let path = format!("/v1/admin/oauth/clients/{}", app.id);
    portal
        .put(&path, Some(&boss), json!({"name": "Mine"}))
        .await
        .expect(403);
    portal
        .put(
            &path,
            Some(&admin),
            json!({"name": "Grafana 11", "redirectUris": ["https://rp.example/new"]}),
        )
        .await
        .expect(200);
    let list = portal
        .get("/v1/admin/oauth/clients", Some(&admin))
        .await
        .expect(200);
    let row = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["clientId"] == app.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["name"], "Grafana 11");
    assert_eq!(row["redirectUris"], json!(["https://rp.example/new"]));
    assert_eq!(row["postLogoutRedirectUris"], json!([AFTER_LOGOUT]));
    // The old URI no longer matches.
    let (_, user) = portal.approved("dev", false).await;
    let ask = Ask::new(&app);
    refused_here(
        decide(&portal, Some(&user), &ask, Some(true)).await,
        "redirect_uri: must be exactly one of the application's registered redirect URIs",
    );
    portal
        .put(&path, Some(&admin), json!({"redirectUris": []}))
        .await
        .expect(422);
    portal
        .put(
            "/v1/admin/oauth/clients/0123456789abcdef01234567",
            Some(&admin),
            json!({"name": "x"}),
        )
        .await
        .expect(404);
    let reply = portal
        .put("/v1/admin/oauth/clients/XYZ", Some(&admin), json!({"name": "x"}))
        .await
        .expect(422);
    assert_eq!(reply.message(), "clientId: must be 24 hexadecimal digits");

    let audit = portal
        .get("/v1/admin/audit?pageSize=100", Some(&admin))
        .await
        .expect(200);
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"oauth.client.create"), "{actions:?}");
    assert!(actions.contains(&"oauth.client.update"), "{actions:?}");
    assert!(
        !audit.body.to_string().contains(&secret),
        "the audit log never shows a secret"
    );
}

#[tokio::test]
async fn a_disabled_or_deleted_application_can_use_nothing() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, user) = portal.approved("dev", false).await;
    let path = format!("/v1/admin/oauth/clients/{}", app.id);
    const UNKNOWN: &str = "client_id: is not a registered application";

    // Disabled: no new sign-in, no refresh, no userinfo; enabled again, it works.
    let (_, tokens) = sign_in(&portal, &app, &user).await;
    let ask = Ask::new(&app);
    let code = code_for(&portal, &user, &ask).await;
    portal
        .put(&path, Some(&admin), json!({"enabled": false}))
        .await
        .expect(200);
    refused_here(
        decide(&portal, Some(&user), &Ask::new(&app), Some(true)).await,
        UNKNOWN,
    );
    dead_refresh(&refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await);
    dead_refresh(&exchange(&portal, &app, Auth::Basic, &code, &ask).await);
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "a disabled application's access token",
    );
    portal
        .put(&path, Some(&admin), json!({"enabled": true}))
        .await
        .expect(200);
    let (_, tokens) = sign_in(&portal, &app, &user).await;

    // Deleted: everything it had is gone.
    let ask = Ask::new(&app);
    let code = code_for(&portal, &user, &ask).await;
    portal.delete(&path, Some(&admin)).await.expect(200);
    dead_refresh(&refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await);
    dead_refresh(&exchange(&portal, &app, Auth::Basic, &code, &ask).await);
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "a deleted application's access token",
    );
    refused_here(
        decide(&portal, Some(&user), &Ask::new(&app), Some(true)).await,
        UNKNOWN,
    );
    assert_eq!(
        portal
            .get("/v1/user/applications", Some(&user))
            .await
            .expect(200)
            .body["data"],
        json!([]),
        "its consents are gone"
    );
    portal.delete(&path, Some(&admin)).await.expect(404);
    let reply = portal
        .delete("/v1/admin/oauth/clients/XYZ", Some(&admin))
        .await
        .expect(422);
    assert_eq!(reply.message(), "clientId: must be 24 hexadecimal digits");
    let audit = portal
        .get("/v1/admin/audit?pageSize=100", Some(&admin))
        .await
        .expect(200);
    assert!(
        audit.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "oauth.client.delete"),
        "{}",
        audit.body
    );
    // A new application with the same name is a new client: the old tokens stay dead.
    let again = confidential(&portal, &admin, "Grafana").await;
    assert_ne!(again.id, app.id);
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "the old application's access token",
    );
}

// --- Races ------------------------------------------------------------------------------------

#[tokio::test]
async fn one_code_exchanged_twenty_times_at_once_gives_tokens_once() {
    let _alone = crate::common::alone().await;
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let ask = Ask::new(&app);
    let code = code_for(&portal, &admin, &ask).await;
    let replies =
        futures::future::join_all((0..20).map(|_| exchange(&portal, &app, Auth::Basic, &code, &ask))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    for reply in replies.iter().filter(|r| r.status != StatusCode::OK) {
        oauth_error(reply, 400, "invalid_grant");
    }
    // The winner's tokens are then ended too: the code was used more than once.
    let winner = tokens_of(replies.iter().find(|r| r.status == StatusCode::OK).unwrap());
    refused_token(
        &userinfo(&portal, &winner.access).await,
        "the tokens of a replayed code",
    );
}

#[tokio::test]
async fn one_refresh_token_used_twenty_times_at_once_ends_the_family() {
    let _alone = crate::common::alone().await;
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, tokens) = sign_in(&portal, &app, &admin).await;
    let r1 = tokens.refresh.clone().unwrap();
    let replies = futures::future::join_all((0..20).map(|_| refresh(&portal, &app, &r1))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    for reply in replies.iter().filter(|r| r.status != StatusCode::OK) {
        oauth_error(reply, 400, "invalid_grant");
    }
    for reply in replies.iter().filter(|r| r.status == StatusCode::OK) {
        let won = tokens_of(reply);
        oauth_error(
            &refresh(&portal, &app, won.refresh.as_deref().unwrap()).await,
            400,
            "invalid_grant",
        );
        refused_token(
            &userinfo(&portal, &won.access).await,
            "the race winner's access token",
        );
    }
    oauth_error(&refresh(&portal, &app, &r1).await, 400, "invalid_grant");
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "the family's first access token",
    );
}

#[tokio::test]
async fn revoking_an_application_while_it_signs_in_and_refreshes_never_fails_the_database() {
    // Found by the fuzzer on PostgreSQL: a revocation answered 503 ("collided with a
    // simultaneous one") when other requests of the same user and application ran at once.
    let _alone = crate::common::alone().await;
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let path = format!("/v1/user/applications/{}", app.id);
    for _ in 0..5 {
        let (ask, tokens) = sign_in(&portal, &app, &admin).await;
        let refresh_token = tokens.refresh.clone().expect("a refresh token");
        let revokes = futures::future::join_all(
            (0..6).map(|_| async { vec![portal.delete(&path, Some(&admin)).await.status.as_u16()] }),
        );
        let refreshes = futures::future::join_all(
            (0..6).map(|_| async { vec![refresh(&portal, &app, &refresh_token).await.status.as_u16()] }),
        );
        let sign_ins = futures::future::join_all((0..6).map(|_| async {
            let reply = decide(&portal, Some(&admin), &ask, Some(true)).await;
            if reply.status != StatusCode::OK {
                return vec![reply.status.as_u16()];
            }
            let code = code_of(&reply, &ask);
            vec![
                200,
                exchange(&portal, &app, natural(&app), &code, &ask)
                    .await
                    .status
                    .as_u16(),
            ]
        }));
        let (revoked, refreshed, signed_in) = futures::future::join3(revokes, refreshes, sign_ins).await;
        let statuses: Vec<u16> = [revoked, refreshed, signed_in]
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        assert!(statuses.iter().all(|status| *status < 500), "{statuses:?}");
        // Whatever the order was, what is left reads back, and one more revocation ends it.
        portal
            .get("/v1/user/applications", Some(&admin))
            .await
            .expect(200);
        let last = portal.delete(&path, Some(&admin)).await;
        assert!(matches!(last.status.as_u16(), 200 | 404), "{}", last.body);
        refused_token(
            &userinfo(&portal, &tokens.access).await,
            "a token of a revoked application",
        );
    }
}

/// One sign-in of a race: the approval, then the exchange of its code if one came back.
/// The statuses met, and the access token if the exchange gave one.
async fn approve_and_exchange(
    portal: &TestPortal,
    token: &str,
    app: &App,
    ask: &Ask,
) -> (Vec<u16>, Option<String>) {
    let reply = decide(portal, Some(token), ask, Some(true)).await;
    if reply.status != StatusCode::OK {
        return (vec![reply.status.as_u16()], None);
    }
    // A user forbidden meanwhile is asked to log in again (`login`), not sent back.
    if reply.body["data"]["redirect"].is_null() {
        return (vec![200], None);
    }
    let Some(code) = sent_back(&reply).1.get("code").cloned() else {
        return (vec![200], None);
    };
    let exchanged = exchange(portal, app, natural(app), &code, ask).await;
    let access = (exchanged.status == StatusCode::OK).then(|| tokens_of(&exchanged).access);
    (vec![200, exchanged.status.as_u16()], access)
}

#[tokio::test]
async fn deleting_an_application_while_people_sign_into_it_never_fails_the_database() {
    // Deleting an application ends every grant, code and consent of it, while sign-ins
    // write new ones that name it: on PostgreSQL the two must not wait on each other.
    let _alone = crate::common::alone().await;
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    for round in 0..6 {
        let app = confidential(&portal, &admin, &format!("Grafana {round}")).await;
        let (ask, tokens) = sign_in(&portal, &app, &admin).await;
        let refresh_token = tokens.refresh.clone().expect("a refresh token");
        let path = format!("/v1/user/applications/{}", app.id);
        let sign_ins =
            futures::future::join_all((0..6).map(|_| approve_and_exchange(&portal, &admin, &app, &ask)));
        let (portal, admin, app, path, refresh_token) = (&portal, &admin, &app, &path, &refresh_token);
        let others = futures::future::join_all((0..4).map(|i| async move {
            let reply = match i {
                0 => {
                    portal
                        .delete(&format!("/v1/admin/oauth/clients/{}", app.id), Some(admin))
                        .await
                }
                1 => portal.delete(path, Some(admin)).await,
                _ => refresh(portal, app, refresh_token).await,
            };
            vec![reply.status.as_u16()]
        }));
        let (signed_in, other) = futures::future::join(sign_ins, others).await;
        let (statuses, given): (Vec<Vec<u16>>, Vec<Option<String>>) = signed_in.into_iter().unzip();
        let statuses: Vec<u16> = statuses.into_iter().chain(other).flatten().collect();
        assert!(
            statuses.iter().all(|status| *status < 500),
            "round {round}: {statuses:?}"
        );
        // No token outlives the application, whichever request came first.
        for access in given.into_iter().flatten().chain([tokens.access.clone()]) {
            refused_token(
                &userinfo(portal, &access).await,
                "a token of a deleted application",
            );
        }
    }
}

#[tokio::test]
async fn forbidding_a_user_while_they_sign_in_never_fails_the_database() {
    // The same as for the application, for the person: forbidding them locks their row
    // and ends their grants and consents, while their sign-ins write new ones naming them.
    let _alone = crate::common::alone().await;
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    for round in 0..6 {
        let name = format!("dev{round}");
        let (id, user) = portal.approved(&name, false).await;
        let (ask, tokens) = sign_in(&portal, &app, &user).await;
        let sign_ins =
            futures::future::join_all((0..6).map(|_| approve_and_exchange(&portal, &user, &app, &ask)));
        let user_path = format!("/v1/admin/user/{id}");
        let forbid = portal.put(&user_path, Some(&admin), json!({"status": 3}));
        let (signed_in, forbidden) = futures::future::join(sign_ins, forbid).await;
        let (statuses, given): (Vec<Vec<u16>>, Vec<Option<String>>) = signed_in.into_iter().unzip();
        let statuses: Vec<u16> = statuses
            .into_iter()
            .flatten()
            .chain([forbidden.status.as_u16()])
            .collect();
        assert!(
            statuses.iter().all(|status| *status < 500),
            "round {round}: {statuses:?}"
        );
        assert_eq!(forbidden.status, StatusCode::OK, "{}", forbidden.body);
        for access in given.into_iter().flatten().chain([tokens.access.clone()]) {
            refused_token(&userinfo(&portal, &access).await, "a token of a forbidden user");
        }
    }
}

// --- Logout -----------------------------------------------------------------------------------

async fn logout(query: &[(&str, &str)], portal: &TestPortal) -> Reply {
    let query = serde_urlencoded::to_string(query).unwrap();
    send(browser().get(format!("{}/oauth/logout?{query}", portal.url))).await
}

#[tokio::test]
async fn logout_ends_the_portal_session_and_goes_only_where_registered() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Grafana").await;
    let (_, session) = portal.approved("dev", false).await;
    let (_, other_session) = portal.approved("bystander", false).await;
    let (ask, tokens) = sign_in(&portal, &app, &session).await;
    let (_, bystander) = sign_in(&portal, &app, &other_session).await;
    let claims = verify_id_token(&portal, &app, &tokens.id, &ask.nonce).await;
    let sid = claims["sid"].as_str().unwrap().to_owned();

    // Not registered: 422, no redirect, the session lives.
    for uri in [
        "https://evil.example/",
        "https://rp.example/signed-out/",
        REDIRECT,
    ] {
        let reply = logout(
            &[
                ("id_token_hint", &tokens.id),
                ("post_logout_redirect_uri", uri),
                ("state", "s1"),
            ],
            &portal,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri}: {}",
            reply.body
        );
        assert!(reply.headers.get("location").is_none(), "{uri}: never a redirect");
        portal.get("/v1/authorization", Some(&session)).await.expect(200);
    }
    // A hint nobody signed (alg none, same claims) ends nothing.
    let (header, payload) = parts(&tokens.id);
    let mut none = header.clone();
    none["alg"] = json!("none");
    let forged = format!(
        "{}.{}.",
        b64(none.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let reply = logout(
        &[
            ("id_token_hint", &forged),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
        ],
        &portal,
    )
    .await;
    assert_ne!(reply.status.as_u16() / 100, 5, "{}", reply.body);
    portal.get("/v1/authorization", Some(&session)).await.expect(200);
    assert_eq!(userinfo(&portal, &tokens.access).await.status, StatusCode::OK);

    // Registered: 303 there with the state; the session named by `sid` ends, and so do the
    // application's grants from it.
    let reply = logout(
        &[
            ("id_token_hint", &tokens.id),
            ("post_logout_redirect_uri", AFTER_LOGOUT),
            ("state", "bye-1"),
        ],
        &portal,
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap();
    assert_eq!(location, format!("{AFTER_LOGOUT}?state=bye-1"));
    portal.get("/v1/authorization", Some(&session)).await.expect(401);
    oauth_error(
        &refresh(&portal, &app, tokens.refresh.as_deref().unwrap()).await,
        400,
        "invalid_grant",
    );
    refused_token(
        &userinfo(&portal, &tokens.access).await,
        "an access token of an ended session",
    );
    // Others are untouched.
    portal
        .get("/v1/authorization", Some(&other_session))
        .await
        .expect(200);
    assert_eq!(userinfo(&portal, &bystander.access).await.status, StatusCode::OK);
    assert!(!sid.is_empty());

    // Without a URI: to the sign-in page.
    let session = portal.login("dev", PASSWORD).await;
    let (_, tokens) = sign_in(&portal, &app, &session).await;
    let reply = logout(&[("id_token_hint", &tokens.id)], &portal).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers["location"].to_str().unwrap();
    assert!(
        location == "/login" || location == format!("{}/login", portal.url),
        "{location}"
    );
    portal.get("/v1/authorization", Some(&session)).await.expect(401);
}

// --- Keys --------------------------------------------------------------------------------------

#[tokio::test]
async fn a_fresh_portal_makes_one_signing_key() {
    // Asked for its keys at once, while it may still be making the first one, and then
    // again: one key, the same one.
    let portal = TestPortal::start().await;
    let first = kids(&jwks(&portal).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = kids(&jwks(&portal).await);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(later, first, "no second key was made at the first start");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_keys")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn rotated_keys_are_both_published_and_old_tokens_still_verify() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let app = confidential(&portal, &admin, "Kubernetes").await;
    let (ask, before) = sign_in(&portal, &app, &admin).await;
    // How many keys a fresh portal makes is `a_fresh_portal_makes_one_signing_key`'s
    // business: here the first start is over before the rotation.
    let mut old_kids = kids(&jwks(&portal).await);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let again = kids(&jwks(&portal).await);
        if again == old_kids {
            break;
        }
        old_kids = again;
    }
    let old_kid = parts(&before.id).0["kid"].as_str().unwrap().to_owned();
    assert!(old_kids.contains(&old_kid));

    let (ok, out, err) = console(&portal, &["admin", "rotate-keys"]);
    assert!(ok, "rotate-keys: {out}{err}");

    // The running portal sees the new key within a few seconds (it rereads its keys).
    let deadline = Instant::now() + Duration::from_secs(5);
    let new_kids = loop {
        let now = kids(&jwks(&portal).await);
        if now.len() > old_kids.len() {
            break now;
        }
        assert!(Instant::now() < deadline, "still {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        new_kids.len(),
        old_kids.len() + 1,
        "one key added: {old_kids:?} -> {new_kids:?}"
    );
    assert!(new_kids.is_superset(&old_kids), "the old key is still published");
    let new_kid = new_kids.difference(&old_kids).next().unwrap().clone();

    // What the old key signed still verifies, at userinfo and for a relying party.
    assert_eq!(userinfo(&portal, &before.access).await.status, StatusCode::OK);
    verify_id_token(&portal, &app, &before.id, &ask.nonce).await;

    // New tokens carry the new kid.
    let (ask, after) = sign_in(&portal, &app, &admin).await;
    assert_eq!(parts(&after.id).0["kid"], new_kid.as_str());
    assert_eq!(parts(&after.access).0["kid"], new_kid.as_str());
    verify_id_token(&portal, &app, &after.id, &ask.nonce).await;
    assert_eq!(userinfo(&portal, &after.access).await.status, StatusCode::OK);
    let refreshed = tokens_of(&refresh(&portal, &app, before.refresh.as_deref().unwrap()).await);
    assert_eq!(parts(&refreshed.id).0["kid"], new_kid.as_str());
}

#[tokio::test]
async fn revoking_applications_while_changing_webhooks_never_fails_the_database() {
    // Found by the fuzzer on PostgreSQL: a webhook change takes the outbox's lock and then
    // writes its audit entry, whose insert locks the actor's tally rows (`audit_tally`); a
    // revocation wrote its entry first and took the outbox's lock after, so one
    // administrator doing both at once deadlocked (503). Every audited change now takes the
    // lock first (`audit::record`).
    let _alone = crate::common::alone().await;
    let portal = TestPortal::start_with(crate::webhooks::FAST).await;
    let admin = portal.admin_token().await;
    let (portal, admin) = (&portal, &admin);
    let mut apps = Vec::new();
    let mut receivers = Vec::new();
    let mut hooks = Vec::new();
    for i in 0..4 {
        apps.push(confidential(portal, admin, &format!("App {i}")).await);
        let receiver = crate::webhooks::Receiver::start(Duration::ZERO).await;
        hooks.push(crate::webhooks::subscribe(portal, &receiver, json!(["*"])).await);
        receivers.push(receiver);
    }
    for round in 0..10 {
        for app in &apps {
            sign_in(portal, app, admin).await;
        }
        let revoked = futures::future::join_all(apps.iter().map(|app| async move {
            let path = format!("/v1/user/applications/{}", app.id);
            portal.delete(&path, Some(admin)).await
        }));
        let changed = futures::future::join_all(hooks.iter().map(|id| async move {
            let body = json!({"description": format!("round {round}")});
            portal
                .put(&format!("/v1/admin/webhooks/{id}"), Some(admin), body)
                .await
        }));
        let (revoked, changed) = futures::future::join(revoked, changed).await;
        let statuses: Vec<u16> = revoked
            .iter()
            .chain(&changed)
            .map(|r| r.status.as_u16())
            .collect();
        assert!(
            statuses.iter().all(|status| *status == 200),
            "round {round}: {statuses:?}"
        );
    }
}
