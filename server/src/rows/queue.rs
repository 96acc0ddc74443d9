//! The system administrator's queue as it stands: what the queue endpoint shows and the
//! metrics report (`ote_pending`).

use crate::db::Db;
use app::model::Queue;

/// The queue as it stands: also what the metrics report (`ote_pending`).
pub async fn current(db: &Db) -> Result<Queue, sqlx::Error> {
    // `users_by_status` serves the first; pending businesses are few.
    let (pending_users, oldest_user_time): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(create_time) FROM users \
         WHERE status = 0 AND deleted_at IS NULL AND is_system_admin = 0",
    )
    .fetch_one(&db.pool)
    .await?;
    let (pending_businesses, oldest_business_time): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(create_time) FROM businesses WHERE status = 0")
            .fetch_one(&db.pool)
            .await?;
    Ok(Queue {
        pending_users,
        pending_businesses,
        oldest_user_time,
        oldest_business_time,
    })
}
