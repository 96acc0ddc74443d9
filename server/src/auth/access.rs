//! Which routes a credential may reach, beyond what the roles say (SPEC.md section 9):
//!
//! - a personal access token never manages credentials (tokens, sessions, two-factor,
//!   passwords; refreshing or ending a JWT), and a `read` one only reads;
//! - under `OTE_REQUIRE_TOTP`, a user the policy covers who has not enrolled may only
//!   enrol, ask who it is, and log out.
//!
//! The routes are the router's templates (`MatchedPath`), listed here once.

use crate::auth::caller::{Caller, Credential};
use crate::config::TotpPolicy;
use crate::error::ApiError;
use app::model::{Role, TokenScope};
use axum::http::Method;

/// Routes that manage credentials: no personal token reaches them (but `GET
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

pub fn admit(caller: &Caller, policy: TotpPolicy, method: &Method, route: &str) -> Result<(), ApiError> {
    if let Credential::Personal { scope, .. } = &caller.credential {
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
    if must_enrol(caller, policy) && !ENROLMENT_ROUTES.iter().any(|(m, r)| m == method && *r == route) {
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

fn must_enrol(caller: &Caller, policy: TotpPolicy) -> bool {
    !caller.totp && covers(policy, caller.role)
}
