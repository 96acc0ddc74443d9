//! Random secrets and the digests they are kept as: session ids, personal tokens and
//! recovery codes carry enough random bits that a fast hash (SHA-256) is as good as a slow
//! one.

/// SHA-256 in hexadecimal: how personal tokens and recovery codes are kept (both carry
/// enough random bits that a slow hash would add nothing).
pub fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `bytes` random bytes in lowercase hexadecimal.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}
