//! Accounts the way operators expect (SPEC.md section 9): two-factor sign-in (`totp`),
//! sessions (`sessions`) and personal access tokens (`personal`). Their routes join the
//! `/v1` router in `routes`; which credential may reach which route is `auth::access`.

pub mod personal;
pub mod sessions;
pub mod totp;

use crate::state::AppState;
use sqlx::AnyConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The accounts' endpoints, added to the `/v1` router.
pub fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(totp::enrol, totp::confirm, totp::disable))
        .routes(routes!(totp::reset))
        .routes(routes!(sessions::list, sessions::end_others))
        .routes(routes!(sessions::end))
        .routes(routes!(personal::create, personal::list))
        .routes(routes!(personal::revoke))
}

/// Which of a user's credentials `end_tokens` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every session and its JWTs (own password change, two-factor reset).
    Sessions,
    /// Those and the personal tokens too (forbidden, refused, deleted, or a password
    /// reset by an administrator).
    Everything,
}

/// Ends a user's credentials inside the caller's write transaction: the one place that
/// says what dies when.
pub async fn end_tokens(conn: &mut AnyConnection, user_id: i64, ending: Ending) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if ending == Ending::Everything {
        sqlx::query("DELETE FROM personal_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// SHA-256 in hexadecimal: how personal tokens and recovery codes are kept (both carry
/// enough random bits that a slow hash would add nothing).
pub fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `bytes` random bytes in lowercase hexadecimal.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}
