//! Wire types of the platform's identity provider (SPEC.md section 12): the applications
//! (OpenID Connect clients) the system administrator registers, the consent page's
//! question and answer, and the applications a user has allowed.

use crate::rules::{ClientName, RedirectUri};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Redirect URIs one application may register, of each kind.
pub const MAX_REDIRECT_URIS: usize = 10;

/// `POST /v1/admin/oauth/clients`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewClient {
    pub name: ClientName,
    /// Where the browser may be sent back with a code; matched exactly.
    #[serde(deserialize_with = "some_uris")]
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 10))]
    pub redirect_uris: Vec<RedirectUri>,
    /// A public client (a CLI, a single-page app) has no secret and must use PKCE.
    #[serde(default)]
    pub public: bool,
    /// Where `GET /oauth/logout` may send the browser afterwards.
    #[serde(default, deserialize_with = "at_most_uris")]
    #[cfg_attr(feature = "ssr", schema(max_items = 10))]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
}

/// `PUT /v1/admin/oauth/clients/{clientId}`: what changes; the rest stays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClientChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ClientName>,
    #[serde(
        default,
        deserialize_with = "some_some_uris",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 10))]
    pub redirect_uris: Option<Vec<RedirectUri>>,
    #[serde(
        default,
        deserialize_with = "some_at_most_uris",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(max_items = 10))]
    pub post_logout_redirect_uris: Option<Vec<RedirectUri>>,
    /// A disabled application can start no sign-in and use none of its tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

fn checked(list: Vec<RedirectUri>, least: usize) -> Result<Vec<RedirectUri>, String> {
    if !(least..=MAX_REDIRECT_URIS).contains(&list.len()) {
        return Err(format!("must list {least}-{MAX_REDIRECT_URIS} URIs"));
    }
    for (i, uri) in list.iter().enumerate() {
        if list[..i].contains(uri) {
            return Err(format!("must not list {uri} twice"));
        }
    }
    Ok(list)
}

fn some_uris<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<RedirectUri>, D::Error> {
    checked(Vec::deserialize(deserializer)?, 1).map_err(serde::de::Error::custom)
}

fn at_most_uris<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<RedirectUri>, D::Error> {
    checked(Vec::deserialize(deserializer)?, 0).map_err(serde::de::Error::custom)
}

/// Absent or `null` leaves the list as it is.
fn some_some_uris<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<RedirectUri>>, D::Error> {
    Option::<Vec<RedirectUri>>::deserialize(deserializer)?
        .map(|list| checked(list, 1).map_err(serde::de::Error::custom))
        .transpose()
}

fn some_at_most_uris<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<RedirectUri>>, D::Error> {
    Option::<Vec<RedirectUri>>::deserialize(deserializer)?
        .map(|list| checked(list, 0).map_err(serde::de::Error::custom))
        .transpose()
}

/// An application as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub enabled: bool,
    pub create_time: i64,
    pub update_time: i64,
}

/// The answer to `POST /v1/admin/oauth/clients`: the secret is shown this once (a
/// public client has none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedClient {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// `POST /v1/oauth/authorize`: the consent page's question (without `approve`: what
/// does this request need?) and decision (`approve` true or false).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct AuthorizeDecision {
    /// The query string of `GET /oauth/authorize` as the browser got it (without `?`).
    #[cfg_attr(feature = "ssr", schema(max_length = 8192))]
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve: Option<bool>,
}

/// The answer to `POST /v1/oauth/authorize`. With `redirect`, the page sends the browser
/// there (a code, or an error for the application); without, it signs the person in
/// (`login`) or asks for consent naming `client` and `scopes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
    /// The person must sign in (again): no token, or the application asked for a fresh
    /// sign-in (`prompt=login`, `max_age`).
    #[serde(default)]
    pub login: bool,
    pub client: ClientSummary,
    /// The scopes asked for that the portal knows (`openid`, `profile`, `phone`,
    /// `groups`, `offline_access`).
    pub scopes: Vec<String>,
}

/// Who is asking, as the consent page names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClientSummary {
    pub client_id: String,
    pub name: String,
}

/// `GET /v1/user/applications`: an application the caller has allowed, until revoked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AllowedApplication {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub create_time: i64,
}
