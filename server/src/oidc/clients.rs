//! `/v1/admin/oauth/clients`: the applications that may sign people in through the portal,
//! managed by the system administrator and audited (`oauth.client.*`, so webhooks hear of
//! them); and how the token endpoints recognise one (`Registered`).

use crate::audit::{self, Entry};
use crate::auth::session::{self, Grants};
use crate::auth::{SystemAdmin, secret};
use crate::clock::now;
use crate::db::{Db, RowLock};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use app::model::{Client, ClientChange, CreatedClient, Envelope, NewClient};
use app::rules::RedirectUri;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use sqlx::AnyConnection;

/// A `{clientId}` of a path: 24 lowercase hexadecimal digits.
pub struct ClientId(pub String);

impl ClientId {
    pub const RULE: &'static str = "must be 24 hexadecimal digits";

    pub fn valid(raw: &str) -> bool {
        raw.len() == 24 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let refused = || ApiError::unprocessable("clientId", ClientId::RULE);
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| refused())?;
        if Self::valid(&raw) {
            Ok(Self(raw))
        } else {
            Err(refused())
        }
    }
}

/// An application as stored.
#[derive(sqlx::FromRow, Clone)]
pub struct Registered {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    secret_digest: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    pub enabled: i64,
    create_time: i64,
    update_time: i64,
}

const COLUMNS: &str = "id, client_id, name, secret_digest, redirect_uris, post_logout_redirect_uris, \
     enabled, create_time, update_time";

impl Registered {
    /// Application `client_id`, enabled or not.
    pub async fn find(conn: &mut AnyConnection, client_id: &str) -> ApiResult<Option<Self>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM oauth_clients WHERE client_id = $1"
        )))
        .bind(client_id)
        .fetch_optional(conn)
        .await?)
    }

    /// Holds enabled application `client_id` until the transaction ends, and says whether
    /// it is (still) there. A transaction that writes rows naming an application (a
    /// consent, a grant) holds it first: deleting the application locks its row and then
    /// deletes those rows, so on PostgreSQL the two wait for each other in that one order,
    /// never in a circle (the foreign key's own lock, taken after the row is written, made
    /// one), and a write that waited finds the application gone instead of breaking the
    /// foreign key. (SQLite's write transactions run one at a time.)
    pub async fn hold(db: &Db, conn: &mut AnyConnection, client_id: &str) -> ApiResult<bool> {
        let held: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM oauth_clients WHERE client_id = $1 AND enabled = 1{}",
            db.lock(RowLock::Key)
        )))
        .bind(client_id)
        .fetch_optional(conn)
        .await?;
        Ok(held.is_some())
    }

    pub fn public(&self) -> bool {
        self.secret_digest.is_none()
    }

    /// Whether `presented` is this application's secret (only its digest is kept).
    pub fn secret_matches(&self, presented: &str) -> bool {
        // Digests are compared, so timing tells at most how much of the digest of a guess
        // matched, which says nothing of the secret.
        self.secret_digest.as_deref() == Some(secret::digest(presented).as_str())
    }

    pub fn redirect_uris(&self) -> Vec<String> {
        serde_json::from_str(&self.redirect_uris).unwrap_or_default()
    }

    pub fn post_logout_redirect_uris(&self) -> Vec<String> {
        serde_json::from_str(&self.post_logout_redirect_uris).unwrap_or_default()
    }

    fn into_model(self) -> Client {
        Client {
            redirect_uris: self.redirect_uris(),
            post_logout_redirect_uris: self.post_logout_redirect_uris(),
            public: self.public(),
            enabled: self.enabled != 0,
            client_id: self.client_id,
            name: self.name,
            create_time: self.create_time,
            update_time: self.update_time,
        }
    }
}

fn uri_list(uris: &[RedirectUri]) -> String {
    serde_json::to_string(&uris.iter().map(RedirectUri::as_str).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

/// Register an application; the answer holds its id and, for a confidential one, its
/// secret, shown only now.
#[utoipa::path(post, path = "/v1/admin/oauth/clients", tag = "oauth", operation_id = "clients_create", security(("token" = [])), request_body = NewClient,
    responses(
        (status = 200, description = "Registered: `data.clientId`, and `data.clientSecret` (shown only now) unless public", body = Envelope<CreatedClient>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule", body = Message),
    ))]
pub async fn create(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    Json(new): Json<NewClient>,
) -> Reply<CreatedClient> {
    let now = now();
    let client_id = secret::random_hex(12);
    let client_secret = (!new.public).then(|| secret::random_hex(32));
    let mut tx = state.db.begin_write().await?;
    admin.confirm(&state.db, &mut tx).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO oauth_clients (client_id, name, secret_digest, redirect_uris, post_logout_redirect_uris, \
         enabled, create_time, update_time) VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id",
    )
    .bind(&client_id)
    .bind(new.name.as_str())
    .bind(client_secret.as_deref().map(secret::digest))
    .bind(uri_list(&new.redirect_uris))
    .bind(uri_list(&new.post_logout_redirect_uris))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let kind = if new.public { "public" } else { "confidential" };
    let detail = format!("{} ({client_id}, {kind}) registered", new.name);
    audit::record(
        &mut tx,
        Entry::oauth_client(&admin, "oauth.client.create", id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::data(CreatedClient {
        client_id,
        client_secret,
    }))
}

/// The registered applications, newest first (never their secrets).
#[utoipa::path(get, path = "/v1/admin/oauth/clients", tag = "oauth", operation_id = "clients_list", security(("token" = [])),
    responses(
        (status = 200, description = "The applications", body = Envelope<Vec<Client>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
    ))]
