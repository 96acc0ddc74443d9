//! The audit writer: every state change writes an entry, and its event into the outbox,
//! in the change's own transaction (`record`). Entries are made by their constructors,
//! which say what kind of thing changed and which business's admins may see it; the
//! search and the CSV export are `api::audit`.

use crate::auth::Caller;
use crate::error::ApiError;
use app::model::AuditEntry;
use sqlx::AnyConnection;

/// Who did it: a user id and name (the name is kept, the user may be deleted later), or
/// no id and the name `cli` for the console commands (`Actor::CONSOLE`).
pub struct Actor<'a> {
    pub id: Option<i64>,
    pub name: &'a str,
}

impl Actor<'static> {
    /// The person at the server's console (`ote-portal admin ...`).
    pub const CONSOLE: Self = Self {
        id: None,
        name: "cli",
    };
}

impl<'a> From<&'a Caller> for Actor<'a> {
    fn from(caller: &'a Caller) -> Self {
        Self {
            id: Some(caller.id),
            name: &caller.name,
        }
    }
}

/// One entry to write; `business_id` lets that business's admins see it.
pub struct Entry<'a> {
    action: &'static str,
    target_type: &'static str,
    target_id: i64,
    detail: String,
    business_id: Option<i64>,
    actor: Actor<'a>,
}

impl<'a> Entry<'a> {
    fn new(
        actor: Actor<'a>,
        action: &'static str,
        target: (&'static str, i64),
        business_id: Option<i64>,
        detail: String,
    ) -> Self {
        let (target_type, target_id) = target;
        Self {
            action,
            target_type,
            target_id,
            detail,
            business_id,
            actor,
        }
    }

    /// A change to user `id`, seen by the admins of the user's business.
    pub fn user(
        actor: impl Into<Actor<'a>>,
        action: &'static str,
        id: i64,
        business_id: Option<i64>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(actor.into(), action, ("user", id), business_id, detail.into())
    }

    /// A change the caller made to its own account.
    pub fn own(caller: &'a Caller, action: &'static str, detail: impl Into<String>) -> Self {
        Self::user(caller, action, caller.id, caller.business_id, detail)
    }

    /// A change to business `id`, seen by its admins.
    pub fn business(
        actor: impl Into<Actor<'a>>,
        action: &'static str,
        id: i64,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(actor.into(), action, ("business", id), Some(id), detail.into())
    }

    /// A change to one of the caller's own personal tokens, `id`.
    pub fn token(caller: &'a Caller, action: &'static str, id: i64, detail: impl Into<String>) -> Self {
        Self::new(
            caller.into(),
            action,
            ("token", id),
            caller.business_id,
            detail.into(),
        )
    }

    /// A change to webhook endpoint `id`: the system administrator's alone.
    pub fn webhook(
        actor: impl Into<Actor<'a>>,
        action: &'static str,
        id: i64,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(actor.into(), action, ("webhook", id), None, detail.into())
    }
}

impl<'a> Entry<'a> {
    /// A change to the identity provider's application `id` (the `clientId` goes in the
    /// detail): the system administrator's alone.
    pub fn oauth_client(
        actor: impl Into<Actor<'a>>,
        action: &'static str,
        id: i64,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(actor.into(), action, ("oauth_client", id), None, detail.into())
    }

    /// What the caller allowed application `id`, seen by the admins of its business too.
    pub fn oauth_consent(
        caller: &'a Caller,
        action: &'static str,
        id: i64,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(
            caller.into(),
            action,
            ("oauth_client", id),
            caller.business_id,
            detail.into(),
        )
    }

    /// The identity provider's signing keys, which have no id of their own.
    pub fn oauth_keys(actor: impl Into<Actor<'a>>, action: &'static str, detail: impl Into<String>) -> Self {
        Self::new(actor.into(), action, ("oauth_key", 0), None, detail.into())
    }
}

/// Writes the entry, and its event into the outbox (SPEC.md section 10), in the caller's
/// transaction: the change, its entry and its event commit together or not at all.
pub async fn record(tx: &mut AnyConnection, entry: Entry<'_>, now: i64) -> Result<(), ApiError> {
    // The outbox's lock before the entry: the entry's insert locks its tally rows
    // (`audit_tally`), and a writer holding the outbox's lock (`webhooks::api` takes it
    // first) may insert an entry with the same tallies; taken after, the two waited for
    // each other (a PostgreSQL deadlock, 503, that the fuzzer met revoking an application).
    crate::outbox::lock(tx).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, detail, business_id, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(entry.actor.id)
    .bind(entry.actor.name)
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id)
    .bind(&entry.detail)
    .bind(entry.business_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let shown = AuditEntry {
        id,
        actor_id: entry.actor.id,
        actor: entry.actor.name.to_owned(),
        action: entry.action.to_owned(),
        target_type: entry.target_type.to_owned(),
        target_id: entry.target_id,
        detail: entry.detail,
        create_time: now,
    };
    crate::outbox::publish(tx, &shown, now).await
}
