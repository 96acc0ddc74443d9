//! Personal access tokens as credentials: how one is told from a JWT (`PREFIX`), made,
//! and kept (only its digest). Their endpoints are `accounts::personal`.

use super::secret;

/// What every personal token starts with, so that it is told from a JWT at a glance (and
/// by secret scanners).
pub const PREFIX: &str = "otep_";
/// Random bytes in a token, after the prefix (as hexadecimal).
const RANDOM_BYTES: usize = 32;

pub fn looks_personal(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// A new token, as shown once to its owner.
pub fn new_token() -> String {
    format!("{PREFIX}{}", secret::random_hex(RANDOM_BYTES))
}

/// The digest a token is kept and found by.
pub fn digest(token: &str) -> String {
    secret::digest(token)
}
