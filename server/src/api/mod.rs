//! The `/v1` API of SPEC.md: the list of its areas, each bringing its own `routes()`. The
//! router and the OpenAPI description are built from the same list, so neither can name a
//! route the other lacks. The areas of the seed live here (`session`, `users`, `business`,
//! `queue`, `audit`); later ones in modules of their own (`accounts`, `webhooks`).

pub mod audit;
pub mod business;
pub mod queue;
pub mod session;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::any;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OTE Portal API",
        description = "Users and businesses (tenant namespaces) of a multi-tenant edge platform. \
            Every response is an envelope `{code, message, data?, total?, token?}` whose `code` \
            equals the HTTP status; error messages name the field and the rule.",
    ),
    modifiers(&TokenScheme),
    components(schemas(
        app::model::Page,
        app::model::PageSize,
        app::model::SortOrder,
        app::model::UserOrder,
        app::model::BusinessOrder,
        app::model::StatusFilter,
        app::model::BusinessStatusFilter,
        app::model::AuditFormat,
        app::model::PositiveId,
        app::rules::DateTime,
        app::rules::TargetType,
    )),
)]
struct ApiDoc;

/// The token travels in `Authorization`, raw or after `Bearer `.
struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The token from POST /v1/authorization, raw or as `Bearer <token>`",
            ))),
        );
    }
}

/// The routes of paths under `/v1` that name no endpoint: 404 in JSON, as the endpoints
/// answer (metrics count them as unmatched, as any other unknown path).
pub const UNKNOWN: [&str; 3] = ["/v1", "/v1/", "/v1/{*path}"];

/// The routers and the OpenAPI document of both.
pub struct Routers {
    /// `/v1` and every path under it.
    pub api: Router<AppState>,
    /// The identity provider's OAuth endpoints at the root (`/.well-known`, `/oauth/*`).
    pub protocol: Router<AppState>,
    pub doc: utoipa::openapi::OpenApi,
}

/// The `/v1` router, the identity provider's protocol router, and their OpenAPI document.
pub fn router() -> Routers {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::routes())
        .merge(users::routes())
        .merge(business::routes())
        .merge(queue::routes())
        .merge(audit::routes())
        .merge(crate::accounts::routes())
        .merge(crate::webhooks::routes())
        .merge(crate::oidc::routes());
    let (router, mut doc) = router.split_for_parts();
    let (protocol, protocol_doc) = crate::oidc::protocol().split_for_parts();
    doc.paths.paths.extend(protocol_doc.paths.paths);
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            qualify_operation_id(operation);
        }
    }
    doc.paths
        .paths
        .insert("/v1/openapi.json".into(), openapi_path_item());
    if let (Some(components), Some(extra)) = (doc.components.as_mut(), protocol_doc.components) {
        components.schemas.extend(extra.schemas);
    }
    let json = doc.to_json().expect("the OpenAPI document serialises");
    // Every route's path starts with `/v1` (not `nest("/v1")`, which wraps each route in
    // two more services per request: about 2,000 instructions of a 46,000-instruction
    // read, bench/README.md). Unknown paths under `/v1` answer in JSON too; the wrong
    // method's answer is given to these routes alone (the routes registered so far).
    let router = router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || serve_json(json.clone())),
        )
        .method_not_allowed_fallback(wrong_method);
    let router = UNKNOWN
        .into_iter()
        .fold(router, |router, path| router.route(path, any(unknown_endpoint)));
    Routers {
        api: router,
        protocol,
        doc,
    }
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// utoipa names an operation after its handler (`list`, `create`, ...), which several
/// modules share; OpenAPI wants each id once, so it is qualified by the tag: `users_list`.
fn qualify_operation_id(operation: &mut utoipa::openapi::path::Operation) {
    let tag = operation.tags.as_ref().and_then(|tags| tags.first()).cloned();
    if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
        *id = format!("{tag}_{id}");
    }
}

async fn serve_json(json: String) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], json)
}

fn openapi_path_item() -> utoipa::openapi::PathItem {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::{PathItem, ResponseBuilder};
    PathItem::new(
        HttpMethod::Get,
        OperationBuilder::new()
            .operation_id(Some("openapi"))
            .summary(Some("This OpenAPI 3.1 document"))
            .response("200", ResponseBuilder::new().description("The document").build())
            .build(),
    )
}

async fn unknown_endpoint(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no such endpoint: {method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("method {method} is not allowed on {}", uri.path()))
}
