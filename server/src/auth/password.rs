//! Argon2id with the crate defaults (OWASP's m = 19 MiB, t = 2, p = 1), run on threads
//! of its own, one per core, at a lower CPU priority (nice 10) than the threads that
//! answer requests. A login flood then takes the CPU the reads leave idle, not theirs,
//! and each of those threads allocates the 19 MiB a hash needs once, at its first hash,
//! and keeps it. glibc does not reuse a freed 19 MiB block of this alignment: allocating
//! per hash, as the crate does, grew the heap by 19 MiB a login (600 MB after a flood).
//!
//! Work is admitted, not queued forever (SPEC.md section 8): the queue holds at most
//! `queue` jobs (beyond it the answer is 503 with `Retry-After`), and a job whose request
//! was abandoned meanwhile (its client hung up, so axum dropped the handler) is skipped.

use crate::error::ApiError;
use app::rules::Password;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Decimal, Ident, Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Passwords {
    jobs: flume::Sender<Job>,
    verifications: Arc<AtomicU64>,
    skipped: Arc<AtomicU64>,
    /// How long jobs waited for a thread (the `metrics` module registers it).
    pub wait: prometheus::Histogram,
    /// Jobs refused with 503 because the queue was full.
    pub rejected: prometheus::IntCounter,
}

type Job = Box<dyn FnOnce() + Send>;

/// Verified against when a login names no user, so both cases cost one verification. A
/// hash of a random password nobody kept, with the parameters every real hash has (a test
/// checks); a constant, so starting the server hashes nothing.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$IqtaQn2H1evtXbYU+9YQHQ$JSWL33uh9myLcWvTqF5mGkLCJ2OKsQGc6rOO9t6q928";

impl Passwords {
    /// `parallel` hashing threads (one per core is the sensible number) and room for
    /// `queue` waiting jobs. The threads end when the `Passwords` does.
    pub fn new(parallel: usize, queue: usize) -> Arc<Self> {
        let (jobs, queue) = flume::bounded::<Job>(queue.max(1));
        for i in 0..parallel.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    for job in queue.iter() {
                        // A panicking job drops its reply (the caller gets a 500); the
                        // thread goes on.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })
                .expect("the system can start a thread");
        }
        let wait = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new(
                "password_queue_wait_seconds",
                "How long password checks waited for a hashing thread",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
        )
        .expect("valid histogram options");
        let rejected = prometheus::IntCounter::new(
            "password_queue_rejected_total",
            "Password checks refused with 503 because the queue was full",
        )
        .expect("valid counter options");
        Arc::new(Self {
            jobs,
            verifications: Arc::default(),
            skipped: Arc::default(),
            wait,
            rejected,
        })
    }

    /// Jobs waiting for a thread now.
    pub fn waiting(&self) -> usize {
        self.jobs.len()
    }

