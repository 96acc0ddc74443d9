//! How the browser talks to `/v1`: the one place the token is stored (browser storage,
//! one key), attached, refreshed before it expires, and dropped on any 401, which sends
//! the page to the login form. The server never calls these (pages load their data in the
//! browser, where the token is).

use crate::model::Envelope;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The storage key of the session.
pub const SESSION_KEY: &str = "ote.session";
/// Tokens live an hour; the page renews its token once it is this old.
pub const RENEW_AFTER_MS: f64 = 45.0 * 60.0 * 1000.0;

/// A refused or failed call: the envelope's status and message.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub status: u16,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl Failure {
    /// `"password: must be ..."` → `("password", "must be ...")`.
    pub fn field(&self) -> Option<(&str, &str)> {
        let (field, rule) = self.message.split_once(": ")?;
        (!field.contains(' ')).then_some((field, rule))
    }
}

pub type Reply<T> = Result<Envelope<T>, Failure>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredSession {
    pub token: String,
    /// When the token was obtained (milliseconds since the epoch).
    pub obtained: f64,
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use gloo_net::http::{Request, RequestBuilder};
    use gloo_storage::{LocalStorage, Storage};

    pub fn session() -> Option<StoredSession> {
        LocalStorage::get(SESSION_KEY).ok()
    }

    pub fn store(token: String) {
        let _ = LocalStorage::set(
            SESSION_KEY,
            StoredSession {
                token,
                obtained: js_sys::Date::now(),
            },
        );
    }

    pub fn forget() {
        LocalStorage::delete(SESSION_KEY);
    }

    /// Leaves the page for the login form, saying why.
    pub fn to_login(reason: &str) {
        forget();
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(&format!("/login?reason={reason}"));
        }
    }

    fn builder(method: Method, path: &str) -> RequestBuilder {
        match method {
            Method::Get => Request::get(path),
            Method::Post => Request::post(path),
            Method::Put => Request::put(path),
            Method::Delete => Request::delete(path),
        }
    }

    async fn raw<T: DeserializeOwned>(
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Result<(u16, Option<u64>, Envelope<T>), Failure> {
        let mut request = builder(method, path);
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        let sent = match body {
            Some(body) => {
                request
                    .header("Content-Type", "application/json")
                    .body(body)
                    .map_err(network)?
                    .send()
                    .await
            }
            None => request.send().await,
        };
        let response = sent.map_err(network)?;
        let status = response.status();
        let retry_after = response.headers().get("Retry-After").and_then(|v| v.parse().ok());
        let text = response.text().await.map_err(network)?;
        if status == 200 {
            let envelope = serde_json::from_str(&text).map_err(|e| Failure {
                status,
                message: e.to_string(),
                retry_after,
            })?;
            return Ok((status, retry_after, envelope));
        }
        let envelope: Envelope<()> =
            serde_json::from_str(&text).unwrap_or_else(|_| Envelope::error(status, format!("HTTP {status}")));
        Err(Failure {
            status,
            message: envelope.message,
            retry_after,
        })
    }

    fn network(err: impl std::fmt::Display) -> Failure {
        Failure {
            status: 0,
            message: format!("network: {err}"),
            retry_after: None,
        }
    }

    /// A call with the stored token, renewed first when it is old. A 401 ends the session.
    pub async fn call<T: DeserializeOwned>(method: Method, path: &str, body: Option<String>) -> Reply<T> {
        let Some(mut session) = session() else {
            to_login("signed-out");
            return Err(Failure {
                status: 401,
                message: "Authorization: a token is required".into(),
                retry_after: None,
            });
        };
        if js_sys::Date::now() - session.obtained > RENEW_AFTER_MS {
            renew().await?;
            session = super::session().unwrap_or(session);
        }
        match raw(method, path, Some(&session.token), body).await {
            Ok((_, _, envelope)) => Ok(envelope),
            Err(failure) if failure.status == 401 => {
                to_login("expired");
                Err(failure)
            }
            Err(failure) => Err(failure),
        }
    }

    /// Exchanges the stored token for a fresh one (`PUT /v1/authorization`).
    pub async fn renew() -> Result<(), Failure> {
        let Some(session) = session() else { return Ok(()) };
        match raw::<()>(
            Method::Put,
            "/v1/authorization",
            Some(&session.token),
            Some("{}".into()),
        )
        .await
        {
            Ok((_, _, envelope)) => {
                if let Some(token) = envelope.token {
                    store(token);
                }
                Ok(())
            }
            Err(failure) if failure.status == 401 => {
                to_login("expired");
                Err(failure)
            }
            Err(failure) => Err(failure),
        }
    }

    /// A call without a token (login, registration).
    pub async fn anonymous<T: DeserializeOwned>(
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Reply<T> {
        raw(method, path, None, body)
            .await
            .map(|(_, _, envelope)| envelope)
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{forget, renew, session, store, to_login};

/// Sends `body` (if any) as JSON with the session's token.
pub async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Reply<T> {
    let body = body.map(|b| serde_json::to_string(b).unwrap_or_default());
    #[cfg(feature = "hydrate")]
    {
        browser::call(method, path, body).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (method, path, body);
        std::future::pending().await
    }
}

/// Sends without a token.
pub async fn anonymous<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&impl Serialize>,
) -> Reply<T> {
    let body = body.map(|b| serde_json::to_string(b).unwrap_or_default());
    #[cfg(feature = "hydrate")]
    {
        browser::anonymous(method, path, body).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (method, path, body);
        std::future::pending().await
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Reply<T> {
    call::<T>(Method::Get, path, None::<&()>).await
}

/// `path?query` with the query serialised from a shared query type.
pub fn with_query(path: &str, query: &impl Serialize) -> String {
    match serde_urlencoded::to_string(query) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}
