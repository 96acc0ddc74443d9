//! Device cookies (OWASP, "Slow down online guessing attacks with device cookies"): a
//! browser that has signed in as a name keeps a signed cookie saying so, and its later
//! logins as that name are throttled on their own (`throttle::Key::Device`), so that
//! others' wrong guesses, which lock the name, never lock that browser out. The cookie
//! holds the user's id, token version and a random nonce, signed with a key derived from
//! the JWT secret: nothing to store, and it dies with the user's sessions (every
//! `session::end_tokens` raises the version).

use super::secret;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The cookie's name; it is sent only to `/v1/authorization`.
pub const COOKIE_NAME: &str = "ote_device";
const PATH: &str = "/v1/authorization";

/// A device cookie whose signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user_id: i64,
    pub version: i64,
    pub nonce: String,
}

impl Device {
    /// Whether this browser signed in as this user, in the user's current sessions.
    pub fn vouches_for(&self, user_id: i64, version: i64) -> bool {
        self.user_id == user_id && self.version == version
    }
}

pub struct DeviceCookies {
    key: Vec<u8>,
    max_age_seconds: u64,
    secure: bool,
}

impl DeviceCookies {
    /// `secret` is the JWT secret; the cookies' key is derived from it, never equal.
    pub fn new(secret: &[u8], days: u64, secure: bool) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
        derive.update(b"ote-portal device cookies v1");
        Self {
            key: derive.finalize().into_bytes().to_vec(),
            max_age_seconds: days * 24 * 60 * 60,
            secure,
        }
    }

    fn mac(&self, text: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(text.as_bytes());
        mac
    }

    /// A new cookie for a browser that just signed in: the `Set-Cookie` value.
    pub fn issue(&self, user_id: i64, version: i64) -> String {
        let signed = format!("{user_id}.{version}.{}", secret::random_hex(16));
        let tag = hex::encode(self.mac(&signed).finalize().into_bytes());
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{COOKIE_NAME}={signed}.{tag}; Path={PATH}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
            self.max_age_seconds
        )
    }

    /// The request's device cookie, if one is there and its signature holds (checked in
    /// constant time); anything else is no cookie at all.
    pub fn read(&self, headers: &HeaderMap) -> Option<Device> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
            .find_map(|value| self.verify(value))
    }

    fn verify(&self, value: &str) -> Option<Device> {
        let (signed, tag) = value.rsplit_once('.')?;
        let tag = hex::decode(tag).ok()?;
        self.mac(signed).verify_slice(&tag).ok()?;
        let mut parts = signed.splitn(3, '.');
        Some(Device {
            user_id: parts.next()?.parse().ok()?,
            version: parts.next()?.parse().ok()?,
            nonce: parts.next()?.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie_header(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, format!("other=1; {pair}").parse().unwrap());
        headers
    }

    #[test]
    fn a_cookie_vouches_for_its_user_and_version_only() {
        let cookies = DeviceCookies::new(b"0123456789abcdef0123456789abcdef", 180, false);
        let issued = cookies.issue(7, 3);
        assert!(issued.contains("HttpOnly") && issued.contains("SameSite=Strict"));
        assert!(issued.contains("Path=/v1/authorization") && !issued.contains("Secure"));
        let device = cookies.read(&cookie_header(&issued)).expect("a good cookie");
        assert!(device.vouches_for(7, 3));
        assert!(!device.vouches_for(8, 3), "another user");
        assert!(!device.vouches_for(7, 4), "after the user's sessions ended");
        // Another portal's cookie, or one with a byte changed, is no cookie.
        let other = DeviceCookies::new(b"another secret, 32 bytes or more!", 180, true);
        assert!(other.read(&cookie_header(&issued)).is_none());
        assert!(other.issue(7, 3).ends_with("; Secure"));
        let forged = issued.replacen("ote_device=7.", "ote_device=8.", 1);
        assert!(cookies.read(&cookie_header(&forged)).is_none());
        assert!(cookies.read(&cookie_header("ote_device=garbage")).is_none());
        assert!(cookies.read(&HeaderMap::new()).is_none());
    }
}