pub async fn list(State(state): State<AppState>, _: SystemAdmin) -> Reply<Vec<Client>> {
    let rows: Vec<Registered> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM oauth_clients ORDER BY id DESC"
    )))
    .fetch_all(&state.db.pool)
    .await?;
    ok(Envelope::data(
        rows.into_iter().map(Registered::into_model).collect(),
    ))
}

async fn locked(state: &AppState, conn: &mut AnyConnection, client_id: &str) -> ApiResult<Registered> {
    let sql = format!(
        "SELECT {COLUMNS} FROM oauth_clients WHERE client_id = $1{}",
        state.db.lock(RowLock::Delete)
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(client_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("clientId: no application {client_id}")))
}

/// Change an application's name, URIs or whether it is enabled; the rest stays. A
/// disabled application starts no sign-in and none of its tokens is accepted.
#[utoipa::path(put, path = "/v1/admin/oauth/clients/{clientId}", tag = "oauth", operation_id = "clients_update", security(("token" = [])), request_body = ClientChange,
    params(("clientId" = String, Path, pattern = "^[0-9a-f]{24}$", description = "The application's client id")),
    responses(
        (status = 200, description = "Changed", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such application", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule", body = Message),
    ))]
pub async fn update(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    ClientId(client_id): ClientId,
    Json(change): Json<ClientChange>,
) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    let current = locked(&state, &mut tx, &client_id).await?;
    admin.confirm(&state.db, &mut tx).await?;
    let name = change.name.as_ref().map_or(current.name.as_str(), |n| n.as_str());
    let redirect_uris = change
        .redirect_uris
        .as_deref()
        .map_or(current.redirect_uris.clone(), uri_list);
    let post_logout = change
        .post_logout_redirect_uris
        .as_deref()
        .map_or(current.post_logout_redirect_uris.clone(), uri_list);
    let enabled = change.enabled.map_or(current.enabled, i64::from);
    sqlx::query(
        "UPDATE oauth_clients SET name = $1, redirect_uris = $2, post_logout_redirect_uris = $3, enabled = $4, \
         update_time = $5 WHERE id = $6",
    )
    .bind(name)
    .bind(&redirect_uris)
    .bind(&post_logout)
    .bind(enabled)
    .bind(now)
    .bind(current.id)
    .execute(&mut *tx)
    .await?;
    let mut changed = Vec::new();
    if name != current.name {
        changed.push(format!("name '{}' -> '{name}'", current.name));
    }
    if redirect_uris != current.redirect_uris {
        changed.push(format!("redirect URIs {redirect_uris}"));
    }
    if post_logout != current.post_logout_redirect_uris {
        changed.push(format!("post-logout URIs {post_logout}"));
    }
    if enabled != current.enabled {
        changed.push(if enabled != 0 { "enabled" } else { "disabled" }.to_owned());
    }
    let detail = format!(
        "{name} ({client_id}): {}",
        if changed.is_empty() {
            "no change".into()
        } else {
            changed.join("; ")
        }
    );
    audit::record(
        &mut tx,
        Entry::oauth_client(&admin, "oauth.client.update", current.id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Remove an application: every token it was given, its codes and its consents end.
#[utoipa::path(delete, path = "/v1/admin/oauth/clients/{clientId}", tag = "oauth", operation_id = "clients_delete", security(("token" = [])),
    params(("clientId" = String, Path, pattern = "^[0-9a-f]{24}$", description = "The application's client id")),
    responses(
        (status = 200, description = "Removed", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such application", body = Message),
        (status = 422, description = "Malformed client id", body = Message),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    ClientId(client_id): ClientId,
) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    let current = locked(&state, &mut tx, &client_id).await?;
    admin.confirm(&state.db, &mut tx).await?;
    session::end_grants(&mut tx, Grants::OfClient(&client_id)).await?;
    sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
        .bind(current.id)
        .execute(&mut *tx)
        .await?;
    let detail = format!("{} ({client_id}) removed", current.name);
    audit::record(
        &mut tx,
        Entry::oauth_client(&admin, "oauth.client.delete", current.id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::success())
}
