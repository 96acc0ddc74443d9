//! The audit log's search: admins read it newest first, a page at a time or as one CSV
//! file (`GET /v1/admin/audit`). Entries are written by `crate::audit`.

use crate::auth::Admin;
use crate::auth::caller::Scope;
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::Query;
use crate::reply::{Message, ok};
use crate::state::AppState;
use crate::window::{self, Value, Window};
use app::model::{AuditEntry, AuditFormat, AuditQuery, Envelope, SortOrder};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sqlx::AssertSqlSafe;
use sqlx::any::AnyArguments;
use std::borrow::Cow;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The audit log's search, `/v1/admin/audit`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target_type: String,
    target_id: i64,
    detail: String,
    create_time: i64,
}

impl From<EntryRow> for AuditEntry {
    fn from(r: EntryRow) -> Self {
        Self {
            id: r.id,
            actor_id: r.actor_id,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            detail: r.detail,
            create_time: r.create_time,
        }
    }
}

const ENTRY_COLUMNS: &str = "id, actor_id, actor, action, target_type, target_id, detail, create_time";

/// An action's prefix up to its last dot (`business.audit` → `business.`), written exactly
/// as migration 0005 indexes it (actions are lowercase words and `_` around one dot).
fn action_prefix(column: &str) -> String {
    format!("rtrim({column}, 'abcdefghijklmnopqrstuvwxyz_')")
}

/// Rows read per query while a CSV streams: memory holds one such batch, whatever the size
/// of the file.
const CSV_BATCH: i64 = 500;

const CSV_HEADER: [&str; 8] = [
    "id",
    "time",
    "actor_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "detail",
];

