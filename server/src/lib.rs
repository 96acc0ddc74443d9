//! OTE Portal's server: configuration, database, the `/v1` API and the server-rendered
//! pages, in one axum router. `main.rs` only wires it to the process.

// The storeys, top first; a module imports only from storeys below it, or from its own
// area (README, "Architecture"; `tests/layers.rs` checks it).
// Wiring: the process, the routers, the console, background tasks.
pub mod bootstrap;
pub mod console;
pub mod housekeeping;
pub mod logging;
pub mod metrics;
pub mod routes;
// Handlers, one area each, each with its `routes()`.
pub mod accounts;
pub mod api;
pub mod oidc;
pub mod webhooks;
// What handlers share: rows and their checks, the audit writer and its outbox, replies,
// paging.
pub mod audit;
pub mod outbox;
pub mod reply;
pub mod rows;
pub mod window;
// Who is calling and may they; credentials and their lifecycle.
pub mod auth;
// Storage, settings, the clock, errors, extractors, limits, and the state every handler
// gets.
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod limits;
pub mod net;
pub mod stamp;
pub mod state;

use crate::auth::callers::Callers;
use crate::auth::device::DeviceCookies;
use crate::auth::keys::KeyRing;
use crate::auth::password::Passwords;
use crate::auth::token;
use crate::auth::token::Tokens;
use crate::bootstrap::FirstAdmin;
use crate::config::Config;
use crate::db::Db;
use crate::state::{AppState, Shared};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the server did not start; each message names the setting to look at.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("DATABASE_URL: cannot open {url}: {source}")]
    Database { url: String, source: sqlx::Error },
    #[error("DATABASE_URL: cannot migrate {url}: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("LEPTOS_SITE_ADDR: cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("DATABASE_URL: cannot prepare {url}: {source}")]
    Bootstrap { url: String, source: error::ApiError },
    #[error("OTE_METRICS_ADDR: cannot listen on {addr}: {source}")]
    MetricsListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("OTE_METRICS_ADDR: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("LEPTOS_*: {0}")]
    Leptos(String),
}

/// A started portal: database open and migrated, socket bound, not yet serving.
pub struct Portal {
    pub state: AppState,
    listener: TcpListener,
    /// `GET /metrics`, when `OTE_METRICS_ADDR` is set.
    metrics_listener: Option<TcpListener>,
}

impl Portal {
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let url = config.database_url.to_string();
        let db = Db::connect(&config.database_url)
            .await
            .map_err(|source| StartError::Database {
                url: url.clone(),
                source,
            })?;
        db.migrate().await.map_err(|source| StartError::Migrate {
            url: url.clone(),
            source,
        })?;
        let bootstrap_failed = |source: error::ApiError| StartError::Bootstrap {
            url: url.clone(),
            source,
        };

        let secret = bootstrap::jwt_secret(&db, config.jwt_secret.as_ref())
            .await
            .map_err(|e| bootstrap_failed(e.into()))?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let passwords = Passwords::new(cores, config.limits.password_queue as usize);
        match bootstrap::first_admin(&db, &config)
            .await
            .map_err(bootstrap_failed)?
        {
            FirstAdmin::AlreadyThere => {}
            FirstAdmin::Created {
                name,
                generated_password: Some(password),
            } => {
                // Printed, not logged: no secret ever goes into a log line (log shippers
                // keep them); this one is for the person starting the portal.
                tracing::warn!(
                    "created the first system administrator '{name}' with a generated password (printed on stderr)"
                );
                eprintln!(
                    "ote-portal: the first system administrator '{name}' has the generated password {password} \
                     (shown only this once: write it down, then change it in the portal)"
                );
            }
            FirstAdmin::Created {
                name,
                generated_password: None,
            } => {
                tracing::info!(
                    "created the first system administrator '{name}' with the password of OTE_ADMIN_PASSWORD"
                )
            }
        }

        let mut leptos = leptos::config::get_configuration(None)
            .map_err(|e| StartError::Leptos(e.to_string()))?
            .leptos_options;
        leptos.site_addr = config.site_addr;

        let listener = TcpListener::bind(config.site_addr)
            .await
            .map_err(|source| StartError::Listen {
                addr: config.site_addr,
                source,
            })?;
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::MetricsListen { addr, source })?,
            ),
            None => None,
        };
        let callers = Arc::new(Callers::new(std::time::Duration::from_millis(
            config.accounts.caller_cache_millis,
        )));
        let limits = Arc::new(crate::limits::Limits::new(&config.limits));
        let config_webhooks = config.webhooks.clone();
        // Secure when the portal says it is served over HTTPS (`OTE_HSTS`).
        let devices = DeviceCookies::new(
            secret.bytes(),
            config.accounts.device_cookie_days,
            config.limits.hsts,
        );
        let issuer = match &config.oidc.public_url {
            Some(url) => url.clone(),
            None => format!(
                "http://{}",
                listener.local_addr().map_err(|source| StartError::Listen {
                    addr: config.site_addr,
                    source,
                })?
            ),
        };
        let keys = Arc::new(KeyRing::new(config.oidc.access_seconds + token::LEEWAY_SECONDS));
        let mut state = Shared {
            db,
            config: Arc::new(config),
            tokens: Arc::new(Tokens::new(secret.bytes())),
            devices: Arc::new(devices),
            passwords,
            keys,
            issuer: issuer.into(),
            callers,
            limits,
            webhooks: Arc::new(webhooks::Webhooks::new(&config_webhooks)),
            metrics: None,
            leptos,
        };
        if metrics_listener.is_some() {
            state.metrics = Some(Arc::new(metrics::Metrics::new(&state)?));
        }
        Ok(Self {
            state: AppState::new(state),
            listener,
            metrics_listener,
        })
    }

    /// The address of the metrics listener, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and closes
    /// the database.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = routes::router(self.state.clone());
        tracing::info!("listening on http://{}", self.local_addr());
        let housekeeping = tokio::spawn(housekeeping::run(self.state.clone()));
        let deliveries = tokio::spawn(webhooks::worker::run(self.state.clone()));
        // The identity provider's first key is made now rather than at its first request.
        let state = self.state.clone();
        tokio::spawn(async move {
            if let Err(err) = state.keys.current(&state.db).await {
                tracing::warn!(error = %err, "identity provider: could not make a signing key yet");
            }
        });
        let listener = tokio::spawn(db::listen::run(self.state.db.clone()));
        let metrics = self.metrics_listener.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!("metrics on http://{addr}/metrics");
            }
            let router = metrics::router(self.state.clone());
            tokio::spawn(async move { axum::serve(listener, router).await })
        });
        // `into_make_service*` shares the router with each connection; handing axum the
        // router itself copies every route per connection (about 50 KB each, measured with
        // valgrind's massif: bench/README.md). The peer's address is what `limits` starts from.
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await?;
        housekeeping.abort();
        deliveries.abort();
        listener.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        self.state.db.pool.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
