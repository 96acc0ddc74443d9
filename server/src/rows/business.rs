//! Businesses as stored and as the API shows them: the row, its columns, one business
//! read for an event's payload (`shown`) or locked for a change (`find`).

use crate::db::{Db, RowLock};
use crate::error::{ApiError, ApiResult};
use app::model::{Business, BusinessStatus};
use sqlx::{AnyConnection, AssertSqlSafe};

#[derive(sqlx::FromRow)]
pub struct BusinessRow {
    pub id: i64,
    pub name: String,
    pub user_id: i64,
    pub owner_name: String,
    pub comment: String,
    pub status: i64,
    pub introduce: String,
    pub objective: String,
    pub scale: String,
    pub create_time: i64,
    pub update_time: i64,
}

impl BusinessRow {
    pub fn into_model(self) -> ApiResult<Business> {
        Ok(Business {
            status: BusinessStatus::from_code(self.status)
                .ok_or_else(|| ApiError::internal("bad business status"))?,
            id: self.id,
            name: self.name,
            user_id: self.user_id,
            owner_name: self.owner_name,
            comment: self.comment,
            introduce: self.introduce,
            objective: self.objective,
            scale: self.scale,
            create_time: self.create_time,
            update_time: self.update_time,
        })
    }
}

// The owner's name by a subquery rather than a join, so that `FOR UPDATE` (`find_business`)
// locks the business alone. A deleted owner keeps its name here, as in the audit log.
pub const COLUMNS: &str = "b.id, b.name, b.user_id, \
     COALESCE((SELECT o.user_name FROM users o WHERE o.id = b.user_id), '') AS owner_name, \
     b.comment, b.status, b.introduce, b.objective, b.scale, b.create_time, b.update_time";

/// Business `id` as the API shows it, read in `conn` (an event's payload).
pub async fn shown(conn: &mut AnyConnection, id: i64) -> ApiResult<Option<Business>> {
    let row: Option<BusinessRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM businesses b WHERE b.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(BusinessRow::into_model).transpose()
}

/// The business `id`, locked until the transaction ends; 404 if there is none, 409 if it
/// is deleted (nothing brings a business back).
pub async fn find(db: &Db, conn: &mut AnyConnection, id: i64) -> ApiResult<BusinessRow> {
    let sql = format!(
        "SELECT {COLUMNS} FROM businesses b WHERE b.id = $1{}",
        db.lock(RowLock::Update)
    );
    let row: Option<BusinessRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("id: no business {id}")))?;
    if row.status == BusinessStatus::Deleted as i64 {
        return Err(ApiError::Conflict(format!("id: business {id} is deleted")));
    }
    Ok(row)
}
