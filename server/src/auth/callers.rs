//! Recently loaded callers, kept under the token itself (a personal token under its
//! digest) with a session's verified claims: a token seen again is not decoded and checked
//! again, only for expiry. An entry holds until any write transaction ends that this
//! process knows of, or `OTE_CALLER_CACHE_MILLIS` pass. With SQLite this process is the
//! only writer that serves; PostgreSQL replicas hear of each other's writes through
//! `db::listen` (and keep nothing while they cannot hear).

use super::caller::CallerRow;
use super::token::Claims;
use foldhash::fast::RandomState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Recently loaded callers by token (a personal token's digest; see the module notes).
pub struct Callers {
    /// How long an entry is good for at most; zero turns the cache off.
    max_age: Duration,
    /// foldhash rather than std's SipHash: a token is some 300 bytes, and SipHash spent
    /// about 900 instructions a read on it. Only credentials that were checked become keys,
    /// so nobody can choose keys that collide.
    entries: Mutex<HashMap<String, Cached, RandomState>>,
}

struct Cached {
    writes: u64,
    loaded: Instant,
    hit: Hit,
}

/// What a kept caller gives back: its row and, for a session, the token's verified claims.
#[derive(Clone)]
pub(super) struct Hit {
    pub(super) row: Arc<CallerRow>,
    pub(super) claims: Option<Arc<Claims>>,
}

impl Callers {
    /// Past this many tokens the cache starts afresh rather than grow.
    const MAX_ENTRIES: usize = 10_000;

    /// `max_age` bounds what could still slip by: a write whose request was cancelled
    /// while its COMMIT was on the way, or a notification lost without the loss being seen.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            entries: Mutex::default(),
        }
    }

    /// The entries; a panic elsewhere while they were held leaves nothing half-written
    /// that matters (the worst is an entry that goes stale early).
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached, RandomState>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn enabled(&self) -> bool {
        !self.max_age.is_zero()
    }

    pub(super) fn get(&self, key: &str, writes_now: Option<u64>) -> Option<Hit> {
        let writes_now = writes_now?;
        if !self.enabled() {
            return None;
        }
        let entries = self.entries();
        let cached = entries.get(key)?;
        (cached.writes == writes_now && cached.loaded.elapsed() < self.max_age).then(|| cached.hit.clone())
    }

    /// Notes in a cached entry that its session or token was just marked as used, so the
    /// requests of the next minute do not mark it again.
    pub(super) fn touch(&self, key: &str, now: i64) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries();
        if let Some(cached) = entries.get_mut(key) {
            Arc::make_mut(&mut cached.hit.row).seen = now;
        }
    }

    pub(super) fn put(
        &self,
        key: &str,
        writes: Option<u64>,
        row: Arc<CallerRow>,
        claims: Option<Arc<Claims>>,
    ) {
        let Some(writes) = writes else {
            return;
        };
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        let loaded = Instant::now();
        let hit = Hit { row, claims };
        entries.insert(key.to_owned(), Cached { writes, loaded, hit });
    }
}