/// An equality filter: a column (or an indexed expression) and its value. The first one a
/// search has is written as is, so that its index (migration 0005) leads the search; the
/// others as `column + 0` or `column || ''`, which no index serves, so that they are
/// checked on the rows it finds. Without statistics, SQLite would otherwise pick between
/// equally shaped indexes by chance (a 30-day page of one admin's `user.*` took 27 ms when
/// it walked the `user.` prefix instead of the admin). The order puts first what matches
/// fewest entries as a rule: one target, one actor, one business, one actor by name, one
/// action, a prefix, a target type. The range of `from` and `to` goes with any of them.
enum Filter {
    Int(&'static str, i64),
    Text(String, String),
}

/// What the `total` of a search is counted from.
#[derive(Debug, Clone, PartialEq)]
enum Count {
    /// `audit_tally` (migration 0005): the entries of one action, action prefix, actor or
    /// target type, or (no key) of every prefix, in the admin's scope.
    Tally { kind: &'static str, key: Option<String> },
    /// The matching entries themselves, through the index of the filter the database picks.
    Entries,
}

/// The tally's `business_key` of all entries, whatever their business.
const EVERY_BUSINESS: i64 = -2;

/// A search of the log as SQL: conditions with `$n` placeholders and their values, in
/// order; queries append their own values (limit, offset, cursor) after these.
#[derive(Debug, Clone)]
struct Search {
    conditions: Vec<String>,
    values: Vec<Value>,
    count: Count,
    business: Option<i64>,
}

impl Search {
    /// The query's filters within what the admin may see. `from` after `to` is refused.
    fn new(query: &AuditQuery, scope: Scope) -> Result<Self, ApiError> {
        if let (Some(from), Some(to)) = (&query.from, &query.to)
            && from.is_after(to)
        {
            return Err(ApiError::unprocessable("from", AuditQuery::RANGE_RULE));
        }
        let mut search = Self {
            conditions: Vec::new(),
            values: Vec::new(),
            count: Count::Entries,
            business: scope.business(),
        };
        // Equality filters, most telling first (see `Filter`); the first one present leads.
        let action = query.action.as_ref().map(|a| a.as_str()).filter(|a| *a != "*");
        let prefix = action.and_then(|a| a.strip_suffix('*'));
        // Names are ASCII (`UserName`), so SQLite's `lower` and PostgreSQL's agree.
        let actor = query.actor.as_ref().map(|a| a.as_str().to_ascii_lowercase());
        let filters = [
            query.target_id.map(|id| Filter::Int("target_id", id.get())),
            query.actor_id.map(|id| Filter::Int("actor_id", id.get())),
            scope.business().map(|id| Filter::Int("business_id", id)),
            actor
                .clone()
                .map(|name| Filter::Text("lower(actor)".into(), name)),
            match (action, prefix) {
                (Some(_), Some(prefix)) => Some(Filter::Text(action_prefix("action"), prefix.into())),
                (Some(action), None) => Some(Filter::Text("action".into(), action.into())),
                _ => None,
            },
            query
                .target_type
                .as_ref()
                .map(|t| Filter::Text("target_type".into(), t.as_str().into())),
        ];
        for (n, filter) in filters.into_iter().flatten().enumerate() {
            let leads = n == 0;
            match filter {
                Filter::Int(column, id) if leads => search.push(&format!("{column} = "), Value::int(id)),
                Filter::Int(column, id) => search.push(&format!("{column} + 0 = "), Value::int(id)),
                Filter::Text(column, text) if leads => {
                    search.push(&format!("{column} = "), Value::text(text))
                }
                Filter::Text(column, text) => search.push(&format!("{column} || '' = "), Value::text(text)),
            }
        }
        if let Some(from) = &query.from {
            search.push("create_time >= ", Value::int(from.whole_seconds_from()));
        }
        if let Some(to) = &query.to {
            search.push("create_time < ", Value::int(to.whole_seconds_from()));
        }
        // The tally counts one action, prefix, actor or target type, or everything.
        let tallied: Vec<(&'static str, String)> = [
            action.map(|a| match prefix {
                Some(prefix) => ("prefix", prefix.to_owned()),
                None => ("action", a.to_owned()),
            }),
            actor.map(|a| ("actor", a)),
            query
                .target_type
                .as_ref()
                .map(|t| ("target", t.as_str().to_owned())),
        ]
        .into_iter()
        .flatten()
        .collect();
        let others = query.actor_id.is_some()
            || query.target_id.is_some()
            || query.from.is_some()
            || query.to.is_some();
        search.count = match (tallied.as_slice(), others) {
            ([], false) => Count::Tally {
                kind: "prefix",
                key: None,
            },
            ([(kind, key)], false) => Count::Tally {
                kind,
                key: Some(key.clone()),
            },
            _ => Count::Entries,
        };
        Ok(search)
    }

    fn push(&mut self, condition: &str, value: Value) {
        self.values.push(value);
        self.conditions.push(format!("{condition}${}", self.values.len()));
    }

    /// The `WHERE` text of the filters.
    fn filter(&self) -> String {
        if self.conditions.is_empty() {
            "1 = 1".into()
        } else {
            self.conditions.join(" AND ")
        }
    }

    /// The placeholder of the `n`th value a query adds after the filters' (from 1).
    fn extra(&self, n: usize) -> String {
        format!("${}", self.values.len() + n)
    }

    fn arguments(&self, extra: &[Value]) -> Result<AnyArguments, ApiError> {
        window::arguments(self.values.iter().chain(extra))
    }

