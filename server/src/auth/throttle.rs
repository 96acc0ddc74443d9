//! Login throttling (SPEC.md sections 5 and 8): at most 5 wrong guesses for one user name
//! are ever checked within 15 minutes, however many requests race.
//!
//! The count is exact because an attempt is *admitted* before its password is checked:
//! in one write transaction, holding a lock on the name, the attempts of the window are
//! counted and, if fewer than 5, this one is written down. A wrong guess leaves its row as
//! the failure; a right one clears the name; work that never got checked gives its row
//! back, and so does a request abandoned before its answer (nobody learns anything from
//! it, and five hung-up clients must not lock a name). The rows live in the database, so
//! every replica counts the same ones.

use crate::config::Dialect;
use crate::db::Db;
use crate::error::ApiError;
use app::rules::UserName;
use sqlx::AnyConnection;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_SECONDS: i64 = 15 * 60;

/// The throttle's key: names are unique case-insensitively, so is their throttle. `None`
/// for a name that breaks the user-name rule: it matches nobody and is never stored.
pub fn key(user: &str) -> Option<String> {
    UserName::parse(user)
        .ok()
        .map(|name| name.as_str().to_lowercase())
}

/// One admitted attempt for a name: its row counts as a failure once `settled`; dropped
/// before that (the request was abandoned), it gives its row back.
struct Attempt {
    id: i64,
    key: String,
    db: Db,
    settled: bool,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (db, id) = (self.db.clone(), self.id);
            runtime.spawn(async move {
                if let Err(err) = sqlx::query("DELETE FROM login_failures WHERE id = $1")
                    .bind(id)
                    .execute(&db.pool)
                    .await
                {
                    tracing::warn!(error = %err, "throttle: could not give back an abandoned attempt");
                }
            });
        }
    }
}

/// Admits one attempt for `key`, or answers 429 with the seconds until the oldest of the
/// last `MAX_FAILURES` attempts leaves the window.
async fn admit(db: &Db, key: &str, now: i64) -> Result<Attempt, ApiError> {
    if db.dialect == Dialect::Sqlite {
        return admit_in_one_statement(db, key, now).await;
    }
    let mut tx = db.begin_side_write().await?;
    db.lock_name(&mut tx, key).await?;
    let fifth_newest = fifth_newest(&mut tx, key, now).await?;
    if let Some(at) = fifth_newest {
        return Err(throttled(at, now));
    }
    let id: i64 =
        sqlx::query_scalar("INSERT INTO login_failures (user_key, failed_at) VALUES ($1, $2) RETURNING id")
            .bind(key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(Attempt {
        id,
        key: key.to_owned(),
        db: db.clone(),
        settled: false,
    })
}

/// When the fifth newest failure of the window happened, if there are five: the lock
/// ends a window after it.
async fn fifth_newest(conn: &mut AnyConnection, key: &str, now: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT failed_at FROM login_failures WHERE user_key = $1 AND failed_at > $2 \
         ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
    )
    .bind(key)
    .bind(now - WINDOW_SECONDS)
    .bind(MAX_FAILURES - 1)
    .fetch_optional(conn)
    .await
}

/// 429, with the seconds until the attempt made at `fifth_newest` leaves the window.
fn throttled(fifth_newest: i64, now: i64) -> ApiError {
    let retry_after = (fifth_newest + WINDOW_SECONDS - now).max(1) as u64;
    ApiError::TooManyRequests {
        message: format!("user: too many failed logins; try again in {retry_after} seconds"),
        retry_after,
    }
}

/// SQLite runs one statement at a time, so counting and writing down in one statement is
/// as exact as the locked transaction, and holds the database's write lock for one round
/// trip instead of four (logins wait for each other less).
async fn admit_in_one_statement(db: &Db, key: &str, now: i64) -> Result<Attempt, ApiError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO login_failures (user_key, failed_at) SELECT $1, $2 \
         WHERE (SELECT COUNT(*) FROM login_failures WHERE user_key = $1 AND failed_at > $3) < $4 \
         RETURNING id",
    )
    .bind(key)
    .bind(now)
    .bind(now - WINDOW_SECONDS)
    .bind(MAX_FAILURES)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(id) = id {
        return Ok(Attempt {
            id,
            key: key.to_owned(),
            db: db.clone(),
            settled: false,
        });
    }
    let fifth_newest = fifth_newest(&mut *db.pool.acquire().await?, key, now).await?;
    // The window may have moved on between the two statements: then the next try passes.
    Err(throttled(fifth_newest.unwrap_or(now - WINDOW_SECONDS + 1), now))
}

impl Attempt {
    /// The password was never checked (the server was busy, or failed): this attempt
    /// does not count.
    async fn unchecked(mut self, db: &Db) -> Result<(), ApiError> {
        self.settled = true;
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(self.id)
            .execute(&db.pool)
            .await?;
        Ok(())
    }
}

/// A right password: the name starts afresh once `clear` runs, in the caller's own write
/// (a login clears the name in the transaction that starts its session: one commit).
/// Dropped uncleared, the attempt gives its row back like an abandoned one.
pub struct Passed(Attempt);

impl Passed {
    pub async fn clear(mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        clear(conn, &self.0.key).await?;
        self.0.settled = true;
        Ok(())
    }
}

/// Starts the name of `key` afresh (a right password, or `ote-portal admin unlock`);
/// returns how many failed attempts it forgets.
pub async fn clear(conn: &mut AnyConnection, key: &str) -> Result<u64, sqlx::Error> {
    let cleared = sqlx::query("DELETE FROM login_failures WHERE user_key = $1")
        .bind(key)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(cleared)
}

/// Checks a password under the throttle of `key`: admits the attempt, runs `check`, and
/// settles a wrong or unchecked attempt by its outcome; a right one is for the caller to
/// clear. `None` is a wrong password, counted.
pub async fn check<F>(db: &Db, key: &str, now: i64, check: F) -> Result<Option<Passed>, ApiError>
where
    F: Future<Output = Result<bool, ApiError>>,
{
    let mut attempt = admit(db, key, now).await?;
    match check.await {
        Ok(true) => Ok(Some(Passed(attempt))),
        Ok(false) => {
            attempt.settled = true;
            Ok(None)
        }
        Err(err) => {
            attempt.unchecked(db).await?;
            Err(err)
        }
    }
}

/// `check`, with the name cleared at once after a right password. `Ok(false)` is a wrong
/// password, counted.
pub async fn guarded_check<F>(db: &Db, key: &str, now: i64, verify: F) -> Result<bool, ApiError>
where
    F: Future<Output = Result<bool, ApiError>>,
{
    match check(db, key, now, verify).await? {
        Some(passed) => {
            let mut conn = db.pool.acquire().await?;
            passed.clear(&mut conn).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Throttle rows that left the window count for nobody (the housekeeping task).
pub async fn purge(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
        .bind(now - WINDOW_SECONDS)
        .execute(&db.pool)
        .await?
        .rows_affected())
}
