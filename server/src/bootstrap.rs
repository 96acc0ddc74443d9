//! What must exist before the first request, made safely by any number of replicas
//! starting at once: the JWT secret and the first system administrator.

use crate::auth::password::{Passwords, random_password};
use crate::config::{Config, JwtSecret};
use crate::db::Db;
use crate::error::ApiError;
use app::model::UserStatus;
use app::rules::Password;

/// The configured secret, or the one kept in the database (made by whichever replica
/// got there first: `ON CONFLICT DO NOTHING`, then read back).
pub async fn jwt_secret(db: &Db, configured: Option<&JwtSecret>) -> Result<JwtSecret, sqlx::Error> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let candidate = format!("{:032x}{:032x}", rand::random::<u128>(), rand::random::<u128>());
    sqlx::query("INSERT INTO settings (key, value) VALUES ('jwt_secret', $1) ON CONFLICT (key) DO NOTHING")
        .bind(&candidate)
        .execute(&db.pool)
        .await?;
    let kept: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'jwt_secret'")
        .fetch_one(&db.pool)
        .await?;
    Ok(JwtSecret::from_bytes(kept.into_bytes()))
}

/// What `first_admin` did.
pub enum FirstAdmin {
    AlreadyThere,
    Created {
        name: String,
        generated_password: Option<String>,
    },
}

/// Creates the system administrator unless one exists. A unique index allows only one,
/// so of replicas racing here exactly one inserts.
pub async fn first_admin(db: &Db, config: &Config) -> Result<FirstAdmin, ApiError> {
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_system_admin = 1")
        .fetch_one(&db.pool)
        .await?;
    if existing > 0 {
        return Ok(FirstAdmin::AlreadyThere);
    }
    let (password, generated) = match &config.admin_password {
        Some(password) => (password.clone(), None),
        None => {
            let raw = random_password();
            (Password::parse(&raw).map_err(ApiError::internal)?, Some(raw))
        }
    };
    let hash = Passwords::hash_once(&password).await?;
    let now = crate::clock::now();
    let inserted = sqlx::query(
        "INSERT INTO users (user_name, password_hash, phone, real_name, is_admin, is_system_admin, status, create_time, update_time) \
         VALUES ($1, $2, '', 'System administrator', 1, 1, $3, $4, $4) ON CONFLICT DO NOTHING",
    )
    .bind(config.admin_user.as_str())
    .bind(&hash)
    .bind(UserStatus::Approved as i64)
    .bind(now)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(FirstAdmin::AlreadyThere);
    }
    Ok(FirstAdmin::Created {
        name: config.admin_user.to_string(),
        generated_password: generated,
    })
}
