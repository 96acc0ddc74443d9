//! `/v1/user/applications`: the applications the caller allowed to sign it in, each
//! revocable (SPEC.md section 12; the Security page lists them).

use super::clients::{ClientId, Registered};
use crate::audit::{self, Entry};
use crate::auth::Caller;
use crate::auth::session::{self, Grants};
use crate::clock::now;
use crate::error::ApiError;
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use app::model::{AllowedApplication, Envelope};
use axum::extract::State;

#[derive(sqlx::FromRow)]
struct Row {
    client_id: String,
    name: String,
    scope: String,
    create_time: i64,
}

/// The applications the caller allowed, most recent first.
#[utoipa::path(get, path = "/v1/user/applications", tag = "oauth", operation_id = "applications_list", security(("token" = [])),
    responses(
        (status = 200, description = "The allowed applications", body = Envelope<Vec<AllowedApplication>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "A personal token", body = Message),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Reply<Vec<AllowedApplication>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.client_id, c.name, k.scope, k.create_time FROM oauth_consents k \
         JOIN oauth_clients c ON c.client_id = k.client_id WHERE k.user_id = $1 \
         ORDER BY k.create_time DESC, c.client_id",
    )
    .bind(caller.id)
    .fetch_all(&state.db.pool)
    .await?;
    let list = rows
        .into_iter()
        .map(|row| AllowedApplication {
            client_id: row.client_id,
            name: row.name,
            scopes: row.scope.split(' ').map(str::to_owned).collect(),
            create_time: row.create_time,
        })
        .collect();
    ok(Envelope::data(list))
}

/// Forget the consent and end every token the application has of the caller.
#[utoipa::path(delete, path = "/v1/user/applications/{clientId}", tag = "oauth", operation_id = "applications_revoke", security(("token" = [])),
    params(("clientId" = String, Path, pattern = "^[0-9a-f]{24}$", description = "The application's client id")),
    responses(
        (status = 200, description = "Revoked", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "A personal token", body = Message),
        (status = 404, description = "The caller has not allowed that application", body = Message),
        (status = 422, description = "Malformed client id", body = Message),
    ))]
pub async fn revoke(State(state): State<AppState>, caller: Caller, ClientId(client_id): ClientId) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    let allowed: Option<String> =
        sqlx::query_scalar("SELECT scope FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
            .bind(caller.id)
            .bind(&client_id)
            .fetch_optional(&mut *tx)
            .await?;
    let not_allowed = || {
        ApiError::NotFound(format!(
            "clientId: {client_id} is not among your allowed applications"
        ))
    };
    allowed.ok_or_else(not_allowed)?;
    let client = Registered::find(&mut tx, &client_id)
        .await?
        .ok_or_else(not_allowed)?;
    session::end_grants(&mut tx, Grants::OfUserAndClient(caller.id, &client_id)).await?;
    let detail = format!("{} revoked {} ({client_id})", caller.name, client.name);
    audit::record(
        &mut tx,
        Entry::oauth_consent(&caller, "oauth.consent.revoke", client.id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::success())
}
