//! `GET|POST /oauth/userinfo` (OpenID Connect Core 5.3): the claims an access token's scope
//! allows, read afresh, while the token's grant lives and its application is enabled.

use super::claims::{self, AccessClaims, Person, Scope};
use super::grants::Grant;
use super::wire::no_store;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// 401 with the reason in `WWW-Authenticate` (RFC 6750 3).
fn refused(description: &str) -> Response {
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
    let mut response = (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({ "error": "invalid_token", "error_description": description })),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        headers.insert(WWW_AUTHENTICATE, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The person behind an access token.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth",
    responses(
        (status = 200, description = "The claims the token's scope allows: sub, preferred_username, name, phone_number, groups", body = serde_json::Value),
        (status = 401, description = "No valid access token (`WWW-Authenticate: Bearer error=\"invalid_token\"`)", body = serde_json::Value),
    ))]
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return Ok(refused("an access token is required (Authorization: Bearer)"));
    };
    let keys = state.keys.current(&state.db).await?;
    let access = match claims::verify::<AccessClaims>(&keys, &state.issuer, token, "at+jwt", false) {
        Ok(access) => access,
        Err(err) => return Ok(refused(&err.to_string())),
    };
    let mut conn = state.db.pool.acquire().await?;
    let Some(grant) = Grant::find(&mut conn, &access.gid).await? else {
        return Ok(refused("the token has been revoked"));
    };
    let person = Person::read(&mut conn, grant.user_id).await?;
    let Some(person) = person.filter(Person::may_sign_in) else {
        return Ok(refused("the user may no longer sign in"));
    };
    let claims = person.claims(&Scope::parse(&access.scope));
    Ok(no_store(serde_json::Value::Object(claims)))
}

/// The same, for clients that post (OpenID Connect Core 5.3.1).
#[utoipa::path(post, path = "/oauth/userinfo", tag = "oauth",
    responses(
        (status = 200, description = "As GET", body = serde_json::Value),
        (status = 401, description = "As GET", body = serde_json::Value),
    ))]
pub async fn userinfo_post(state: State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    userinfo(state, headers).await
}