    /// Runs `work` on a hashing thread, once one is free; 503 when the queue is full. If
    /// the caller stops waiting before a thread takes the job, the job is skipped.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let skipped = self.skipped.clone();
        let queued = self.wait.start_timer();
        let job: Job = Box::new(move || {
            queued.observe_duration();
            if reply.is_closed() {
                skipped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let _ = reply.send(work());
        });
        self.jobs.try_send(job).map_err(|err| match err {
            flume::TrySendError::Full(_) => {
                self.rejected.inc();
                ApiError::Unavailable {
                    message: "password: the server is busy checking passwords; try again shortly".into(),
                    retry_after: Some(1),
                }
            }
            flume::TrySendError::Disconnected(_) => ApiError::internal("the hashing threads have stopped"),
        })?;
        answer
            .await
            .map_err(|_| ApiError::internal("a hashing job failed"))
    }

    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let password = password.as_str().to_owned();
        self.run(move || hash_with(&ReusedMemory, &password)).await?
    }

    /// A hash made once at the first start (the first administrator's), with memory of
    /// its own that is given back at once: the hashing threads hold none until the first
    /// login.
    pub async fn hash_once(password: &Password) -> Result<String, ApiError> {
        let password = password.as_str().to_owned();
        tokio::task::spawn_blocking(move || hash_with(&Argon2::default(), &password))
            .await
            .map_err(ApiError::internal)?
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is no user.
    /// Exactly one Argon2 verification either way.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let found = hash.is_some();
        let hash = hash.unwrap_or(DUMMY_HASH).to_owned();
        let password = password.to_owned();
        let verifications = self.verifications.clone();
        let matches = self
            .run(move || {
                verifications.fetch_add(1, Ordering::Relaxed);
                let parsed = PasswordHash::new(&hash).map_err(|e| ApiError::internal(e.to_string()))?;
                Ok::<_, ApiError>(ReusedMemory.verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await??;
        Ok(found && matches)
    }

    /// How many verifications ran since start: lets tests see the dummy one happen.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// How many jobs were skipped because nobody waited for them any more.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// Lowers this thread's CPU priority. Linux keeps a niceness per thread, so naming this
/// thread's id leaves the others as they are. Where that fails, hashing runs as before.
fn lower_priority() {
    /// The niceness of the hashing threads (0 is the default, 19 the lowest priority).
    const NICENESS: i32 = 10;
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICENESS) {
        tracing::warn!(error = %err, "could not lower the priority of a hashing thread");
    }
}

thread_local! {
    /// A hashing thread's Argon2 memory, allocated at its first hash and kept.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 as `Argon2::default()` hashes and verifies (same defaults, same PHC strings,
/// the crate's constant-time comparison through `PasswordVerifier`), except that the
/// memory is this thread's `BLOCKS` instead of a fresh allocation per hash.
struct ReusedMemory;

impl PasswordHasher for ReusedMemory {
    type Params = Params;

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version.map(Version::try_from).transpose()?.unwrap_or_default();
        let salt = salt.into();
        let mut salt_buffer = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let block_count = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let output = BLOCKS.with_borrow_mut(|blocks| {
            if blocks.len() < block_count {
                blocks.resize(block_count, Block::default());
            }
            Output::init_with(output_len, |out| {
                Ok(argon2.hash_password_into_with_memory(
                    password,
                    salt_bytes,
                    out,
                    &mut blocks[..block_count],
                )?)
            })
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

fn hash_with(hasher: &impl PasswordHasher, password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher
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
        let real = hash_with(&ReusedMemory, "Abcdefg1").unwrap();
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

    #[test]
    fn reused_memory_hashes_exactly_as_the_crate_does() {
        let ours = hash_with(&ReusedMemory, "Abcdefg1").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"Abcdefg1", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"Abcdefg2", &parsed).is_err());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"Abcdefg1", &salt).unwrap();
        assert_eq!(ReusedMemory.hash_password(b"Abcdefg1", &salt).unwrap(), theirs);
        assert!(ReusedMemory.verify_password(b"Abcdefg1", &theirs).is_ok());
        assert!(ReusedMemory.verify_password(b"Abcdefg2", &theirs).is_err());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_unknown_users_cost_one_verification() {
        let passwords = Passwords::new(2, 8);
        let password = Password::parse("Abcdefg1").unwrap();
        let hash = passwords.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("Abcdefg1", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("Abcdefg2", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("Abcdefg1", None).await.unwrap());
        assert_eq!(passwords.verifications(), 3);
    }

    #[tokio::test]
    async fn a_full_queue_answers_503_and_abandoned_jobs_are_skipped() {
        let passwords = Passwords::new(1, 2);
        // Hold the one thread until released, then fill the queue.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, taken) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let passwords = passwords.clone();
            async move {
                let work = move || {
                    started.send(()).unwrap();
                    held.recv().ok()
                };
                passwords.run(work).await
            }
        });
        while taken.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        let abandoned: Vec<_> = (0..2)
            .map(|_| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.verify("Abcdefg1", None).await })
            })
            .collect();
        while passwords.jobs.len() < 2 {
            tokio::task::yield_now().await;
        }
        let err = passwords.verify("Abcdefg1", None).await.unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        for task in abandoned {
            task.abort();
            let _ = task.await;
        }
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // The thread drops the two abandoned jobs in its own time; until it has, the queue
        // is still full (if it hashed them instead, the count below says so).
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while passwords.skipped() < 2 {
                tokio::task::yield_now().await;
            }
        })
        .await;
        // The queue is empty again and the two abandoned jobs never hashed.
        assert!(!passwords.verify("Abcdefg1", None).await.unwrap());
        assert_eq!((passwords.skipped(), passwords.verifications()), (2, 1));
    }
}
