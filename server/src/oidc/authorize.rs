//! `POST /v1/oauth/authorize`: the consent page's question and decision (SPEC.md section
//! 12). The page at `/oauth/authorize` posts the query string it was opened with; the
//! answer says where to send the browser (a code, or an error for the application), or
//! that the person must sign in, or what to ask the person's consent for.

use super::claims::Scope;
use super::clients::Registered;
use super::grants::{self, Code};
use super::request::{Fault, Request, redirect_to, unregistered};
use crate::audit::{self, Entry};
use crate::auth::{Caller, secret};
use crate::clock::now;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use app::model::{AuthorizeAnswer, AuthorizeDecision, ClientSummary, Envelope, Role, UserStatus};
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The caller when a usable token came, `None` when none did or it is no longer good
/// (the page then signs the person in); other refusals (a personal token) stand.
pub struct SignedIn(Option<Caller>);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(Self(None));
        }
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Self(Some(caller))),
            Err(ApiError::Unauthorized(_)) => Ok(Self(None)),
            Err(other) => Err(other),
        }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    create_time: i64,
    second_factor: i64,
}

/// Answer an authorization request: with `approve` absent, what it needs (a redirect when
/// nothing does); with `approve`, the person's decision.
#[utoipa::path(post, path = "/v1/oauth/authorize", tag = "oauth", security((), ("token" = [])), request_body = AuthorizeDecision,
    responses(
        (status = 200, description = "`data.redirect` to follow, or `data.login` (sign in first), or a consent to ask for `data.client` and `data.scopes`", body = Envelope<AuthorizeAnswer>),
        (status = 403, description = "A personal token, or an account that must enrol in two-factor sign-in first", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Unknown application or a redirect URI it did not register exactly (never redirected to), or a malformed body", body = Message),
    ))]
pub async fn decide(
    State(state): State<AppState>,
    SignedIn(caller): SignedIn,
    Json(decision): Json<AuthorizeDecision>,
) -> Reply<AuthorizeAnswer> {
    let mut conn = state.db.pool.acquire().await?;
    let request = Request::read(&mut conn, &decision.query).await?;
    drop(conn);
    let mut answer = AuthorizeAnswer {
        redirect: None,
        login: false,
        client: ClientSummary {
            client_id: request.client.client_id.clone(),
            name: request.client.name.clone(),
        },
        scopes: Vec::new(),
    };
    // Every redirect carries the request's `state` and the issuer (RFC 9207).
    let url = |params: &[(&str, &str)]| -> ApiResult<String> {
        let mut all = params.to_vec();
        if let Some(state) = &request.state {
            all.push(("state", state));
        }
        all.push(("iss", &state.issuer));
        redirect_to(&request.redirect_uri, &all)
    };
    let fault = |fault: Fault| url(&[("error", fault.error), ("error_description", &fault.description)]);
    let checked = match request.check() {
        Ok(checked) => checked,
        Err(problem) => {
            answer.redirect = Some(fault(problem)?);
            return ok(Envelope::data(answer));
        }
    };
    answer.scopes = checked.scope.names();
    let sign_in = |mut answer: AuthorizeAnswer| -> Reply<AuthorizeAnswer> {
        if checked.prompt.none {
            answer.redirect = Some(fault(Fault::new(
                "login_required",
                "the person is not signed in",
            ))?);
        } else {
            answer.login = true;
        }
        ok(Envelope::data(answer))
    };
    let Some(caller) = caller else {
        return sign_in(answer);
    };
    let claims = caller.claims()?;
    let now = now();
    let session: Option<SessionRow> =
        sqlx::query_as("SELECT create_time, second_factor FROM sessions WHERE id = $1")
            .bind(&claims.sid)
            .fetch_optional(&state.db.pool)
            .await?;
    let Some(session) = session else {
        return sign_in(answer);
    };
    let age = now - session.create_time;
    let fresh = state.config.oidc.fresh_login_seconds as i64;
    if (checked.prompt.login && age > fresh) || checked.max_age.is_some_and(|max| age > max) {
        return sign_in(answer);
    }
    let refuse = |mut answer: AuthorizeAnswer, error, description: &str| -> Reply<AuthorizeAnswer> {
        answer.redirect = Some(fault(Fault::new(error, description))?);
        ok(Envelope::data(answer))
    };
    if caller.status != UserStatus::Approved && caller.role != Role::SystemAdmin {
        return refuse(answer, "access_denied", "the account is not approved yet");
    }
    let client_id = request.client.client_id.as_str();
    let allowed = match decision.approve {
        Some(false) => return refuse(answer, "access_denied", "the person did not allow it"),
        Some(true) => true,
        None => {
            let mut conn = state.db.pool.acquire().await?;
            let remembered = grants::consent(&mut conn, caller.id, client_id).await?;
            remembered.is_some_and(|scope| scope.covers(&checked.scope)) && !checked.prompt.consent
        }
    };
    if !allowed {
        if checked.prompt.none {
            return refuse(
                answer,
                "consent_required",
                "the person has not allowed this application",
            );
        }
        return ok(Envelope::data(answer));
    }
    let code = Code {
        grant_id: secret::random_hex(16),
        client_id: client_id.to_owned(),
        user_id: caller.id,
        session_id: claims.sid.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scope: checked.scope.to_string(),
        nonce: checked.nonce.clone(),
        code_challenge: checked.code_challenge.clone(),
        auth_time: session.create_time,
        amr: if session.second_factor != 0 {
            "pwd otp"
        } else {
            "pwd"
        }
        .to_owned(),
        expire_time: now + state.config.oidc.code_seconds as i64,
    };
    let code = if decision.approve == Some(true) {
        // The consent is audited (it lets an application learn about the person).
        let mut tx = state.db.begin_write().await?;
        // Deleted or disabled since the request was read: as if it never was.
        if !Registered::hold(&state.db, &mut tx, client_id).await? {
            return Err(unregistered());
        }
        remember(&mut tx, &caller, &request, &checked.scope, now).await?;
        let code = code.issue(&mut tx).await?;
        tx.commit().await?;
        code
    } else {
        // Codes are no caller's rows: the caller cache stays.
        let mut tx = state.db.begin_side_write().await?;
        let code = code.issue(&mut tx).await?;
        tx.commit().await?;
        code
    };
    answer.redirect = Some(url(&[("code", &code)])?);
    ok(Envelope::data(answer))
}

async fn remember(
    tx: &mut sqlx::AnyConnection,
    caller: &Caller,
    request: &Request,
    scope: &Scope,
    now: i64,
) -> ApiResult<()> {
    let client = &request.client;
    grants::remember_consent(tx, caller.id, &client.client_id, scope, now).await?;
    let detail = format!(
        "{} allowed {} ({}) to learn: {scope}",
        caller.name, client.name, client.client_id
    );
    audit::record(
        tx,
        Entry::oauth_consent(caller, "oauth.consent.allow", client.id, detail),
        now,
    )
    .await
}
