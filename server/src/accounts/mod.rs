//! Accounts the way operators expect (SPEC.md section 9): two-factor sign-in (`totp`),
//! sessions (`sessions`) and personal access tokens (`personal`), as endpoints; what they
//! share with the login (second factor, sessions, token digests) is `auth`, and which
//! credential may reach which route is `auth::access`.

pub mod personal;
pub mod sessions;
pub mod totp;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The accounts' endpoints, under `/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(totp::enrol, totp::confirm, totp::disable))
        .routes(routes!(totp::reset))
        .routes(routes!(sessions::list, sessions::end_others))
        .routes(routes!(sessions::end))
        .routes(routes!(personal::create, personal::list))
        .routes(routes!(personal::revoke))
}
