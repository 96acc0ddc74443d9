//! `GET /oauth/logout` (OpenID Connect RP-Initiated Logout 1.0): an application sends the
//! browser here with the ID token it holds; the portal session that token names ends, and
//! with it what that application was given in that session; then the browser goes back to
//! a post-logout URI the application registered (or to the portal's sign-in page).

use super::claims;
use super::clients::Registered;
use super::request::redirect_to;
use crate::auth::session::{self, Grants};
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutRequest {
    /// An ID token the portal gave the application (it may have expired).
    id_token_hint: Option<String>,
    /// Which application is asking, when no ID token is given.
    client_id: Option<String>,
    /// Where to go afterwards: one the application registered.
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

#[derive(Deserialize)]
struct HintClaims {
    aud: String,
    sid: Option<String>,
}

/// End the portal session an ID token names, and go back to the application.
#[utoipa::path(get, path = "/oauth/logout", tag = "oauth", params(LogoutRequest),
    responses(
        (status = 303, description = "Signed out: to the post-logout URI (with `state`) or to /login"),
        (status = 422, description = "The ID token is not one of this portal's, or the URI is not registered for the application (never redirected to)", body = crate::reply::Message),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    Query(request): Query<LogoutRequest>,
) -> Result<Response, ApiError> {
    let hint = match request.id_token_hint.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => {
            let keys = state.keys.current(&state.db).await?;
            let claims =
                claims::verify::<HintClaims>(&keys, &state.issuer, token, "JWT", true).map_err(|_| {
                    ApiError::unprocessable("id_token_hint", "must be an ID token this portal issued")
                })?;
            Some(claims)
        }
        None => None,
    };
    let client_id = match (&hint, request.client_id.as_deref()) {
        (Some(hint), Some(id)) if hint.aud != id => {
            return Err(ApiError::unprocessable(
                "client_id",
                "must be the ID token's audience",
            ));
        }
        (Some(hint), _) => Some(hint.aud.clone()),
        (None, id) => id.map(str::to_owned),
    };
    let target = match request.post_logout_redirect_uri.as_deref() {
        None => "/login".to_owned(),
        Some(uri) => {
            let refused = || {
                ApiError::unprocessable(
                    "post_logout_redirect_uri",
                    "must be one the application registered (and the application named by id_token_hint or client_id)",
                )
            };
            let client_id = client_id.as_deref().ok_or_else(refused)?;
            let mut conn = state.db.pool.acquire().await?;
            let client = Registered::find(&mut conn, client_id)
                .await?
                .ok_or_else(refused)?;
            if !client
                .post_logout_redirect_uris()
                .iter()
                .any(|registered| registered == uri)
            {
                return Err(refused());
            }
            let state_param: Vec<(&str, &str)> =
                request.state.iter().map(|s| ("state", s.as_str())).collect();
            redirect_to(uri, &state_param)?
        }
    };
    if let Some(HintClaims { aud, sid: Some(sid) }) = &hint {
        let mut tx = state.db.begin_write().await?;
        session::end_one(&mut tx, sid).await?;
        session::end_grants(&mut tx, Grants::OfSessionAndClient(sid, aud)).await?;
        tx.commit().await?;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, target), (CACHE_CONTROL, "no-store".to_owned())],
    )
        .into_response())
}
