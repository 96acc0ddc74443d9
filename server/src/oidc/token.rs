//! `POST /oauth/token` (RFC 6749 4.1.3 and 6, RFC 7636) and `POST /oauth/revoke` (RFC
//! 7009). A code is exchanged once; a second exchange ends what the first gave. A refresh
//! token is rotated at each use; a used one presented again ends its whole grant.

use super::claims::{self, AccessClaims, Person, Scope, SignIn};
use super::clients::Registered;
use super::grants::{self, Grant, Rotated, Taken};
use super::wire::{Form, OAuthError, authenticate, no_store};
use crate::auth::keys::KeySet;
use crate::auth::secret;
use crate::clock::now;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The token request's form, for the OpenAPI document (the handler reads the form itself,
/// to refuse a parameter given twice).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    #[schema(pattern = "^(authorization_code|refresh_token)$")]
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Any other parameter is ignored, but like these it may be given only once (RFC 6749
    /// 3.2: a repeated one is 400): one text value each.
    #[serde(flatten)]
    other: std::collections::HashMap<String, String>,
}

/// The revocation request's form (RFC 7009 2.1).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RevokeRequest {
    /// A refresh or an access token (an empty one is no token: 400).
    #[schema(min_length = 1)]
    token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Any other parameter is ignored, but given only once (a repeated one is 400).
    #[serde(flatten)]
    other: std::collections::HashMap<String, String>,
}

/// Exchange a code, or a refresh token, for tokens.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "`{access_token, token_type, expires_in, id_token, refresh_token?, scope}`", body = serde_json::Value),
        (status = 400, description = "`{error, error_description}`: invalid_request, invalid_grant, unsupported_grant_type, invalid_scope", body = serde_json::Value),
        (status = 401, description = "`{error: invalid_client}`", body = serde_json::Value),
        (status = 413, description = "Body over 64 KiB (a line of plain text, not OAuth JSON)", body = String, content_type = "text/plain"),
        (status = 503, description = "`{error: temporarily_unavailable}`", body = serde_json::Value),
    ))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = Form::parse(&body)?;
    let grant_type = form.required("grant_type")?;
    let client = authenticate(&state, &headers, &form).await?;
    // Read before the write begins (the first key may still have to be made).
    let keys = state.keys.current(&state.db).await?;
    let now = now();
    let mut tx = state.db.begin_side_write().await?;
    // Deleted or disabled since it was authenticated: its grants ended with it.
    if !Registered::hold(&state.db, &mut tx, &client.client_id).await? {
        return Err(OAuthError::invalid_grant(
            "client_id: the application was deleted or disabled; its grants ended with it",
        ));
    }
    let (grant, nonce) = match grant_type {
        "authorization_code" => {
            let code = form.required("code")?;
            let code = match grants::take_code(&mut tx, code, &client.client_id).await? {
                Taken::First(code) => code,
                Taken::Again { grant_id } => {
                    grants::end(&mut tx, &grant_id).await?;
                    tx.commit().await?;
                    return Err(OAuthError::invalid_grant(
                        "code: was used already; every token it gave is revoked",
                    ));
                }
                Taken::Unknown => return Err(OAuthError::invalid_grant("code: is not valid")),
            };
            // From here the code is spent, whatever is wrong with the request.
            let refused = |text: &str| OAuthError::invalid_grant(text.to_owned());
            let problem = if code.expire_time <= now {
                Some(refused("code: has expired"))
            } else if form.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
                Some(refused("redirect_uri: must be the one the code was sent to"))
            } else {
                pkce(code.code_challenge.as_deref(), form.get("code_verifier")).err()
            };
            if let Some(problem) = problem {
                tx.commit().await?;
                return Err(problem);
            }
            let grant = code.grant();
            grant.insert(&mut tx, now).await?;
            (grant, code.nonce)
        }
        "refresh_token" => {
            let presented = form.required("refresh_token")?;
            match grants::take_refresh(&mut tx, presented, &client.client_id, now).await? {
                Rotated::First(grant) => (grant, None),
                Rotated::Again { grant_id } => {
                    grants::end(&mut tx, &grant_id).await?;
                    tx.commit().await?;
                    return Err(OAuthError::invalid_grant(
                        "refresh_token: was used already; every token of its sign-in is revoked",
                    ));
                }
                Rotated::Unknown => {
                    return Err(OAuthError::invalid_grant(
                        "refresh_token: is not valid or has expired",
                    ));
                }
            }
        }
        _ => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "grant_type: must be authorization_code or refresh_token",
            ));
        }
    };
    let granted = Scope::parse(&grant.scope);
    let scope = match form.get("scope") {
        Some(asked) if grant_type == "refresh_token" => {
            let asked = Scope::parse(asked);
            if !granted.covers(&asked) || !asked.has("openid") {
                return Err(OAuthError::new(
                    "invalid_scope",
                    "scope: must be within what was granted",
                ));
            }
            asked
        }
        _ => granted,
    };
    let person = Person::read(&mut tx, grant.user_id).await?;
    let Some(person) = person.filter(Person::may_sign_in) else {
        grants::end(&mut tx, &grant.id).await?;
        tx.commit().await?;
        return Err(OAuthError::invalid_grant("the user may no longer sign in"));
    };
    let oidc = &state.config.oidc;
    let refresh_token = if scope.has("offline_access") {
        let expires = now + oidc.refresh_seconds as i64;
        Some(grants::issue_refresh(&mut tx, &grant.id, expires).await?)
    } else {
        None
    };
    let answer = tokens(
        &state,
        &keys,
        &grant,
        &person,
        &scope,
        nonce.as_deref(),
        refresh_token,
        now,
    )?;
    tx.commit().await?;
    Ok(no_store(answer))
}

