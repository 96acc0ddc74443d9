//! What a relying party reads first: `GET /.well-known/openid-configuration` (OpenID
//! Connect Discovery 1.0) and the public keys, `GET /oauth/jwks`, which clients may cache
//! for a while (a key they do not know yet makes them read it again).

use super::claims::SCOPES;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn cached(body: serde_json::Value, seconds: u64) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={seconds}")) {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}

/// The provider's metadata.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth",
    responses((status = 200, description = "OpenID Provider Metadata", body = serde_json::Value)))]
pub async fn configuration(State(state): State<AppState>) -> Response {
    let issuer = &*state.issuer;
    cached(
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
            "jwks_uri": format!("{issuer}/oauth/jwks"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "end_session_endpoint": format!("{issuer}/oauth/logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": SCOPES,
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "sid",
                "preferred_username", "name", "phone_number", "groups"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "authorization_response_iss_parameter_supported": true,
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
        }),
        300,
    )
}

/// The keys that verify the provider's tokens.
#[utoipa::path(get, path = "/oauth/jwks", tag = "oauth",
    responses(
        (status = 200, description = "JSON Web Key Set (RS256); `Cache-Control: public, max-age=300`", body = serde_json::Value),
        (status = 503, description = "The database is out of reach", body = crate::reply::Message),
    ))]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.keys.current(&state.db).await?;
    Ok(cached(keys.jwks(), 300))
}