    async fn total(&self, db: &Db) -> Result<i64, ApiError> {
        let (sql, values) = match &self.count {
            Count::Tally { kind, key } => {
                let mut values = Vec::new();
                let mut sql = format!(
                    "SELECT CAST(COALESCE(SUM(entries), 0) AS BIGINT) FROM audit_tally WHERE kind = '{kind}'"
                );
                if let Some(key) = key {
                    values.push(Value::text(key.clone()));
                    sql.push_str(" AND key = $1");
                }
                values.push(Value::int(self.business.unwrap_or(EVERY_BUSINESS)));
                sql.push_str(&format!(" AND business_key = ${}", values.len()));
                let search = Self {
                    conditions: Vec::new(),
                    values,
                    count: Count::Entries,
                    business: None,
                };
                (sql, search.arguments(&[])?)
            }
            Count::Entries => (
                format!("SELECT COUNT(*) FROM audit_log WHERE {}", self.filter()),
                self.arguments(&[])?,
            ),
        };
        let total: i64 = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
            .fetch_one(&db.pool)
            .await?;
        Ok(total)
    }
}

/// The audit log, newest first, filtered; a business admin sees its own business's
/// entries. `format=csv`: every match as one CSV file, streamed.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "audit", security(("token" = [])), params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries and `total`; with `format=csv`, every match as CSV \
            (`id,time,actor_id,actor,action,target_type,target_id,detail`, RFC 4180, a cell a spreadsheet \
            would read as a formula starts with `'`)",
            content(
                (Envelope<Vec<AuditEntry>> = "application/json"),
                (String = "text/csv"),
            )),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4", body = Message),
        (status = 422, description = "A parameter breaks its rule, or `from` is after `to`", body = Message),
    ))]
pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let search = Search::new(&query, admin.scope())?;
    if query.format == AuditFormat::Csv {
        return Ok(csv_response(state.db.clone(), search));
    }
    let total = search.total(&state.db).await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::<AuditEntry>::new(), total)).map(IntoResponse::into_response);
    };
    let direction = window.direction(SortOrder::Desc);
    let page_sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE {} \
         ORDER BY create_time {direction}, id {direction} LIMIT {} OFFSET {}",
        search.filter(),
        search.extra(1),
        search.extra(2),
    );
    let arguments = search.arguments(&[Value::int(window.limit), Value::int(window.offset)])?;
    let rows: Vec<EntryRow> = sqlx::query_as_with(AssertSqlSafe(page_sql), arguments)
        .fetch_all(&state.db.pool)
        .await?;
    let entries: Vec<AuditEntry> = window.arrange(rows).into_iter().map(AuditEntry::from).collect();
    ok(Envelope::page(entries, total)).map(IntoResponse::into_response)
}

/// Every match as CSV, read in batches by a cursor on (create_time, id), so memory and
/// the pool's connections stay free however long the file and however slow the reader.
fn csv_response(db: Db, search: Search) -> Response {
    let search = Arc::new(search);
    let batches = futures::stream::try_unfold(Some(None::<(i64, i64)>), move |cursor| {
        let (db, search) = (db.clone(), search.clone());
        async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            let rows = csv_batch(&db, &search, cursor).await.inspect_err(|err| {
                tracing::error!(error = %err, "audit CSV: the export ended early");
            })?;
            let next = (rows.len() as i64 == CSV_BATCH)
                .then(|| rows.last().map(|r| (r.create_time, r.id)))
                .flatten();
            let bytes = csv_rows(&rows, cursor.is_none()).map_err(ApiError::internal)?;
            Ok::<_, ApiError>(Some((Bytes::from(bytes), next.map(Some))))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        Body::from_stream(batches),
    )
        .into_response()
}

/// The next batch, newest first, after `cursor` (the last row sent).
async fn csv_batch(db: &Db, search: &Search, cursor: Option<(i64, i64)>) -> Result<Vec<EntryRow>, ApiError> {
    let (after, mut extra) = match cursor {
        Some((time, id)) => (
            format!(
                " AND (create_time, id) < ({}, {})",
                search.extra(1),
                search.extra(2)
            ),
            vec![Value::int(time), Value::int(id)],
        ),
        None => (String::new(), Vec::new()),
    };
    extra.push(Value::int(CSV_BATCH));
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE {}{after} \
         ORDER BY create_time DESC, id DESC LIMIT {}",
        search.filter(),
        search.extra(extra.len()),
    );
    Ok(sqlx::query_as_with(AssertSqlSafe(sql), search.arguments(&extra)?)
        .fetch_all(&db.pool)
        .await?)
}

