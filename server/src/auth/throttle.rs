//! Login throttling (SPEC.md sections 5, 8 and 13): at most 5 wrong passwords for one key
//! are ever checked within 15 minutes, however many requests race; wrong one-time codes
//! have a budget of their own (`Budget::codes`: 10 in `OTE_CODE_FAILURE_WINDOW_SECONDS`,
//! a day by default) that a successful login does not clear.
//!
//! The keys (`Key`): a name, for a browser or client that has not signed in as that name
//! before; a device, for one that has (`auth::device`): others' wrong guesses for the name
//! never lock that browser out, and its own have their own budget.
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

/// How many failures a key may have in how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max_failures: i64,
    pub window_seconds: i64,
    /// The 429's message once the budget is spent, before "try again in N seconds".
    refusal: &'static str,
}

impl Budget {
    /// Wrong passwords (SPEC.md section 5).
    pub const PASSWORDS: Self = Self {
        max_failures: 5,
        window_seconds: 15 * 60,
        refusal: "user: too many failed logins",
    };

    /// Wrong one-time or recovery codes, in the configured window.
    pub fn codes(window_seconds: u64) -> Self {
        Self {
            max_failures: 10,
            window_seconds: window_seconds as i64,
            refusal: "code: too many wrong one-time codes",
        }
    }
}

/// Whose attempts a failure counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// The name (lowercase), for clients that have not signed in as it before.
    Name(String),
    /// One browser's device cookie (its nonce), for that name only.
    Device(String),
}

impl Key {
    /// The key of wrong passwords.
    pub fn passwords(&self) -> String {
        match self {
            Key::Name(name) => name.clone(),
            Key::Device(nonce) => format!("device:{nonce}"),
        }
    }

    /// The key of wrong one-time codes.
    pub fn codes(&self) -> String {
        format!("code:{}", self.passwords())
    }
}

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
/// last `budget.max_failures` attempts leaves the window.
async fn admit(db: &Db, key: &str, budget: Budget, now: i64) -> Result<Attempt, ApiError> {
    if db.dialect == Dialect::Sqlite {
        return admit_in_one_statement(db, key, budget, now).await;
    }
    let mut tx = db.begin_side_write().await?;
    db.lock_name(&mut tx, key).await?;
    if let Some(at) = oldest_counted(&mut tx, key, budget, now).await? {
        return Err(throttled(at, budget, now));
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

/// When the oldest of the budget's failures happened, if the window holds that many: the
/// lock ends a window after it.
async fn oldest_counted(
    conn: &mut AnyConnection,
    key: &str,
    budget: Budget,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT failed_at FROM login_failures WHERE user_key = $1 AND failed_at > $2 \
         ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
    )
    .bind(key)
    .bind(now - budget.window_seconds)
    .bind(budget.max_failures - 1)
    .fetch_optional(conn)
    .await
}

/// 429, with the seconds until the attempt made at `oldest` leaves the window.
fn throttled(oldest: i64, budget: Budget, now: i64) -> ApiError {
    let retry_after = (oldest + budget.window_seconds - now).max(1) as u64;
    let message = format!("{}; try again in {retry_after} seconds", budget.refusal);
    ApiError::TooManyRequests { message, retry_after }
}

/// SQLite runs one statement at a time, so counting and writing down in one statement is
/// as exact as the locked transaction, and holds the database's write lock for one round
/// trip instead of four (logins wait for each other less).
async fn admit_in_one_statement(db: &Db, key: &str, budget: Budget, now: i64) -> Result<Attempt, ApiError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO login_failures (user_key, failed_at) SELECT $1, $2 \
         WHERE (SELECT COUNT(*) FROM login_failures WHERE user_key = $1 AND failed_at > $3) < $4 \
         RETURNING id",
    )
    .bind(key)
    .bind(now)
    .bind(now - budget.window_seconds)
    .bind(budget.max_failures)
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
    let oldest = oldest_counted(&mut *db.pool.acquire().await?, key, budget, now).await?;
    // The window may have moved on between the two statements: then the next try passes.
    Err(throttled(
        oldest.unwrap_or(now - budget.window_seconds + 1),
        budget,
        now,
    ))
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

    /// A right code: this attempt was no failure, but earlier ones still count (an
    /// attacker's budget is not reset by its owner's success).
    pub async fn keep_failures(mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(self.0.id)
            .execute(conn)
            .await?;
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

/// Checks a password (or code) under the throttle of `key` and its `budget`: admits the
/// attempt, runs `check`, and settles a wrong or unchecked attempt by its outcome; a right
/// one is for the caller to settle (`Passed`). `None` is a wrong guess, counted.
pub async fn check<F>(
    db: &Db,
    key: &str,
    budget: Budget,
    now: i64,
    check: F,
) -> Result<Option<Passed>, ApiError>
where
    F: Future<Output = Result<bool, ApiError>>,
{
    let mut attempt = admit(db, key, budget, now).await?;
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
    match check(db, key, Budget::PASSWORDS, now, verify).await? {
        Some(passed) => {
            let mut conn = db.pool.acquire().await?;
            passed.clear(&mut conn).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Throttle rows that left their window count for nobody (the housekeeping task): a
/// password's after 15 minutes, a code's after `code_window_seconds`.
pub async fn purge(db: &Db, code_window_seconds: i64, now: i64) -> Result<u64, sqlx::Error> {
    let passwords =
        sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1 AND user_key NOT LIKE 'code:%'")
            .bind(now - Budget::PASSWORDS.window_seconds)
            .execute(&db.pool)
            .await?
            .rows_affected();
    let codes = sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1 AND user_key LIKE 'code:%'")
        .bind(now - code_window_seconds)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(passwords + codes)
}
