//! Two-factor sign-in, `/v1/user/totp`: enrolment (a secret shown as text, URI and QR
//! code, confirmed with a code, then ten recovery codes), turning it off with the password,
//! and an administrator's reset. How a login checks the codes is `auth::second_factor`.

use crate::audit::{self, Entry};
use crate::auth::second_factor::{self, new_recovery_codes, normalise_recovery, step_of};
use crate::auth::throttle::{self, Key};
use crate::auth::{Admin, Approved, Caller, access, secret, session};
use crate::clock::now;
use crate::db::RowLock;
use crate::error::ApiError;
use crate::extract::{Id, Json};
use crate::limits::PasswordWork;
use crate::reply::{Message, Reply, ok};
use crate::rows::user::{check_own_password, find_target, refuse_self_and_system_admin};
use crate::state::AppState;
use app::model::{Envelope, RecoveryCodes, TotpCode, TotpDisable, TotpEnrolment};
use axum::extract::State;
use sqlx::AssertSqlSafe;
use totp_rs::Secret;

const ISSUER: &str = "OTE Portal";
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

fn uri(user: &str, secret: &str, step_seconds: u64) -> String {
    let issuer = ISSUER.replace(' ', "%20");
    let period = if step_seconds == 30 {
        String::new()
    } else {
        format!("&period={step_seconds}")
    };
    format!("otpauth://totp/{issuer}:{user}?secret={secret}&issuer={issuer}{period}")
}

