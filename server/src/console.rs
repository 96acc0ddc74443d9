//! The commands for the person at the server's console (SPEC.md section 11): account
//! recovery when nobody can sign in, and an online backup of the SQLite database. They
//! work on the database of `DATABASE_URL` directly, whether the portal runs or not; each
//! change is one write transaction, audited with the actor `cli` like any other (so it
//! also reaches webhooks). A running SQLite portal sees the change within a second (its
//! caller cache keeps entries no longer); PostgreSQL replicas read it at once.

use crate::audit::{self, Actor, Entry};
use crate::auth::password::{Passwords, random_password};
use crate::auth::session::Ending;
use crate::auth::{second_factor, throttle};
use crate::clock::now;
use crate::config::{AdminCommand, Command, DatabaseUrl, Dialect};
use crate::db::Db;
use crate::rows::user as rows;
use app::rules::Password;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why a command failed: printed as one line, and the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("DATABASE_URL: {0}")]
    Database(String),
    #[error("user '{0}': no such user")]
    UnknownUser(String),
    #[error("user '{0}': two-factor sign-in is not on")]
    NoTotp(String),
    #[error("backup: {0}")]
    Backup(String),
}

impl From<sqlx::Error> for ConsoleError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err.to_string())
    }
}

impl From<crate::error::ApiError> for ConsoleError {
    fn from(err: crate::error::ApiError) -> Self {
        Self::Database(err.to_string())
    }
}

/// Runs `command` and returns what to print.
pub async fn run(url: &DatabaseUrl, command: &Command) -> Result<String, ConsoleError> {
    let db = open(url).await?;
    let result = match command {
        Command::Serve => unreachable!("main serves without the console"),
        Command::Admin(AdminCommand::ResetPassword { name }) => reset_password(&db, name).await,
        Command::Admin(AdminCommand::Unlock { name }) => unlock(&db, name).await,
        Command::Admin(AdminCommand::DisableTotp { name }) => disable_totp(&db, name).await,
        Command::Admin(AdminCommand::RotateKeys) => rotate_keys(&db).await,
        Command::Backup { file } => backup(&db, file).await,
    };
    db.pool.close().await;
    result
}

/// Opens an existing portal database: a missing SQLite file is an error here, not a new
/// empty database (as it is when the portal starts).
async fn open(url: &DatabaseUrl) -> Result<Db, ConsoleError> {
    if url.dialect() == Ok(Dialect::Sqlite) {
        let path = crate::db::sqlite_path(url.expose());
        if !Path::new(path).is_file() {
            return Err(ConsoleError::Database(format!(
                "no database at {path} (the portal creates it at its first start)"
            )));
        }
    }
    let db = Db::connect(url)
        .await
        .map_err(|err| ConsoleError::Database(format!("cannot open {url}: {err}")))?;
    sqlx::query("SELECT 1 FROM users LIMIT 1")
        .fetch_optional(&db.pool)
        .await
        .map_err(|err| ConsoleError::Database(format!("{url} is not a portal database: {err}")))?;
    Ok(db)
}

/// A live (not deleted) user by name, case-insensitively: id, name as stored, business.
type Target = (i64, String, Option<i64>);

async fn find(conn: &mut sqlx::AnyConnection, name: &str) -> Result<Target, ConsoleError> {
    let unknown = || ConsoleError::UnknownUser(name.to_owned());
    let key = throttle::key(name).ok_or_else(unknown)?;
    sqlx::query_as(
        "SELECT id, user_name, business_id FROM users WHERE lower(user_name) = $1 AND deleted_at IS NULL",
    )
    .bind(&key)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(unknown)
}

async fn clear_throttle(conn: &mut sqlx::AnyConnection, user_name: &str) -> Result<u64, sqlx::Error> {
    throttle::clear(conn, &throttle::key(user_name).unwrap_or_default()).await
}

