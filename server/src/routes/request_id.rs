//! The request's id (SPEC.md section 11): a client's `x-request-id` is kept when it is 1 to
//! 128 characters of letters, digits and `-_.:`; anything else, or none, is replaced by a
//! random UUID. The request's span names it (in every log line) and the response carries
//! it. One layer where tower-http's pair (set, then propagate) and a third to drop unusable
//! ids made three, and kept the id in the request's and the response's extensions too.

use crate::stamp::Stamp;
use axum::http::{HeaderName, HeaderValue, Request, Response};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
pub struct RequestId;

impl Stamp for RequestId {
    /// The request's id, for its response.
    type Mark = HeaderValue;

    fn request<B>(&self, request: &mut Request<B>) -> HeaderValue {
        match request.headers().get(REQUEST_ID) {
            Some(given) if usable(given) => given.clone(),
            _ => {
                let made = random_id();
                request.headers_mut().insert(REQUEST_ID, made.clone());
                made
            }
        }
    }

    fn response<R>(id: HeaderValue, response: &mut Response<R>) {
        if !response.headers().contains_key(REQUEST_ID) {
            response.headers_mut().insert(REQUEST_ID, id);
        }
    }
}

fn usable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// A random (version 4) UUID from the thread's generator (tower-http's `MakeRequestUuid`
/// asks the kernel for every id, a system call per request), written without a `format!`.
fn random_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = rand::random::<u128>() & !(0xf000 << 64) & !(0xc << 60);
    let bits = bits | (0x4000 << 64) | (0x8 << 60);
    let mut text = [0u8; 36];
    let mut at = 0;
    for nibble in 0..32 {
        if matches!(nibble, 8 | 12 | 16 | 20) {
            text[at] = b'-';
            at += 1;
        }
        text[at] = HEX[(bits >> (124 - 4 * nibble)) as usize & 0xf];
        at += 1;
    }
    HeaderValue::from_bytes(&text).expect("hex digits and dashes make a header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_id_is_a_version_4_uuid() {
        let id = random_id();
        let id = id.to_str().unwrap();
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{id}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{id}"
        );
        assert_ne!(random_id(), random_id());
    }

    #[test]
    fn ids_of_letters_digits_and_four_marks_are_kept() {
        assert!(usable(&HeaderValue::from_static("given-id_1.2:3")));
        assert!(!usable(&HeaderValue::from_static("")));
        assert!(!usable(&HeaderValue::from_static("a b")));
        assert!(!usable(&HeaderValue::from_str(&"a".repeat(129)).unwrap()));
    }
}