fn qr_svg(uri: &str) -> Result<String, ApiError> {
    let code =
        qrcode::QrCode::new(uri.as_bytes()).map_err(|err| ApiError::internal(format!("QR code: {err}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// Start enrolling: a new secret, not yet active, as text, URI and QR code.
#[utoipa::path(post, path = "/v1/user/totp", tag = "totp", security(("token" = [])),
    responses(
        (status = 200, description = "A new secret; confirm it with a code (PUT)", body = Envelope<TotpEnrolment>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not approved, or asked with a personal token", body = Message),
        (status = 409, description = "Two-factor sign-in is already on", body = Message),
    ))]
pub async fn enrol(State(state): State<AppState>, Approved(caller): Approved) -> Reply<TotpEnrolment> {
    use rand::RngCore;
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = Secret::new(bytes.to_vec().into_boxed_slice()).to_base32();
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    let active: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT active FROM totp WHERE user_id = $1{}",
        state.db.lock(RowLock::Update)
    )))
    .bind(caller.id)
    .fetch_optional(&mut *tx)
    .await?;
    if active == Some(1) {
        return Err(ApiError::Conflict(
            "totp: two-factor sign-in is already on".into(),
        ));
    }
    sqlx::query("DELETE FROM totp WHERE user_id = $1")
        .bind(caller.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO totp (user_id, secret, active, last_step, create_time) VALUES ($1, $2, 0, 0, $3)",
    )
    .bind(caller.id)
    .bind(&secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let uri = uri(&caller.name, &secret, state.config.accounts.totp_step_seconds);
    let qr_svg = qr_svg(&uri)?;
    ok(Envelope::data(TotpEnrolment { secret, uri, qr_svg }))
}

/// Confirm the new secret with a code from the app: two-factor sign-in is on, every other
/// session of the caller ends, and the answer holds the recovery codes (shown only now).
#[utoipa::path(put, path = "/v1/user/totp", tag = "totp", security(("token" = [])), request_body = TotpCode,
    responses(
        (status = 200, description = "On; the caller's other sessions ended; `data.recoveryCodes` are ten single-use codes", body = Envelope<RecoveryCodes>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not approved, or asked with a personal token", body = Message),
        (status = 409, description = "No enrolment started, or two-factor sign-in is already on", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "The code is not valid", body = Message),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    Approved(caller): Approved,
    Json(body): Json<TotpCode>,
) -> Reply<RecoveryCodes> {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    let row: Option<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT secret, active FROM totp WHERE user_id = $1{}",
        state.db.lock(RowLock::Update)
    )))
    .bind(caller.id)
    .fetch_optional(&mut *tx)
    .await?;
    let secret = match row {
        None => {
            return Err(ApiError::Conflict(
                "totp: no enrolment started; POST /v1/user/totp first".into(),
            ));
        }
        Some((_, 1)) => {
            return Err(ApiError::Conflict(
                "totp: two-factor sign-in is already on".into(),
            ));
        }
        Some((secret, _)) => secret,
    };
    let step = step_of(
        &secret,
        body.code.as_str(),
        state.config.accounts.totp_step_seconds,
        now,
    )?
    .ok_or_else(|| ApiError::unprocessable("code", "is not valid"))?;
    sqlx::query("UPDATE totp SET active = 1, last_step = $1 WHERE user_id = $2")
        .bind(step)
        .bind(caller.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(caller.id)
        .execute(&mut *tx)
        .await?;
    let codes = new_recovery_codes();
    for code in &codes {
        sqlx::query("INSERT INTO recovery_codes (user_id, digest) VALUES ($1, $2)")
            .bind(caller.id)
            .bind(secret::digest(&normalise_recovery(code)))
            .execute(&mut *tx)
            .await?;
    }
    // Whoever else was signed in did so without the factor now required.
    let ended = session::end_others(&mut tx, caller.id, &caller.claims()?.sid).await?;
    let entry = Entry::own(
        &caller,
        "user.totp_enable",
        format!(
            "{}: two-factor sign-in on; {ended} other session(s) ended",
            caller.name
        ),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Turn two-factor sign-in off with the caller's password and a current code (or a
/// recovery code); every other session of the caller ends.
#[utoipa::path(delete, path = "/v1/user/totp", tag = "totp", security(("token" = [])), request_body = TotpDisable,
    responses(
        (status = 200, description = "Off; the caller's other sessions ended", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "`OTE_REQUIRE_TOTP` covers the caller, or asked with a personal token", body = Message),
        (status = 409, description = "Two-factor sign-in is not on", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Wrong password, or a wrong, spent or missing code", body = Message),
        (status = 429, description = "Too many wrong passwords or one-time codes for this name, or too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    _: PasswordWork,
    Json(body): Json<TotpDisable>,
) -> Reply {
    if access::covers(state.config.accounts.require_totp, caller.role) {
        return Err(ApiError::Forbidden(
            "totp: the policy (OTE_REQUIRE_TOTP) requires two-factor sign-in for you".into(),
        ));
    }
    if !caller.totp {
        return Err(ApiError::Conflict("totp: two-factor sign-in is not on".into()));
    }
    check_own_password(&state, &caller, body.password.as_str(), "password").await?;
    let now = now();
    // A stolen password alone cannot turn the factor off: a code is needed too, under
    // the same budget as the login's codes.
    let secret: String = sqlx::query_scalar("SELECT secret FROM totp WHERE user_id = $1 AND active = 1")
        .bind(caller.id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ApiError::Conflict("totp: two-factor sign-in is not on".into()))?;
    let name =
        throttle::key(&caller.name).ok_or_else(|| ApiError::internal("a stored name breaks the rule"))?;
    let code = Some(&body.code);
    let code_passed =
        match second_factor::check(&state, &Key::Name(name), caller.id, &secret, code, now).await {
            Ok(Some(passed)) => passed,
            Ok(None) | Err(ApiError::Unauthorized(_)) => {
                return Err(ApiError::unprocessable("code", "is not valid"));
            }
            Err(err) => return Err(err),
        };
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    code_passed.keep_failures(&mut tx).await?;
    second_factor::remove(&mut tx, caller.id).await?;
    let ended = session::end_others(&mut tx, caller.id, &caller.claims()?.sid).await?;
    let entry = Entry::own(
        &caller,
        "user.totp_disable",
        format!(
            "{}: two-factor sign-in off; {ended} other session(s) ended",
            caller.name
        ),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Turn two-factor sign-in off for a user who lost the device; the user's sessions end.
#[utoipa::path(delete, path = "/v1/admin/user/{id}/totp", tag = "totp", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "Off; the user's sessions ended", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4, the target is the caller or the system administrator, or asked with a personal token", body = Message),
        (status = 404, description = "No such user in the caller's scope", body = Message),
        (status = 409, description = "The user has no two-factor sign-in", body = Message),
        (status = 422, description = "Bad id", body = Message),
        (status = 503, description = "Collided with a simultaneous change (two admins acting on each other); try again after `Retry-After`", body = Message),
    ))]
pub async fn reset(State(state): State<AppState>, admin: Admin, Id(id): Id) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.0.confirm(&state.db, &mut tx).await?;
    let target = find_target(&state.db, &mut tx, admin.scope(), id).await?;
    refuse_self_and_system_admin(&admin.0, &target, "reset the two-factor sign-in of")?;
    if !second_factor::reset(&mut tx, id).await? {
        return Err(ApiError::Conflict(format!(
            "id: user {id} has no two-factor sign-in"
        )));
    }
    let entry = Entry::user(
        &admin.0,
        "user.totp_reset",
        id,
        target.business_id,
        format!("{}: two-factor sign-in reset; sessions ended", target.user_name),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_is_what_authenticator_apps_read() {
        assert_eq!(
            uri("ann", "ABC", 30),
            "otpauth://totp/OTE%20Portal:ann?secret=ABC&issuer=OTE%20Portal"
        );
        assert!(uri("ann", "ABC", 5).ends_with("&period=5"));
        assert!(qr_svg(&uri("ann", "ABC", 30)).unwrap().contains("<svg"));
    }
}
