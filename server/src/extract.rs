//! Request extractors that reject into the one error envelope: JSON bodies, query strings
//! and `{id}` path segments. Each error names the field (its JSON path) and the rule.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body of at most 64 KiB (the router's `DefaultBodyLimit`). Any content type is
/// read as JSON, so `curl -d` works without a header.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection {
                BytesRejection::FailedToBufferBody(_) if is_too_large(&rejection) => {
                    ApiError::PayloadTooLarge
                }
                other => ApiError::unprocessable("body", other.body_text()),
            })?;
        parse_json(&bytes).map(Json)
    }
}

fn is_too_large(rejection: &BytesRejection) -> bool {
    rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
}

/// Parses a JSON document into `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would read a struct from an array too; the contract speaks of objects only.
    if bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b != b'{')
    {
        return Err(ApiError::unprocessable("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let inner = err.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::unprocessable(
                "body",
                format!("must be well-formed JSON ({})", without_position(inner)),
            );
        }
        describe(&err.path().to_string(), &without_position(inner))
    })?;
    deserializer.end().map_err(|err| {
        ApiError::unprocessable(
            "body",
            format!("must be well-formed JSON ({})", without_position(&err)),
        )
    })?;
    Ok(value)
}

/// The query string, parsed into `T` (whose fields carry their own rules and defaults).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|err| describe(&err.path().to_string(), &err.inner().to_string()))
    }
}

/// The `{id}` of a path: a positive integer.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::unprocessable("id", "must be a positive integer"))?;
        match app::model::whole_text(&raw).map(str::parse::<i64>) {
            Some(Ok(id)) if id > 0 => Ok(Id(id)),
            _ => Err(ApiError::unprocessable("id", "must be a positive integer")),
        }
    }
}

/// The `{id}` of a session: 32 lowercase hexadecimal digits.
#[derive(Debug, Clone)]
pub struct SessionId(pub String);

impl SessionId {
    pub const RULE: &'static str = "must be a session id (32 hexadecimal digits)";
    pub const PATTERN: &'static str = "^[0-9a-f]{32}$";
}

impl<S: Send + Sync> FromRequestParts<S> for SessionId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let refused = || ApiError::unprocessable("id", SessionId::RULE);
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| refused())?;
        let valid = raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid { Ok(Self(raw)) } else { Err(refused()) }
    }
}

/// Turns serde's wording into `field: rule`.
fn describe(path: &str, message: &str) -> ApiError {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        let field = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::unprocessable(&field, "is required");
    }
    let path = if path == "." { "body" } else { path };
    ApiError::unprocessable(path, message)
}

/// serde_json appends " at line L column C"; the field name says more.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::NewUser;

    fn message(json: &str) -> String {
        parse_json::<NewUser>(json.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_field_and_the_rule() {
        let valid = r#"{"user":"ann","password":"Abcdefg1","phone":"12345","realName":"Ann","isAdmin":true}"#;
        assert!(parse_json::<NewUser>(valid.as_bytes()).is_ok());
        assert_eq!(
            message(&valid.replace("\"ann\"", "\"a\"")),
            format!("user: {}", app::rules::UserName::RULE)
        );
        assert_eq!(message(r#"{"user":"ann"}"#), "password: is required");
        assert!(message(&valid.replace("true", "\"yes\"")).starts_with("isAdmin: invalid type"));
        assert!(message("{\"user\":").starts_with("body: must be well-formed JSON"));
        assert!(message(&format!("{valid} trailing")).starts_with("body: must be well-formed JSON"));
        assert!(message("").starts_with("body: must be well-formed JSON"));
    }
}
