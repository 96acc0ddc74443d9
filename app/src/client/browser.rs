//! The browser's side of `client`: the token in browser storage, `fetch`, renewal, and
//! leaving for the login form.

use super::endpoints::AUTHORIZATION;
use super::*;
use gloo_storage::{LocalStorage, Storage};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub fn session() -> Option<StoredSession> {
    LocalStorage::get(SESSION_KEY).ok()
}

pub fn store(token: String) {
    let _ = LocalStorage::set(
        SESSION_KEY,
        StoredSession {
            token,
            obtained: now_ms(),
        },
    );
}

pub fn forget() {
    LocalStorage::delete(SESSION_KEY);
}

thread_local! {
    /// Set once the page is leaving for the login form: the first reason given is the
    /// one shown (a 401 says "expired"; the home page, finding nobody signed in a
    /// moment later, must not overwrite it with "signed-out").
    static LEAVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The page that signs the person in itself: leaving it would lose the application's
/// sign-in request, which lives in its address.
const SIGNS_IN_ITSELF: &str = "/oauth/authorize";

/// Leaves the page for the login form, saying why (on the consent page, only forgets the
/// token: the page shows its own form).
pub fn to_login(reason: &str) {
    forget();
    let Some(window) = web_sys::window() else { return };
    if window.location().pathname().ok().as_deref() == Some(SIGNS_IN_ITSELF) || LEAVING.replace(true) {
        return;
    }
    let _ = window.location().set_href(&format!("/login?reason={reason}"));
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// One `fetch`: the status, `Retry-After` and body text, whatever the status.
async fn fetch(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<(u16, Option<u64>, String), JsValue> {
    let headers = Headers::new()?;
    if let Some(token) = token {
        headers.set("Authorization", token)?;
    }
    let init = RequestInit::new();
    init.set_method(method.as_str());
    if let Some(body) = body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await?
        .dyn_into()?;
    let retry_after = response
        .headers()
        .get("Retry-After")?
        .and_then(|v| v.parse().ok());
    let text = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), retry_after, text))
}

/// The body of a 200 response, or the failure its envelope describes.
pub(super) async fn send(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<String, Failure> {
    let (status, retry_after, text) = fetch(method, path, token, body).await.map_err(|err| Failure {
        status: 0,
        message: format!("network: {}", js_sys::Error::from(err).to_string()),
        retry_after: None,
    })?;
    if status == 200 {
        return Ok(text);
    }
    let envelope: Envelope<()> =
        serde_json::from_str(&text).unwrap_or_else(|_| Envelope::error(status, format!("HTTP {status}")));
    Err(Failure {
        status,
        message: envelope.message,
        retry_after,
    })
}

/// A call with the stored token, renewed first when it is old. A 401 ends the session,
/// unless the token was renewed while the call was on its way: then it is sent again.
pub(super) async fn call(method: Method, path: &str, body: Option<String>) -> Result<String, Failure> {
    let Some(mut session) = session() else {
        to_login("signed-out");
        return Err(Failure {
            status: 401,
            message: "Authorization: a token is required".into(),
            retry_after: None,
        });
    };
    if now_ms().saturating_sub(session.obtained) > RENEW_AFTER_MS {
        renew().await?;
        session = self::session().unwrap_or(session);
    }
    let mut reply = send(method, path, Some(&session.token), body.clone()).await;
    if matches!(&reply, Err(failure) if failure.status == 401)
        && let Some(renewed) = self::session().filter(|now| now.token != session.token)
    {
        reply = send(method, path, Some(&renewed.token), body).await;
    }
    if matches!(&reply, Err(failure) if failure.status == 401) {
        to_login("expired");
    }
    // OTE_REQUIRE_TOTP covers the caller, who has not enrolled: the Security page is
    // the one page that works.
    if matches!(&reply, Err(failure) if failure.status == 403 && failure.message == ENROLMENT_REQUIRED)
        && let Some(window) = web_sys::window()
        && window.location().pathname().ok().as_deref() != Some("/security")
    {
        let _ = window.location().set_href("/security?reason=enrol");
    }
    reply
}

thread_local! {
    /// The renewal under way, as a promise every caller awaits: the first renewal
    /// revokes the old token, so a second one sent with it would get 401.
    static RENEWAL: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
    /// How the last renewal ended, for each caller that awaited it.
    static RENEWED: RefCell<Result<(), Failure>> = const { RefCell::new(Ok(())) };
}

/// Exchanges the stored token for a fresh one (`PUT /v1/authorization`), once however
/// many callers ask at the same time.
pub async fn renew() -> Result<(), Failure> {
    let renewal = RENEWAL.with_borrow_mut(|slot| {
        slot.get_or_insert_with(|| {
            wasm_bindgen_futures::future_to_promise(async {
                let result = renew_now().await;
                RENEWED.set(result);
                RENEWAL.set(None);
                Ok(JsValue::UNDEFINED)
            })
        })
        .clone()
    });
    let _ = JsFuture::from(renewal).await;
    RENEWED.with_borrow(Clone::clone)
}

async fn renew_now() -> Result<(), Failure> {
    let Some(session) = session() else { return Ok(()) };
    let reply = send(
        Method::Put,
        AUTHORIZATION,
        Some(&session.token),
        Some("{}".into()),
    )
    .await
    .and_then(|text| parse::<()>(&text));
    match reply {
        Ok(envelope) => {
            if let Some(token) = envelope.token {
                store(token);
            }
            Ok(())
        }
        Err(failure) => {
            if failure.status == 401 {
                to_login("expired");
            }
            Err(failure)
        }
    }
}
