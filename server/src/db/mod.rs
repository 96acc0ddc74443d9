//! The database: one `Any` pool for SQLite and PostgreSQL alike. What differs between the
//! two dialects lives here (and in `listen`, PostgreSQL's notifications of other replicas'
//! writes) and in the two migration folders, nowhere else.

pub mod listen;

use crate::config::{DatabaseUrl, Dialect};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
    url: DatabaseUrl,
    /// How many write transactions have ended that this process knows of: its own, and
    /// with PostgreSQL every other replica's (`listen`). What a reader saw before this
    /// number moved may be stale (see `auth::caller`'s cache).
    writes: Arc<AtomicU64>,
    /// Whether every write is heard of: always with SQLite (this process is the only
    /// writer that serves), with PostgreSQL while `listen` is connected.
    hearing: Arc<AtomicBool>,
    /// Woken after each committed write, so the webhook worker sends at once what was
    /// just written to the outbox.
    committed: Arc<tokio::sync::Notify>,
}

/// A write transaction (from `Db::begin_write`). It derefs to the connection, so queries
/// run on `&mut *tx`. When it ends, committed, rolled back or dropped, `Db::writes` moves on.
pub struct Write {
    tx: Transaction<'static, Any>,
    _ended: WriteEnded,
    committed: Arc<tokio::sync::Notify>,
    dialect: Dialect,
}

struct WriteEnded(Arc<AtomicU64>);

impl Drop for WriteEnded {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

impl Write {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Write {
            mut tx,
            _ended,
            committed,
            dialect,
        } = self;
        if dialect == Dialect::Postgres {
            // Sent by PostgreSQL at the commit, and only if it commits.
            sqlx::query(listen::NOTIFY).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        committed.notify_one();
        Ok(())
        // `_ended` drops here, after the commit.
    }
}

impl Deref for Write {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// How `Db::lock` locks rows (PostgreSQL's row locks):
/// - `Share` keeps them as read;
/// - `Update` also lets this transaction change them, but not their keys: rows naming
///   them may still be written meanwhile (a foreign key's check takes `Key`), so an
///   administrator changing a user never waits in a circle with that user's sign-in
///   writing a row that names them (users and businesses are never deleted);
/// - `Delete` lets this transaction also delete them, so it keeps out rows that would
///   name them until it ends (an application, a webhook endpoint);
/// - `Key` only keeps them from being deleted (a foreign key's own lock, taken first: see
///   `oidc::clients::Registered::hold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    Share,
    Update,
    Delete,
    Key,
}

/// The unique indexes (see the migrations), as PostgreSQL names them (the index) and as
/// SQLite does (the index for an expression, else the column), and the 409 each means.
const UNIQUE_INDEXES: &[(&[&str], &str)] = &[
    (&["users_name_key"], "user: is already taken"),
    (
        &["users_phone_key", "users.phone"],
        "phone: is already registered",
    ),
    (
        &["businesses_name_key", "businesses.name"],
        "name: is already taken by a pending or approved business",
    ),
    (
        &["businesses_owner_key", "businesses.user_id"],
        "user: already has a pending or approved business",
    ),
];

/// The 409 message for a unique-constraint violation, if `err` is one.
pub fn conflict_message(err: &sqlx::Error) -> Option<&'static str> {
    let sqlx::Error::Database(db_err) = err else {
        return None;
    };
    if !db_err.is_unique_violation() {
        return None;
    }
    // PostgreSQL names the index in `constraint()`; SQLite only in the message text.
    let text = db_err
        .constraint()
        .map(str::to_owned)
        .unwrap_or_else(|| db_err.message().to_owned());
    let message = UNIQUE_INDEXES
        .iter()
        .find(|(names, _)| names.iter().any(|name| text.contains(name)))
        .map(|(_, message)| *message);
    Some(message.unwrap_or("a value that must be unique is already taken"))
}

/// Whether `err` is PostgreSQL ending a transaction to break a deadlock (`40P01`) or a
/// serialization failure (`40001`): nothing is written, and the same request may succeed
/// when sent again. (Two admins of one business acting on each other at the same moment
/// lock their own rows first, then each other's.)
pub fn is_collision(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db_err) = err else {
        return false;
    };
    matches!(db_err.code().as_deref(), Some("40P01" | "40001"))
}

