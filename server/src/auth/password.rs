//! Argon2id with the crate defaults (OWASP's m = 19 MiB, t = 2, p = 1), run on the
//! blocking pool with a bounded number at once so a login flood cannot starve the
//! async threads or the memory.

use crate::error::ApiError;
use app::rules::Password;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

pub struct Passwords {
    permits: Semaphore,
    verifications: AtomicU64,
}

/// Verified against when a login names no user, so both cases cost one verification. A
/// hash of a random password nobody kept, with the parameters every real hash has (a test
/// checks); a constant, so starting the server hashes nothing.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$IqtaQn2H1evtXbYU+9YQHQ$JSWL33uh9myLcWvTqF5mGkLCJ2OKsQGc6rOO9t6q928";

impl Passwords {
    /// `parallel` hashes may run at once (one per core is the sensible number).
    pub fn new(parallel: usize) -> Arc<Self> {
        Arc::new(Self {
            permits: Semaphore::new(parallel.max(1)),
            verifications: AtomicU64::new(0),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let password = password.as_str().to_owned();
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(ApiError::internal)?
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is no user.
    /// Exactly one Argon2 verification either way.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        let found = hash.is_some();
        let hash = hash.unwrap_or(DUMMY_HASH).to_owned();
        let password = password.to_owned();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matches = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok::<_, ApiError>(
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .map_err(ApiError::internal)??;
        Ok(found && matches)
    }

    /// How many verifications ran since start: lets tests see the dummy one happen.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

fn hash_now(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A password that passes the rule: 16 characters with every class present.
pub fn random_password() -> String {
    use rand::Rng;
    use rand::seq::SliceRandom;
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rngs::OsRng;
    let all: Vec<u8> = [UPPER, LOWER, DIGIT].concat();
    let mut chars: Vec<u8> = vec![
        *UPPER.choose(&mut rng).expect("non-empty"),
        *LOWER.choose(&mut rng).expect("non-empty"),
        *DIGIT.choose(&mut rng).expect("non-empty"),
    ];
    chars.extend((0..13).map(|_| all[rng.gen_range(0..all.len())]));
    chars.shuffle(&mut rng);
    String::from_utf8(chars).expect("ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_the_parameters_of_real_hashes() {
        let real = hash_now("Abcdefg1").unwrap();
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn generated_passwords_pass_the_rule() {
        for _ in 0..100 {
            let password = random_password();
            assert!(Password::parse(&password).is_ok(), "{password}");
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_unknown_users_cost_one_verification() {
        let passwords = Passwords::new(2);
        let password = Password::parse("Abcdefg1").unwrap();
        let hash = passwords.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("Abcdefg1", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("Abcdefg2", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("Abcdefg1", None).await.unwrap());
        assert_eq!(passwords.verifications(), 3);
    }
}
