//! The headers of SPEC.md section 8 on every answer (HSTS too when `OTE_HSTS` is on), and
//! `Cache-Control: no-store` on every answer under `/v1`: tokens and user data must not
//! stay in any cache. One layer: a layer per header added a future per header and request,
//! and the one given to the `/v1` router alone wrapped each API route in a box of its own.

use crate::stamp::Stamp;
use axum::http::{HeaderValue, Request, Response, header};

/// Which of the headers to set.
#[derive(Clone, Copy)]
pub struct Headers {
    /// `X-Frame-Options`, `Referrer-Policy`, `X-Content-Type-Options`.
    pub security: bool,
    pub hsts: bool,
    /// `Cache-Control: no-store` under `/v1`.
    pub no_store: bool,
}

impl Stamp for Headers {
    /// The headers this response gets.
    type Mark = Headers;

    fn request<B>(&self, request: &mut Request<B>) -> Headers {
        let path = request.uri().path();
        let api = path == "/v1" || path.starts_with("/v1/");
        Headers {
            no_store: self.no_store && api,
            ..*self
        }
    }

    fn response<R>(set: Headers, response: &mut Response<R>) {
        let headers = response.headers_mut();
        if set.no_store {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if set.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        if set.security {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
    }
}
