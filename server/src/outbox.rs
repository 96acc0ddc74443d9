//! The transactional outbox of webhooks (SPEC.md section 10): every audited change writes
//! its event, and a delivery for each enabled endpoint that wants it, in the change's own
//! transaction (`audit::record` calls `publish`); the payload shows the user or business
//! as the API does (`rows`). A crash at any moment leaves either the change with its event, or
//! neither.

use crate::error::ApiError;
use crate::rows::{business, user};
use app::model::AuditEntry;
use serde_json::json;
use sqlx::AnyConnection;

/// The advisory lock PostgreSQL writers of events hold until they commit, so that event
/// ids are handed out in commit order (SQLite's writers run one at a time anyway).
const OUTBOX_LOCK: i64 = 0x6f75_7462_6f78; // "outbox"

/// `give_up_ms` of a delivery not yet attempted.
pub const NOT_STARTED: i64 = i64::MAX;

/// Takes the outbox's lock until the transaction ends (PostgreSQL; SQLite's writers run
/// one at a time anyway). `publish` takes it; a transaction that also locks an endpoint's
/// row must take it first (`webhooks::api`): a writer holding it inserts deliveries that
/// reference endpoints, so locking an endpoint and then waiting for it would deadlock.
pub async fn lock(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
            .bind(OUTBOX_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn publish(conn: &mut AnyConnection, entry: &AuditEntry, now: i64) -> Result<(), ApiError> {
    lock(conn).await?;
    let mut data = json!({ "auditEntry": entry });
    match entry.target_type.as_str() {
        "user" => data["user"] = json!(user::shown(conn, entry.target_id).await?),
        "business" => data["business"] = json!(business::shown(conn, entry.target_id).await?),
        _ => {}
    }
    let payload =
        json!({ "type": entry.action, "timestamp": crate::clock::rfc3339(now), "data": data }).to_string();
    let event_id: i64 = sqlx::query_scalar(
        "INSERT INTO events (type, payload, create_time) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&entry.action)
    .bind(&payload)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let endpoints: Vec<(i64, String)> = sqlx::query_as("SELECT id, events FROM webhooks WHERE enabled = 1")
        .fetch_all(&mut *conn)
        .await?;
    let now_ms = now * 1000;
    for (webhook_id, patterns) in endpoints {
        if !wants(&patterns, &entry.action) {
            continue;
        }
        sqlx::query(
            "INSERT INTO deliveries (webhook_id, event_id, next_attempt_ms, give_up_ms, create_time) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(webhook_id)
        .bind(event_id)
        .bind(now_ms)
        // Set at the first attempt: retries stop that long after it.
        .bind(NOT_STARTED)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// How long delivered and failed deliveries stay in the log.
pub const KEEP_SECONDS: i64 = 30 * 24 * 60 * 60;

/// Settled deliveries older than `KEEP_SECONDS`, and events no delivery needs any more
/// (the housekeeping task). Returns how many rows went.
pub async fn purge(db: &crate::db::Db, now: i64) -> Result<u64, sqlx::Error> {
    let deliveries = sqlx::query("DELETE FROM deliveries WHERE status <> 'pending' AND create_time < $1")
        .bind(now - KEEP_SECONDS)
        .execute(&db.pool)
        .await?
        .rows_affected();
    let events = sqlx::query(
        "DELETE FROM events WHERE create_time < $1 \
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)",
    )
    .bind(now - KEEP_SECONDS)
    .execute(&db.pool)
    .await?
    .rows_affected();
    Ok(deliveries + events)
}

/// Whether an endpoint's patterns (a JSON array as stored) take events of `action`.
pub fn wants(patterns: &str, action: &str) -> bool {
    let patterns: Vec<String> = serde_json::from_str(patterns).unwrap_or_default();
    patterns.iter().any(|pattern| match pattern.strip_suffix(".*") {
        _ if pattern == "*" => true,
        Some(prefix) => action.split_once('.').is_some_and(|(kind, _)| kind == prefix),
        None => pattern == action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_take_everything_an_action_or_a_kind() {
        assert!(wants(r#"["*"]"#, "user.audit"));
        assert!(wants(r#"["business.*"]"#, "business.audit"));
        assert!(!wants(r#"["business.*"]"#, "user.audit"));
        assert!(wants(r#"["token.create", "user.delete"]"#, "user.delete"));
        assert!(!wants(r#"["user.delete"]"#, "user.deleted"));
        assert!(!wants("not json", "user.delete"));
    }
}
