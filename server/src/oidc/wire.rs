//! The OAuth wire format of the `/oauth/*` endpoints (RFC 6749): form-encoded bodies, the
//! authentication of applications (`client_secret_basic`, `client_secret_post`, or `none`
//! for public ones), and errors as `{error, error_description}` (section 5.2) rather than
//! the `/v1` envelope.

use super::clients::Registered;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;

/// An OAuth error answer.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// The client authenticated with HTTP Basic: a 401 names the scheme.
    basic: bool,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic: false,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            basic,
            ..Self::new("invalid_client", description)
        }
    }
}

impl From<ApiError> for OAuthError {
    fn from(err: ApiError) -> Self {
        let status = err.status();
        let error = match err {
            ApiError::Unavailable { .. } => "temporarily_unavailable",
            ApiError::Internal(ref cause) => {
                tracing::error!(error = %cause, "oauth request failed");
                "server_error"
            }
            _ => "invalid_request",
        };
        Self {
            status,
            ..Self::new(
                error,
                if status.is_server_error() {
                    "try again".to_owned()
                } else {
                    err.to_string()
                },
            )
        }
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::from(err).into()
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.basic {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ote-portal\""),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(1));
        }
        response
    }
}

/// A successful JSON answer that no cache may keep (tokens).
pub fn no_store(body: serde_json::Value) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A form-encoded body, each parameter at most once (RFC 6749 3.2).
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut params = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(OAuthError::invalid_request(format!("{name}: must be given once")));
            }
        }
        Ok(Self(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name}: is required")))
    }
}

/// Which application is calling, proved by its secret unless it is public.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Registered, OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "));
    let (client_id, secret, basic) = match basic {
        Some(encoded) => {
            if form.get("client_secret").is_some() {
                return Err(OAuthError::invalid_request(
                    "client_secret: must not be sent both in the body and in Authorization",
                ));
            }
            let refused =
                || OAuthError::invalid_client("Authorization: is not valid Basic credentials", true);
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| refused())?;
            let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(refused)?;
            // RFC 6749 2.3.1: both halves are form-encoded.
            let decode = |part: &str| {
                form_urlencoded::parse(format!("x={part}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let (id, secret) = (decode(id), decode(secret));
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request(
                    "client_id: differs from the one in Authorization",
                ));
            }
            // Go's oauth2 (kubelogin, Grafana) sends a public client as `id:`, no secret.
            (id, Some(secret).filter(|secret| !secret.is_empty()), true)
        }
        None => (
            form.required("client_id")?.to_owned(),
            form.get("client_secret").map(str::to_owned),
            false,
        ),
    };
    let unknown = || OAuthError::invalid_client("client_id: is not a registered application", basic);
    if !super::clients::ClientId::valid(&client_id) {
        return Err(unknown());
    }
    let mut conn = state.db.pool.acquire().await.map_err(ApiError::from)?;
    let client = Registered::find(&mut conn, &client_id)
        .await?
        .filter(|client| client.enabled != 0)
        .ok_or_else(unknown)?;
    match (client.public(), secret) {
        (true, None) => Ok(client),
        (true, Some(_)) => Err(OAuthError::invalid_client(
            "client_secret: a public application has no secret",
            basic,
        )),
        (false, Some(secret)) if client.secret_matches(&secret) => Ok(client),
        (false, Some(_)) => Err(OAuthError::invalid_client("client_secret: is not valid", basic)),
        (false, None) => Err(OAuthError::invalid_client("client_secret: is required", basic)),
    }
}
