//! What a handler answers: the success envelope (`Reply`, `ok`), and `Message`, the
//! envelope without data that the OpenAPI document shows for errors and plain successes.

use crate::error::{ApiError, ApiResult};
use app::model::Envelope;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A success envelope, as every handler returns it.
pub type Reply<T = ()> = ApiResult<Json<Envelope<T>>>;

pub fn ok<T>(envelope: Envelope<T>) -> Reply<T> {
    Ok(Json(envelope))
}

/// A reply's JSON: written into a `Vec` of `Json::CAPACITY` bytes, where axum's `Json`
/// starts from 128 and writes through `BytesMut`'s `io::Write` adapter (growing it for most
/// replies; about 1,000 of a read's 32,000 instructions, bench/README.md).
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// Larger than most single-object replies (a user, the caller: 200-300 bytes).
    const CAPACITY: usize = 512;
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(Self::CAPACITY);
        if let Err(err) = serde_json::to_writer(&mut body, &self.0) {
            return ApiError::internal(err).into_response();
        }
        let mut response = Response::new(Body::from(body));
        let headers = response.headers_mut();
        // Room at once for what every answer gets (its type and length, the request id,
        // the security headers, `no-store`): an empty map grew at the seventh.
        headers.reserve(8);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
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
