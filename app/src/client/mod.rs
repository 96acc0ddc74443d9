//! How the browser talks to `/v1`: a typed function per endpoint (`endpoints`), each
//! describing its request as a `Call`, which one core sends. The token is stored (browser
//! storage, one key), attached, refreshed before it expires, and dropped on any 401, which
//! sends the page to the login form (`browser`). The server never sends these: pages load
//! their data in the browser, where the token is.

#[cfg(feature = "hydrate")]
mod browser;
mod endpoints;

#[cfg(feature = "hydrate")]
pub use browser::{forget, now_ms, renew, session, store, to_login};
pub use endpoints::*;

use crate::model::Envelope;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The storage key of the session.
pub const SESSION_KEY: &str = "ote.session";
/// The server's refusal while two-factor enrolment is required (SPEC.md section 9).
pub const ENROLMENT_REQUIRED: &str = "totp: enrolment required";
/// Tokens live an hour; the page renews its token once it is this old.
pub const RENEW_AFTER_MS: u64 = 45 * 60 * 1000;

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
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// Whether a call carries the session's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signing {
    /// All but signing in and registering: without a stored token, the page leaves for the
    /// login form.
    Always,
    /// The caller has no token yet.
    Never,
    /// The token if one is stored, else none: the server answers either way.
    IfStored,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredSession {
    pub token: String,
    /// When the token was obtained (milliseconds since the epoch; whole, so the bundle
    /// needs no float formatting).
    pub obtained: u64,
}

/// A request to `/v1` whose answer's `data` is a `T`, sent when awaited. A value rather
/// than a future, so that a page can hand an action's call to code that reports its answer.
#[must_use = "a call is sent when awaited"]
pub struct Call<T> {
    method: Method,
    path: String,
    body: Option<String>,
    signing: Signing,
    reply: PhantomData<fn() -> T>,
}

impl<T> Call<T> {
    fn new(method: Method, path: String) -> Self {
        Self {
            method,
            path,
            body: None,
            signing: Signing::Always,
            reply: PhantomData,
        }
    }

    /// Sends `body` as JSON.
    fn with(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_string(body).unwrap_or_default());
        self
    }

    /// Sends no token: the caller has none yet.
    fn anonymous(mut self) -> Self {
        self.signing = Signing::Never;
        self
    }

    /// Sends the token if one is stored: the server answers either way (the consent page
    /// asks it whether the person must sign in first).
    fn signed_if_stored(mut self) -> Self {
        self.signing = Signing::IfStored;
        self
    }

    /// The body of the answer as it came.
    fn text(self) -> Pin<Box<dyn Future<Output = Result<String, Failure>>>> {
        Box::pin(send(self.method, self.path, self.body, self.signing))
    }
}

impl<T: DeserializeOwned> IntoFuture for Call<T> {
    type Output = Reply<T>;
    type IntoFuture = Sending<T>;

    fn into_future(self) -> Sending<T> {
        Sending {
            text: self.text(),
            reply: PhantomData,
        }
    }
}

/// A `Call` under way. The request is one future whatever `T`, boxed, so the code that
/// sends exists once in the bundle; only reading the envelope is `T`'s own.
pub struct Sending<T> {
    text: Pin<Box<dyn Future<Output = Result<String, Failure>>>>,
    reply: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Future for Sending<T> {
    type Output = Reply<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply<T>> {
        self.text.as_mut().poll(cx).map(|text| parse(&text?))
    }
}

/// The envelope of a 200 response.
fn parse<T: DeserializeOwned>(text: &str) -> Reply<T> {
    serde_json::from_str(text).map_err(|e| Failure {
        status: 200,
        message: e.to_string(),
        retry_after: None,
    })
}

/// The one way a request goes out: the body of its 200 answer, or the failure.
async fn send(
    method: Method,
    path: String,
    body: Option<String>,
    signing: Signing,
) -> Result<String, Failure> {
    #[cfg(feature = "hydrate")]
    {
        let signed = match signing {
            Signing::Always => true,
            Signing::Never => false,
            Signing::IfStored => browser::session().is_some(),
        };
        if signed {
            browser::call(method, &path, body).await
        } else {
            browser::send(method, &path, None, body).await
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (method, path, body, signing);
        std::future::pending().await
    }
}

/// `path?query` with the query serialised from a shared query type.
pub fn with_query(path: &str, query: &impl Serialize) -> String {
    match serde_urlencoded::to_string(query) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}
