//! What every handler can reach: the database, the configuration, the token and device-cookie keys, the
//! password hasher, the per-client limits, the webhook client, the metrics and the Leptos options.

use crate::auth::callers::Callers;
use crate::auth::device::DeviceCookies;
use crate::auth::keys::KeyRing;
use crate::auth::password::Passwords;
use crate::auth::token::Tokens;
use crate::config::Config;
use crate::db::Db;
use crate::limits::Limits;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// The state every handler gets. axum clones it for each request (and the `State`
/// extractor again), so it is one reference to what is shared: cloning the fields one by
/// one was about twenty reference counts and a copy of the database URL, twice a request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Clone)]
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    pub tokens: Arc<Tokens>,
    /// Signs and reads the browsers' device cookies (`auth::device`).
    pub devices: Arc<DeviceCookies>,
    pub passwords: Arc<Passwords>,
    /// The identity provider's signing keys (`auth::keys`).
    pub keys: Arc<KeyRing>,
    /// The identity provider's issuer: `OTE_PUBLIC_URL`, or `http://` and the bound address.
    pub issuer: Arc<str>,
    pub callers: Arc<Callers>,
    pub limits: Arc<Limits>,
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Set when `OTE_METRICS_ADDR` is.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    pub leptos: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