/// RFC 7636 4.6: the verifier's S256 digest must be the challenge; a verifier without a
/// challenge is refused too (a downgrade).
fn pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier: the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier: is required (PKCE)")),
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let digest =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if well_formed && digest == challenge {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier: does not match the code_challenge",
                ))
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn tokens(
    state: &AppState,
    keys: &KeySet,
    grant: &Grant,
    person: &Person,
    scope: &Scope,
    nonce: Option<&str>,
    refresh_token: Option<String>,
    now: i64,
) -> Result<serde_json::Value, OAuthError> {
    let lifetime = state.config.oidc.access_seconds as i64;
    let sign_in = SignIn {
        issuer: &state.issuer,
        client_id: &grant.client_id,
        session_id: &grant.session_id,
        auth_time: grant.auth_time,
        amr: &grant.amr,
        nonce,
        scope,
    };
    let id_token = claims::id_token(keys, person, &sign_in, lifetime, now)?;
    let access = AccessClaims {
        iss: state.issuer.to_string(),
        sub: person.id.to_string(),
        aud: grant.client_id.clone(),
        exp: now + lifetime,
        iat: now,
        jti: secret::random_hex(16),
        client_id: grant.client_id.clone(),
        scope: scope.to_string(),
        gid: grant.id.clone(),
    };
    let access_token = claims::access_token(keys, &access)?;
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "id_token": id_token,
        "scope": scope.to_string(),
    });
    if let Some(refresh_token) = refresh_token {
        answer["refresh_token"] = json!(refresh_token);
    }
    Ok(answer)
}

/// Revoke a refresh or an access token: its whole sign-in ends (RFC 7009; an unknown token
/// is no error).
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or there was nothing to revoke: `{}`", body = serde_json::Value),
        (status = 400, description = "`{error: invalid_request}`", body = serde_json::Value),
        (status = 401, description = "`{error: invalid_client}`", body = serde_json::Value),
        (status = 413, description = "Body over 64 KiB (a line of plain text, not OAuth JSON)", body = String, content_type = "text/plain"),
        (status = 503, description = "`{error: temporarily_unavailable}`", body = serde_json::Value),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = Form::parse(&body)?;
    let token = form.required("token")?;
    let client = authenticate(&state, &headers, &form).await?;
    let keys = state.keys.current(&state.db).await?;
    let mut tx = state.db.begin_side_write().await?;
    let mut grant = grants::grant_of_refresh(&mut tx, token).await?;
    if grant.is_none()
        && let Ok(access) = claims::verify::<AccessClaims>(&keys, &state.issuer, token, "at+jwt", true)
    {
        grant = Grant::find(&mut tx, &access.gid).await?;
    }
    if let Some(grant) = grant.filter(|grant| grant.client_id == client.client_id) {
        grants::end(&mut tx, &grant.id).await?;
    }
    tx.commit().await?;
    Ok(no_store(json!({})))
}
