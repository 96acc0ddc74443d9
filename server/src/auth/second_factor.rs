//! The second factor (RFC 6238 one-time codes, SHA-1, 6 digits, a step of
//! `OTE_TOTP_STEP_SECONDS`, one step either side, and single-use recovery codes): how a
//! login checks it, and what turning it off removes. A code is taken once: `totp.last_step`
//! only moves forward, in one `UPDATE`, so of two logins racing with one code only one
//! wins. Recovery codes are kept as digests and deleted when used. Enrolment is
//! `accounts::totp`.

use super::secret;
use super::session::{self, Ending};
use super::throttle::{self, Budget};
use crate::error::ApiError;
use crate::state::AppState;
use app::rules::Text;
use sqlx::AnyConnection;
use totp_rs::{Algorithm, Secret};

const RECOVERY_CODES: usize = 10;

pub(crate) fn generator(secret_base32: &str, step_seconds: u64) -> Result<totp_rs::Totp, ApiError> {
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
pub(crate) fn step_of(
    secret: &str,
    code: &str,
    step_seconds: u64,
    now: i64,
) -> Result<Option<i64>, ApiError> {
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
pub fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Ten codes of 16 base32 characters (80 bits), shown as `XXXX-XXXX-XXXX-XXXX`.
pub fn new_recovery_codes() -> Vec<String> {
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

/// Checks `code` (a current one-time code or an unused recovery code) for `user_id`,
/// whose active secret is `secret`, under the code budget of `key` (a name or a
/// device; SPEC.md section 13): a right code is spent (its step, or the recovery code)
/// and earlier wrong ones still count; a wrong one counts. 401 when the code is missing,
/// 429 when the budget is spent; `Ok(None)` a wrong or spent code.
pub async fn check(
    state: &AppState,
    key: &throttle::Key,
    user_id: i64,
    secret: &str,
    code: Option<&Text>,
    now: i64,
) -> Result<Option<throttle::Passed>, ApiError> {
    let code = code.map(|c| c.as_str().trim()).filter(|c| !c.is_empty());
    let Some(code) = code else {
        return Err(ApiError::Unauthorized("code: a one-time code is required".into()));
    };
    let budget = Budget::codes(state.config.accounts.code_failure_window_seconds);
    throttle::check(
        &state.db,
        &key.codes(),
        budget,
        now,
        take(state, user_id, secret, code, now),
    )
    .await
}

/// Spends `code` if it is right: the one-time code's step moves forward in one `UPDATE`
/// (of two requests racing with one code only one wins), a recovery code is deleted.
async fn take(state: &AppState, user_id: i64, secret: &str, code: &str, now: i64) -> Result<bool, ApiError> {
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
        .bind(secret::digest(&normalise_recovery(code)))
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    Ok(used == 1)
}

/// Removes a user's second factor (its secret and recovery codes).
pub async fn remove(tx: &mut sqlx::AnyConnection, user_id: i64) -> Result<(), sqlx::Error> {
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

/// Turns a user's second factor off for someone else (an administrator, the console): the
/// secret and recovery codes go, and so do the user's sessions, since whoever held them
/// signed in with the factor now gone. `false` when it was not on.
pub async fn reset(conn: &mut AnyConnection, user_id: i64) -> Result<bool, sqlx::Error> {
    let active: Option<i64> = sqlx::query_scalar("SELECT active FROM totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    if active != Some(1) {
        return Ok(false);
    }
    remove(conn, user_id).await?;
    session::end_tokens(conn, user_id, Ending::Sessions).await?;
    Ok(true)
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
}
