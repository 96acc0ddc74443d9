//! The platform's identity provider (SPEC.md section 12): an OpenID Connect provider whose
//! ID tokens carry the portal's decisions (`groups`: the business and a role group), so
//! kube-apiserver, the registry and dashboards trust them.
//!
//! - `discovery`: the metadata and the public keys;
//! - `clients`: the applications, managed by the system administrator;
//! - `request` and `authorize`: the authorization request and the consent page's decision;
//! - `token`: code and refresh exchanges, revocation; `userinfo`; `logout`;
//! - `applications`: what a user allowed, revocable;
//! - below them `claims` (what is said of a person, and the tokens), `grants` (consents,
//!   codes, grants, refresh tokens and their single use) and `wire` (the OAuth format).
//!
//! Keys are `auth::keys`; what ends a user's grants with its sessions is `auth::session`.

pub mod applications;
pub mod authorize;
pub mod claims;
pub mod clients;
pub mod discovery;
pub mod grants;
pub mod logout;
pub mod request;
pub mod token;
pub mod userinfo;
pub mod wire;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The provider's endpoints under `/v1` (the envelope, the portal's tokens).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(clients::create, clients::list))
        .routes(routes!(clients::update, clients::delete))
        .routes(routes!(authorize::decide))
        .routes(routes!(applications::list))
        .routes(routes!(applications::revoke))
}

/// The OAuth and OpenID Connect endpoints at the root, in their own wire format.
pub fn protocol() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(discovery::configuration))
        .routes(routes!(discovery::jwks))
        .routes(routes!(token::token))
        .routes(routes!(token::revoke))
        .routes(routes!(userinfo::userinfo, userinfo::userinfo_post))
        .routes(routes!(logout::logout))
}