/// A generated password, its sessions and personal tokens ended, its throttle cleared (the
/// point is to sign in now).
async fn reset_password(db: &Db, name: &str) -> Result<String, ConsoleError> {
    let password = random_password();
    let parsed = Password::parse(&password).map_err(|e| ConsoleError::Database(e.to_string()))?;
    let hash = Passwords::hash_once(&parsed).await?;
    let now = now();
    let mut tx = db.begin_write().await?;
    let (id, user_name, business_id) = find(&mut tx, name).await?;
    rows::set_password(&mut tx, id, &hash, Ending::Everything, now).await?;
    clear_throttle(&mut tx, &user_name).await?;
    let detail = "password set at the console; earlier tokens ended";
    let entry = Entry::user(Actor::CONSOLE, "user.password_reset", id, business_id, detail);
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(format!(
        "password of '{user_name}' reset; its sessions and tokens ended. New password (shown only this once): {password}"
    ))
}

async fn unlock(db: &Db, name: &str) -> Result<String, ConsoleError> {
    let now = now();
    let mut tx = db.begin_write().await?;
    let (id, user_name, business_id) = find(&mut tx, name).await?;
    let cleared = clear_throttle(&mut tx, &user_name).await?;
    let detail = format!("{user_name}: login throttle cleared at the console ({cleared} failed attempt(s))");
    let entry = Entry::user(Actor::CONSOLE, "user.unlock", id, business_id, detail);
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(format!(
        "'{user_name}' unlocked: {cleared} failed login attempt(s) cleared"
    ))
}

async fn disable_totp(db: &Db, name: &str) -> Result<String, ConsoleError> {
    let now = now();
    let mut tx = db.begin_write().await?;
    let (id, user_name, business_id) = find(&mut tx, name).await?;
    if !second_factor::reset(&mut tx, id).await? {
        return Err(ConsoleError::NoTotp(user_name));
    }
    let detail = format!("{user_name}: two-factor sign-in turned off at the console; sessions ended");
    let entry = Entry::user(Actor::CONSOLE, "user.totp_reset", id, business_id, detail);
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(format!(
        "two-factor sign-in of '{user_name}' turned off; its sessions ended"
    ))
}

/// `VACUUM INTO`: SQLite writes a copy of one read transaction's snapshot, so writers go
/// on meanwhile and the copy holds every write committed before it began. The copy is
/// flushed to disk before the command says it is done.
async fn backup(db: &Db, file: &Path) -> Result<String, ConsoleError> {
    if db.dialect == Dialect::Postgres {
        return Err(ConsoleError::Backup(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump (for instance \
             `pg_dump --format=custom --file=ote.dump \"$DATABASE_URL\"`)"
                .into(),
        ));
    }
    // Made here, exclusively and owner-only: never over an existing file, never through
    // a link (a dangling one included), never readable by others (it holds every secret
    // of the database). `VACUUM INTO` then fills the empty file it finds.
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(file);
    if let Err(err) = created {
        return Err(ConsoleError::Backup(
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} exists already (a file or a link); name a new file",
                    file.display()
                )
            } else {
                format!("cannot create {}: {err}", file.display())
            },
        ));
    }
    let target = file
        .to_str()
        .ok_or_else(|| ConsoleError::Backup(format!("{} is not a UTF-8 path", file.display())))?;
    let written = sqlx::query("VACUUM INTO $1").bind(target).execute(&db.pool).await;
    if let Err(err) = written {
        let _ = std::fs::remove_file(file);
        return Err(ConsoleError::Backup(format!("cannot write {target}: {err}")));
    }
    let written = std::fs::File::open(file)
        .and_then(|copy| {
            copy.sync_all()?;
            copy.metadata()
        })
        .map_err(|err| ConsoleError::Backup(format!("cannot flush {target}: {err}")))?;
    Ok(format!("backup written to {target} ({} bytes)", written.len()))
}

/// A new signing key for the identity provider; the old one is still published until the
/// tokens it signed have expired (`auth::keys`).
async fn rotate_keys(db: &Db) -> Result<String, ConsoleError> {
    let now = now();
    let mut tx = db.begin_write().await?;
    let kid = crate::auth::keys::rotate(&mut tx, now).await?;
    let entry = Entry::oauth_keys(
        Actor::CONSOLE,
        "oauth.keys.rotate",
        format!("new signing key {kid}"),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(format!(
        "a new signing key {kid} signs from now on; the previous one is published until its tokens expire"
    ))
}