/// Rows as CSV lines (RFC 4180: CRLF, quotes where needed), after the header if `header`.
fn csv_rows(rows: &[EntryRow], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 160 + 80));
    if header {
        writer.write_record(CSV_HEADER)?;
    }
    for r in rows {
        let cells = [
            Cow::Owned(r.id.to_string()),
            Cow::Owned(crate::clock::rfc3339(r.create_time)),
            Cow::Owned(r.actor_id.map(|id| id.to_string()).unwrap_or_default()),
            as_text(&r.actor),
            as_text(&r.action),
            as_text(&r.target_type),
            Cow::Owned(r.target_id.to_string()),
            as_text(&r.detail),
        ];
        writer.write_record(cells.iter().map(|cell| cell.as_bytes()))?;
    }
    writer.into_inner().map_err(|err| err.into_error().into())
}

/// A cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return) gets a leading `'`, which makes it plain text.
fn as_text(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(detail: &str) -> EntryRow {
        EntryRow {
            id: 7,
            actor_id: None,
            actor: "cli".into(),
            action: "user.audit".into(),
            target_type: "user".into(),
            target_id: 3,
            detail: detail.into(),
            create_time: 0,
        }
    }

    #[test]
    fn csv_rows_quote_what_needs_it_and_defuse_formulas() {
        let text = String::from_utf8(csv_rows(&[row("a \"b\", c\nd"), row("=1+2")], true).unwrap()).unwrap();
        assert_eq!(
            text,
            "id,time,actor_id,actor,action,target_type,target_id,detail\r\n\
             7,1970-01-01T00:00:00Z,,cli,user.audit,user,3,\"a \"\"b\"\", c\nd\"\r\n\
             7,1970-01-01T00:00:00Z,,cli,user.audit,user,3,'=1+2\r\n"
        );
        for risky in ["=x", "+x", "-x", "@x", "\tx", "\rx"] {
            assert!(as_text(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(as_text("x=1"), "x=1");
    }

    fn search(query: &str, scope: Scope) -> Result<Search, ApiError> {
        Search::new(&serde_urlencoded::from_str(query).unwrap(), scope)
    }

    #[test]
    fn totals_come_from_the_tally_only_for_action_or_actor_alone() {
        let everything = Scope::Everything;
        let tally = |query| search(query, everything).unwrap().count;
        let counted = |kind, key: Option<&str>| Count::Tally {
            kind,
            key: key.map(str::to_owned),
        };
        assert_eq!(tally(""), counted("prefix", None));
        assert_eq!(tally("action=*"), counted("prefix", None));
        assert_eq!(tally("action=business.*"), counted("prefix", Some("business.")));
        assert_eq!(tally("action=user.audit"), counted("action", Some("user.audit")));
        assert_eq!(tally("actor=Root"), counted("actor", Some("root")));
        for counted in [
            "actor=a1&action=user.audit",
            "targetId=1",
            "from=2024-01-01T00:00:00Z",
            "actorId=3",
        ] {
            assert_eq!(tally(counted), Count::Entries, "{counted}");
        }
        let scoped = search("action=user.audit", Scope::Business(4)).unwrap();
        assert_eq!(scoped.filter(), "business_id = $1 AND action || '' = $2");
        let led = search(
            "action=user.*&actor=Ann&targetId=3&from=2024-01-01T00:00:00Z",
            everything,
        )
        .unwrap();
        assert_eq!(
            led.filter(),
            "target_id = $1 AND lower(actor) || '' = $2 \
             AND rtrim(action, 'abcdefghijklmnopqrstuvwxyz_') || '' = $3 AND create_time >= $4"
        );
        assert!(search("from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z", everything).is_err());
        assert!(search("from=2024-01-01T00:00:00Z&to=2024-01-01T00:00:00Z", everything).is_ok());
    }
}
