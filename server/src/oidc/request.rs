//! The authorization request (`GET /oauth/authorize?...`, RFC 6749 4.1.1 and OpenID Connect
//! Core 3.1.2.1) read from its query string: first what makes it safe to answer at all (a
//! registered application and exactly one of its redirect URIs: anything else is 422 and
//! never a redirect), then the rest, whose faults go back to the application.

use super::claims::Scope;
use super::clients::Registered;
use crate::error::{ApiError, ApiResult};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// The longest query string read.
pub const MAX_QUERY: usize = 8192;

/// `prompt` (OpenID Connect Core 3.1.2.1).
#[derive(Debug, Default, Clone, Copy)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A request whose application and redirect URI are known good.
pub struct Request {
    pub client: Registered,
    pub redirect_uri: String,
    pub state: Option<String>,
    params: HashMap<String, String>,
}

/// What the rest of the request asks for, once checked.
pub struct Checked {
    pub scope: Scope,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub code_challenge: Option<String>,
}

/// An error for the application, sent back to its redirect URI (RFC 6749 4.1.2.1).
#[derive(Debug)]
pub struct Fault {
    pub error: &'static str,
    pub description: String,
}

impl Fault {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

/// The answer when `client_id` names no enabled application (422).
pub fn unregistered() -> ApiError {
    ApiError::unprocessable("client_id", "is not a registered application")
}

impl Request {
    /// The application and redirect URI of `query`; 422 when either is not registered
    /// exactly (or a parameter is given twice, which makes the request ambiguous).
    pub async fn read(conn: &mut AnyConnection, query: &str) -> ApiResult<Self> {
        if query.chars().count() > MAX_QUERY {
            return Err(ApiError::unprocessable(
                "query",
                format!("must be at most {MAX_QUERY} characters"),
            ));
        }
        let mut params = HashMap::new();
        for (name, value) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(ApiError::unprocessable(&name, "must be given once"));
            }
        }
        let client_id = params.get("client_id").ok_or_else(unregistered)?;
        let client = Registered::find(conn, client_id)
            .await?
            .filter(|client| client.enabled != 0)
            .ok_or_else(unregistered)?;
        let redirect_uri = params
            .get("redirect_uri")
            .filter(|uri| client.redirect_uris().iter().any(|registered| registered == *uri))
            .cloned()
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "redirect_uri",
                    "must be exactly one of the application's registered redirect URIs",
                )
            })?;
        let state = params.get("state").cloned();
        Ok(Self {
            client,
            redirect_uri,
            state,
            params,
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The rest of the request, or the fault to send back.
    pub fn check(&self) -> Result<Checked, Fault> {
        let invalid = |text: &str| Fault::new("invalid_request", text);
        if self.get("request").is_some() {
            return Err(Fault::new(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if self.get("request_uri").is_some() {
            return Err(Fault::new(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        match self.get("response_type") {
            Some("code") => {}
            None => return Err(invalid("response_type: is required")),
            Some(_) => {
                return Err(Fault::new(
                    "unsupported_response_type",
                    "response_type: must be code",
                ));
            }
        }
        if self.get("response_mode").is_some_and(|mode| mode != "query") {
            return Err(invalid("response_mode: must be query"));
        }
        let raw_scope = self.get("scope").unwrap_or_default();
        if !raw_scope.split(' ').any(|s| s == "openid") {
            return Err(Fault::new("invalid_scope", "scope: must include openid"));
        }
        let scope = Scope::parse(raw_scope);
        let mut prompt = Prompt::default();
        for value in self
            .get("prompt")
            .unwrap_or_default()
            .split(' ')
            .filter(|v| !v.is_empty())
        {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => {}
                _ => return Err(invalid("prompt: must be none, login, consent or select_account")),
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(invalid("prompt: none must be alone"));
        }
        let max_age = match self.get("max_age") {
            None => None,
            Some(raw) => Some(
                raw.parse::<u32>()
                    .map_err(|_| invalid("max_age: must be a whole number of seconds"))?
                    .into(),
            ),
        };
        let nonce = self.get("nonce").map(str::to_owned);
        if nonce.as_ref().is_some_and(|n| n.len() > 512) {
            return Err(invalid("nonce: must be at most 512 characters"));
        }
        if self.state.as_ref().is_some_and(|s| s.len() > 1024) {
            return Err(invalid("state: must be at most 1024 characters"));
        }
        let code_challenge = match (self.get("code_challenge"), self.get("code_challenge_method")) {
            (None, None) if self.client.public() => {
                return Err(invalid(
                    "code_challenge: is required of a public client (PKCE, S256)",
                ));
            }
            (None, None) => None,
            (None, Some(_)) => return Err(invalid("code_challenge: is required with code_challenge_method")),
            (Some(_), Some(method)) if method != "S256" => {
                return Err(invalid(
                    "code_challenge_method: must be S256 (plain is not accepted)",
                ));
            }
            // RFC 7636 4.3: an absent method would be `plain`.
            (Some(_), None) => {
                return Err(invalid(
                    "code_challenge_method: must be S256 (plain is not accepted)",
                ));
            }
            (Some(challenge), Some(_)) => {
                if !(challenge.len() == 43 && challenge.bytes().all(is_base64url)) {
                    return Err(invalid(
                        "code_challenge: must be the 43-character base64url SHA-256 of the verifier",
                    ));
                }
                Some(challenge.to_owned())
            }
        };
        Ok(Checked {
            scope,
            nonce,
            prompt,
            max_age,
            code_challenge,
        })
    }
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The redirect URI with `params` added to its query, keeping any query it had.
pub fn redirect_to(uri: &str, params: &[(&str, &str)]) -> ApiResult<String> {
    let mut url = url::Url::parse(uri).map_err(ApiError::internal)?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    Ok(url.into())
}
