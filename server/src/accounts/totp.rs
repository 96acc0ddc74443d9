//! Two-factor sign-in with time-based one-time codes (RFC 6238: SHA-1, 6 digits, a step of
//! `OTE_TOTP_STEP_SECONDS`, one step either side), `/v1/user/totp`, and the login's second
//! factor. A code is taken once: `totp.last_step` only moves forward, in one `UPDATE`, so
//! of two logins racing with one code only one wins. Recovery codes are kept as digests
//! and deleted when used.

use crate::accounts::{self, Ending};
use crate::api::audit::{self, Actor, Entry};
use crate::api::users::{check_own_password, find_target, refuse_self_and_system_admin};
use crate::api::{Message, Reply, now, ok};
use crate::auth::{Admin, Approved, Caller, access};
use crate::db::RowLock;
use crate::error::ApiError;
use crate::extract::{Id, Json};
use crate::limits::PasswordWork;
use crate::state::AppState;
use app::model::{Envelope, PasswordConfirmation, RecoveryCodes, TotpCode, TotpEnrolment};
use app::rules::Text;
use axum::extract::State;
use sqlx::AssertSqlSafe;
use totp_rs::{Algorithm, Secret};

const ISSUER: &str = "OTE Portal";
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const RECOVERY_CODES: usize = 10;

fn generator(secret_base32: &str, step_seconds: u64) -> Result<totp_rs::Totp, ApiError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| ApiError::internal("a stored TOTP secret is not base32"))?;
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(step_seconds)
        .with_secret(secret)
        .build()
        .map_err(|err| ApiError::internal(format!("TOTP: {err:?}")))
}

/// The time step whose code `code` is (within one step of now), if any.
fn step_of(secret: &str, code: &str, step_seconds: u64, now: i64) -> Result<Option<i64>, ApiError> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let generator = generator(secret, step_seconds)?;
    Ok(generator
        .check(&digits, now.max(0) as u64)
        .map(|step| step as i64))
}

/// A recovery code as typed (any case, with or without dashes and spaces) to the form it
/// is kept by.
fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Ten codes of 16 base32 characters (80 bits), shown as `XXXX-XXXX-XXXX-XXXX`.
fn new_recovery_codes() -> Vec<String> {
    use rand::RngCore;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let text = Secret::new(bytes.to_vec().into_boxed_slice()).to_base32();
            text.as_bytes()
                .chunks(4)
                .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The login's second factor for `user_id`, whose active TOTP secret (if any) the login
/// read with the user. `Ok(true)`: no two-factor, or a good code (now spent);
/// `Ok(false)`: a wrong or spent code, which the throttle counts; 401 when the code is
/// missing (the password was right, so that attempt does not count).
pub async fn second_factor(
    state: &AppState,
    user_id: i64,
    secret: Option<&str>,
    code: Option<&Text>,
    now: i64,
) -> Result<bool, ApiError> {
    let Some(secret) = secret else {
        return Ok(true);
    };
    let code = code.map(|c| c.as_str().trim()).filter(|c| !c.is_empty());
    let Some(code) = code else {
        return Err(ApiError::Unauthorized("code: a one-time code is required".into()));
    };
    let step_seconds = state.config.accounts.totp_step_seconds;
    if let Some(step) = step_of(secret, code, step_seconds, now)? {
        let taken = sqlx::query(
            "UPDATE totp SET last_step = $1 WHERE user_id = $2 AND active = 1 AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
        return Ok(taken == 1);
    }
    let used = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND digest = $2")
        .bind(user_id)
        .bind(accounts::digest(&normalise_recovery(code)))
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    Ok(used == 1)
}

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
#[utoipa::path(post, path = "/user/totp", tag = "totp", security(("token" = [])),
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

/// Confirm the new secret with a code from the app: two-factor sign-in is on, and the
/// answer holds the recovery codes (shown only now).
#[utoipa::path(put, path = "/user/totp", tag = "totp", security(("token" = [])), request_body = TotpCode,
    responses(
        (status = 200, description = "On; `data.recoveryCodes` are ten single-use codes", body = Envelope<RecoveryCodes>),
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
            .bind(accounts::digest(&normalise_recovery(code)))
            .execute(&mut *tx)
            .await?;
    }
    let entry = Entry {
        action: "user.totp_enable",
        target_type: "user",
        target_id: caller.id,
        detail: format!("{}: two-factor sign-in on", caller.name),
        business_id: caller.business_id,
        actor: Actor::from(&caller),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Turn two-factor sign-in off with the caller's password.
#[utoipa::path(delete, path = "/user/totp", tag = "totp", security(("token" = [])), request_body = PasswordConfirmation,
    responses(
        (status = 200, description = "Off", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "`OTE_REQUIRE_TOTP` covers the caller, or asked with a personal token", body = Message),
        (status = 409, description = "Two-factor sign-in is not on", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Wrong password", body = Message),
        (status = 429, description = "Too many wrong passwords for this name, or too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    _: PasswordWork,
    Json(body): Json<PasswordConfirmation>,
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
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    remove(&mut tx, caller.id).await?;
    let entry = Entry {
        action: "user.totp_disable",
        target_type: "user",
        target_id: caller.id,
        detail: format!("{}: two-factor sign-in off", caller.name),
        business_id: caller.business_id,
        actor: Actor::from(&caller),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Turn two-factor sign-in off for a user who lost the device; the user's sessions end.
#[utoipa::path(delete, path = "/admin/user/{id}/totp", tag = "totp", security(("token" = [])),
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
    let active: Option<i64> = sqlx::query_scalar("SELECT active FROM totp WHERE user_id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if active != Some(1) {
        return Err(ApiError::Conflict(format!(
            "id: user {id} has no two-factor sign-in"
        )));
    }
    remove(&mut tx, id).await?;
    accounts::end_tokens(&mut tx, id, Ending::Sessions).await?;
    let entry = Entry {
        action: "user.totp_reset",
        target_type: "user",
        target_id: id,
        detail: format!("{}: two-factor sign-in reset; sessions ended", target.user_name),
        business_id: target.business_id,
        actor: Actor::from(&admin.0),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

pub(crate) async fn remove(tx: &mut sqlx::AnyConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM totp WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_the_step_and_its_neighbours_pass_once_computed() {
        let secret = Secret::new(vec![7u8; 20].into_boxed_slice()).to_base32();
        let generator = generator(&secret, 30).unwrap();
        let now = 1_700_000_000_i64;
        for (offset, expected) in [
            (-30, Some(now / 30 - 1)),
            (0, Some(now / 30)),
            (30, Some(now / 30 + 1)),
        ] {
            let code = generator.generate((now + offset) as u64).to_string();
            assert_eq!(
                step_of(&secret, &code, 30, now).unwrap(),
                expected,
                "offset {offset}"
            );
        }
        let far = generator.generate((now + 90) as u64).to_string();
        assert_eq!(step_of(&secret, &far, 30, now).unwrap(), None);
        assert_eq!(step_of(&secret, "12345", 30, now).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_read_back_in_any_form() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        let code = &codes[0];
        assert_eq!(code.len(), 19, "{code}");
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalise_recovery(&typed), normalise_recovery(code));
    }

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
