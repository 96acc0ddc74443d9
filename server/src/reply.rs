//! What a handler answers: the success envelope (`Reply`, `ok`), and `Message`, the
//! envelope without data that the OpenAPI document shows for errors and plain successes.

use crate::error::ApiResult;
use app::model::Envelope;

/// A success envelope, as every handler returns it.
pub type Reply<T = ()> = ApiResult<axum::Json<Envelope<T>>>;

pub fn ok<T>(envelope: Envelope<T>) -> Reply<T> {
    Ok(axum::Json(envelope))
}

/// For the OpenAPI document only: the envelope without `data`, as errors, plain
/// successes and tokens have it (in code that is `Envelope<()>`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Message {
    code: u16,
    message: String,
    /// Only from `POST` and `PUT /v1/authorization`.
    token: Option<String>,
}
