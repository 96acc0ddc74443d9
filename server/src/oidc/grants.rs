//! What the provider keeps of a sign-in into an application: consents, codes (good once),
//! grants (one per code exchange, named by every access and refresh token it gives) and
//! refresh tokens (rotated at each use). The single use of codes and refresh tokens is one
//! `UPDATE ... WHERE used = 0` in a write transaction: of two simultaneous uses, on one
//! SQLite file or across PostgreSQL replicas, exactly one changes the row.

use super::claims::Scope;
use crate::auth::secret;
use crate::error::ApiResult;
use sqlx::AnyConnection;

/// A grant: one sign-in of a user into an application.
#[derive(sqlx::FromRow, Clone)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: i64,
    pub session_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub amr: String,
}

impl Grant {
    pub async fn find(conn: &mut AnyConnection, id: &str) -> ApiResult<Option<Self>> {
        Ok(sqlx::query_as(
            "SELECT g.id, g.client_id, g.user_id, g.session_id, g.scope, g.auth_time, g.amr \
             FROM oauth_grants g JOIN oauth_clients c ON c.client_id = g.client_id \
             WHERE g.id = $1 AND c.enabled = 1",
        )
        .bind(id)
        .fetch_optional(conn)
        .await?)
    }

    pub async fn insert(&self, conn: &mut AnyConnection, now: i64) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO oauth_grants (id, client_id, user_id, session_id, scope, auth_time, amr, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&self.id)
        .bind(&self.client_id)
        .bind(self.user_id)
        .bind(&self.session_id)
        .bind(&self.scope)
        .bind(self.auth_time)
        .bind(&self.amr)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Ends one grant: every access and refresh token it gave (a replayed code, a reused
/// refresh token, a revocation).
pub async fn end(conn: &mut AnyConnection, grant_id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM oauth_refresh_tokens WHERE grant_id = $1")
        .bind(grant_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM oauth_grants WHERE id = $1")
        .bind(grant_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A code as stored, with the grant its exchange will make.
#[derive(sqlx::FromRow)]
pub struct Code {
    pub grant_id: String,
    pub client_id: String,
    pub user_id: i64,
    pub session_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub expire_time: i64,
}

impl Code {
    /// Stores a new code and returns it (only its digest is kept).
    pub async fn issue(&self, conn: &mut AnyConnection) -> ApiResult<String> {
        let code = secret::random_hex(32);
        sqlx::query(
            "INSERT INTO oauth_codes (digest, grant_id, client_id, user_id, session_id, redirect_uri, scope, nonce, \
             code_challenge, auth_time, amr, expire_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(secret::digest(&code))
        .bind(&self.grant_id)
        .bind(&self.client_id)
        .bind(self.user_id)
        .bind(&self.session_id)
        .bind(&self.redirect_uri)
        .bind(&self.scope)
        .bind(&self.nonce)
        .bind(&self.code_challenge)
        .bind(self.auth_time)
        .bind(&self.amr)
        .bind(self.expire_time)
        .execute(conn)
        .await?;
        Ok(code)
    }

    pub fn grant(&self) -> Grant {
        Grant {
            id: self.grant_id.clone(),
            client_id: self.client_id.clone(),
            user_id: self.user_id,
            session_id: self.session_id.clone(),
            scope: self.scope.clone(),
            auth_time: self.auth_time,
            amr: self.amr.clone(),
        }
    }
}

/// What presenting a code found.
pub enum Taken {
    /// Its first use: the code is used from now on.
    First(Code),
    /// It was used before: what the first use gave must end.
    Again { grant_id: String },
    /// No such code, or another application's (which leaves it alone).
    Unknown,
}

/// Takes code `code` for application `client_id`, in the caller's write transaction.
pub async fn take_code(conn: &mut AnyConnection, code: &str, client_id: &str) -> ApiResult<Taken> {
    let digest = secret::digest(code);
    let row: Option<Code> = sqlx::query_as(
        "SELECT grant_id, client_id, user_id, session_id, redirect_uri, scope, nonce, code_challenge, \
         auth_time, amr, expire_time FROM oauth_codes WHERE digest = $1",
    )
    .bind(&digest)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row.filter(|row| row.client_id == client_id) else {
        return Ok(Taken::Unknown);
    };
    let taken = sqlx::query("UPDATE oauth_codes SET used = 1 WHERE digest = $1 AND used = 0")
        .bind(&digest)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(if taken == 1 {
        Taken::First(row)
    } else {
        Taken::Again {
            grant_id: row.grant_id,
        }
    })
}

/// Stores a new refresh token of grant `grant_id` and returns it.
pub async fn issue_refresh(conn: &mut AnyConnection, grant_id: &str, expire_time: i64) -> ApiResult<String> {
    let token = secret::random_hex(32);
    sqlx::query("INSERT INTO oauth_refresh_tokens (digest, grant_id, expire_time) VALUES ($1, $2, $3)")
        .bind(secret::digest(&token))
        .bind(grant_id)
        .bind(expire_time)
        .execute(conn)
        .await?;
    Ok(token)
}

/// What presenting a refresh token found.
pub enum Rotated {
    /// Its first use: it is used from now on; its grant, still alive.
    First(Grant),
    /// It was used before: its grant must end.
    Again { grant_id: String },
    /// No such token, expired, of an ended grant or of another application.
    Unknown,
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    grant_id: String,
    expire_time: i64,
}

/// Takes refresh token `token` for application `client_id`, in the caller's write
/// transaction.
pub async fn take_refresh(
    conn: &mut AnyConnection,
    token: &str,
    client_id: &str,
    now: i64,
) -> ApiResult<Rotated> {
    let digest = secret::digest(token);
    let row: Option<RefreshRow> =
        sqlx::query_as("SELECT grant_id, expire_time FROM oauth_refresh_tokens WHERE digest = $1")
            .bind(&digest)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row.filter(|row| row.expire_time > now) else {
        return Ok(Rotated::Unknown);
    };
    let Some(grant) = Grant::find(conn, &row.grant_id)
        .await?
        .filter(|grant| grant.client_id == client_id)
    else {
        return Ok(Rotated::Unknown);
    };
    let taken = sqlx::query("UPDATE oauth_refresh_tokens SET used = 1 WHERE digest = $1 AND used = 0")
        .bind(&digest)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(if taken == 1 {
        Rotated::First(grant)
    } else {
        Rotated::Again {
            grant_id: row.grant_id,
        }
    })
}

/// The grant a refresh token belongs to, whatever its state (revocation).
pub async fn grant_of_refresh(conn: &mut AnyConnection, token: &str) -> ApiResult<Option<Grant>> {
    let grant_id: Option<String> =
        sqlx::query_scalar("SELECT grant_id FROM oauth_refresh_tokens WHERE digest = $1")
            .bind(secret::digest(token))
            .fetch_optional(&mut *conn)
            .await?;
    match grant_id {
        Some(id) => Grant::find(conn, &id).await,
        None => Ok(None),
    }
}

/// The scopes user `user_id` allowed application `client_id`, if it did.
pub async fn consent(conn: &mut AnyConnection, user_id: i64, client_id: &str) -> ApiResult<Option<Scope>> {
    let scope: Option<String> =
        sqlx::query_scalar("SELECT scope FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(conn)
            .await?;
    Ok(scope.as_deref().map(Scope::parse))
}

/// Remembers that the user allowed `scope` (replacing what it allowed before).
pub async fn remember_consent(
    conn: &mut AnyConnection,
    user_id: i64,
    client_id: &str,
    scope: &Scope,
    now: i64,
) -> ApiResult<()> {
    // One statement: a delete and an insert let two approvals at once (two tabs, on
    // PostgreSQL) both insert, and the second failed on the key (409).
    sqlx::query(
        "INSERT INTO oauth_consents (user_id, client_id, scope, create_time) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, create_time = excluded.create_time",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(scope.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
