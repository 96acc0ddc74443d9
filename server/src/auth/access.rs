//! Which routes a credential may reach, beyond what the roles say (SPEC.md section 9):
//!
//! - a personal access token never manages credentials (tokens, sessions, two-factor,
//!   passwords; refreshing or ending a JWT), and a `read` one only reads;
//! - under `OTE_REQUIRE_TOTP`, a user the policy covers who has not enrolled may only
//!   enrol, ask who it is, and log out.
//!
//! The routes are the router's templates (`MatchedPath`), listed here once.

use crate::auth::token::Claims;
use crate::config::TotpPolicy;
use crate::error::ApiError;
use app::model::{Role, TokenScope};
use axum::http::Method;
use std::sync::Arc;

/// What a request was authenticated with.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A JWT of a password login, in session `claims.sid`.
    Session(Arc<Claims>),
    /// A personal access token (SPEC.md section 9).
    Personal { id: i64, scope: TokenScope },
}

/// Routes that manage credentials (the identity provider's sign-ins and consents too): no
/// personal token reaches them (but `GET
/// /v1/authorization`, which only says who the caller is).
const CREDENTIAL_ROUTES: &[&str] = &[
    "/v1/authorization",
    "/v1/user",
    "/v1/admin/user/{id}/password",
    "/v1/user/totp",
    "/v1/admin/user/{id}/totp",
    "/v1/user/sessions",
    "/v1/user/sessions/{id}",
    "/v1/user/tokens",
    "/v1/user/tokens/{id}",
    "/v1/oauth/authorize",
    "/v1/user/applications",
    "/v1/user/applications/{clientId}",
];

/// What a user who must enrol may still do.
const ENROLMENT_ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/v1/user/totp"),
    (Method::PUT, "/v1/user/totp"),
    (Method::GET, "/v1/authorization"),
    (Method::DELETE, "/v1/authorization"),
];

pub const PERSONAL_REFUSAL: &str =
    "Authorization: a personal token may not manage tokens, sessions, two-factor sign-in or passwords";

/// Whether `credential`, of a user in `role` who has (`enrolled`) or has not turned on
/// two-factor sign-in, may reach `method route`.
pub fn admit(
    credential: &Credential,
    role: Role,
    enrolled: bool,
    policy: TotpPolicy,
    method: &Method,
    route: &str,
) -> Result<(), ApiError> {
    if let Credential::Personal { scope, .. } = credential {
        let who_am_i = method == Method::GET && route == "/v1/authorization";
        if CREDENTIAL_ROUTES.contains(&route) && !who_am_i {
            return Err(ApiError::Forbidden(PERSONAL_REFUSAL.into()));
        }
        if *scope == TokenScope::Read && method != Method::GET {
            return Err(ApiError::Forbidden(
                "Authorization: a read-only personal token may only read (GET)".into(),
            ));
        }
    }
    let must_enrol = !enrolled && covers(policy, role);
    if must_enrol && !ENROLMENT_ROUTES.iter().any(|(m, r)| m == method && *r == route) {
        return Err(ApiError::Forbidden("totp: enrolment required".into()));
    }
    Ok(())
}

/// Whether the policy covers this caller's role.
pub fn covers(policy: TotpPolicy, role: Role) -> bool {
    match policy {
        TotpPolicy::None => false,
        TotpPolicy::Admins => matches!(role, Role::BusinessAdmin | Role::SystemAdmin),
        TotpPolicy::All => role != Role::Pending,
    }
}
