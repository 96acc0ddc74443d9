//! The reference of the login benchmark: raw Argon2 verifications per second, with the
//! portal's parameters (the argon2 crate's defaults, as `server::auth::password` uses
//! them), one thread per core, nothing else running.
//! Usage: `argon2-verify SECONDS`; prints the verifications per second.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let password = b"Bench1admin";
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password, &salt)
        .expect("hash")
        .to_string();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let verified = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while Instant::now() < deadline {
                    // Parsed each time, as the portal does.
                    let parsed = PasswordHash::new(&hash).expect("parse");
                    assert!(Argon2::default().verify_password(password, &parsed).is_ok());
                    verified.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let rate = verified.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    println!("{rate:.1}");
}