/// `%`, `_` and `\` match themselves in a `LIKE ... ESCAPE '\'` pattern after this.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Db {
    /// Opens the pool (creating an SQLite file and its folder if missing) and checks that
    /// the database answers.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let dialect = url.dialect().map_err(|e| sqlx::Error::Configuration(e.into()))?;
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
        let mut address = url.expose().to_owned();
        if dialect == Dialect::Sqlite {
            prepare_sqlite_file(&address)?;
            if !address.contains("mode=") {
                address.push_str(if address.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
            // WAL lets readers run beside the one writer; FULL keeps every acknowledged
            // write across a power loss; writers wait for each other instead of failing.
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    ))
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&address).await?;
        Ok(Self {
            pool,
            dialect,
            url: url.clone(),
            writes: Arc::default(),
            hearing: Arc::new(AtomicBool::new(dialect == Dialect::Sqlite)),
            committed: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.dialect {
            Dialect::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&self.pool).await,
            Dialect::Postgres => sqlx::migrate!("../migrations/postgres").run(&self.pool).await,
        }
    }

    /// A transaction that will write. SQLite must take the write lock at `BEGIN`: a
    /// deferred transaction that reads first fails, instead of waiting, when another
    /// writer commits in between.
    pub async fn begin_write(&self) -> Result<Write, sqlx::Error> {
        let tx = self.begin_side_write().await?;
        Ok(Write {
            tx,
            _ended: WriteEnded(self.writes.clone()),
            committed: self.committed.clone(),
            dialect: self.dialect,
        })
    }

    /// A write transaction of rows no caller is made of (the login throttle's): unlike
    /// `begin_write` it leaves the caller cache alone, so a login flood does not empty it.
    pub async fn begin_side_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// Holds a lock named `name` until the transaction ends, so transactions about one
    /// name run one after the other. SQLite's `BEGIN IMMEDIATE` already runs every writer
    /// one after the other; PostgreSQL takes an advisory lock.
    pub async fn lock_name(&self, conn: &mut AnyConnection, name: &str) -> Result<(), sqlx::Error> {
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext($1))) AS locked")
                .bind(name)
                .execute(conn)
                .await?;
        }
        Ok(())
    }

    /// What ends a `SELECT` that must lock the rows it reads until the transaction ends
    /// (on PostgreSQL; SQLite's write transactions already exclude each other). Rows are
    /// always locked business first, then users, so that transactions never wait on each
    /// other in a circle.
    pub fn lock(&self, lock: RowLock) -> &'static str {
        match (self.dialect, lock) {
            (Dialect::Sqlite, _) => "",
            (Dialect::Postgres, RowLock::Share) => " FOR SHARE",
            (Dialect::Postgres, RowLock::Update) => " FOR NO KEY UPDATE",
            (Dialect::Postgres, RowLock::Delete) => " FOR UPDATE",
            (Dialect::Postgres, RowLock::Key) => " FOR KEY SHARE",
        }
    }

    /// Completes after the next write transaction of this process commits.
    pub async fn next_commit(&self) {
        self.committed.notified().await;
    }

    /// How many write transactions have ended so far that this process knows of, or
    /// `None` while it cannot know of them all (PostgreSQL, `listen` not connected): then
    /// nothing read may be kept.
    pub fn writes(&self) -> Option<u64> {
        let writes = self.writes.load(Ordering::Acquire);
        self.hearing.load(Ordering::Acquire).then_some(writes)
    }

    /// Another replica's write was heard of (or may have been missed): what was read
    /// before is stale; other replicas' outbox events may be due.
    fn heard_write(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        self.committed.notify_one();
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }
}

/// The file of an `sqlite://PATH?options` URL.
pub fn sqlite_path(url: &str) -> &str {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    path.split('?').next().unwrap_or_default()
}

/// `sqlite://data/ote.db` → make sure `data/` exists, so a first start just works, and
/// that the database is its owner's alone: the folder a new one is made in is 0700, the
/// file 0600 (made before SQLite opens it: its WAL and shared-memory files take the
/// database file's mode), and an older, more open database is narrowed to 0600. The
/// database holds every secret the portal keeps (SPEC.md section 13).
fn prepare_sqlite_file(url: &str) -> Result<(), sqlx::Error> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let path = sqlite_path(url);
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(err.into()),
    }
    for file in [path.to_owned(), suffixed(path, "-wal"), suffixed(path, "-shm")] {
        if let Ok(meta) = std::fs::symlink_metadata(&file)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            tracing::warn!(file = %file.display(), "the database file was readable by others; it is the owner's alone now (0600)");
        }
    }
    Ok(())
}

fn suffixed(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}
