//! The delivery worker, one task per server process. Each endpoint's oldest pending
//! delivery is its next one (a later event waits while an earlier one is retrying), once
//! due. A worker takes a delivery by setting its lease in one conditional `UPDATE`, so
//! with PostgreSQL any number of replicas share the work and never send one delivery twice
//! at once; a worker that dies leaves a lease that runs out, and the delivery is sent
//! again (at least once), after the lease runs out: twice the request's timeout and 5 s.

use super::policy::Destinations;
use super::sign;
use crate::clock::{now, now_ms};
use crate::config::WebhookSettings;
use crate::state::AppState;
use std::time::Duration;

/// Deliveries one pass of the worker takes at most (each to a different endpoint).
const BATCH: i64 = 32;
/// Bytes of a response body kept in `last_error`.
const KEPT_BODY: usize = 256;

/// The HTTP client of deliveries: rustls, no redirects, the configured timeout, and names
/// resolved only to allowed addresses.
pub fn client(settings: &WebhookSettings, destinations: Destinations) -> reqwest::Client {
    reqwest::Client::builder()
        // Straight to the endpoint: through `HTTP_PROXY` and its kin, the proxy would
        // resolve and connect on its own, past the address rule.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(settings.webhook_timeout_millis))
        .dns_resolver(std::sync::Arc::new(destinations))
        .user_agent(concat!("ote-portal-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the webhook client's settings are valid")
}

/// Runs until the task is dropped.
pub async fn run(state: AppState) {
    let poll = Duration::from_millis(state.config.webhooks.webhook_poll_millis);
    loop {
        match pass(&state).await {
            // Something was sent: look again at once (the next events may be due).
            Ok(sent) if sent > 0 => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "webhooks: a pass of the delivery worker failed"),
        }
        tokio::select! {
            _ = state.db.next_commit() => {}
            _ = state.webhooks.finished.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    event_id: i64,
    attempts: i64,
    give_up_ms: i64,
    url: String,
    secret: String,
    payload: String,
}

/// Starts sending every endpoint's next delivery that is due and free; returns how many.
pub async fn pass(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = now_ms();
    let due: Vec<Due> = sqlx::query_as(
        "SELECT d.id, d.event_id, d.attempts, d.give_up_ms, w.url, w.secret, e.payload \
         FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id \
         WHERE d.status = 'pending' AND w.enabled = 1 AND d.next_attempt_ms <= $1 AND d.lease_until_ms < $1 \
           AND d.id = (SELECT MIN(h.id) FROM deliveries h WHERE h.webhook_id = d.webhook_id AND h.status = 'pending') \
         ORDER BY d.id LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(&state.db.pool)
    .await?;
    let settings = &state.config.webhooks;
    // Longer than an attempt can take (the address check and the request, each bounded by
    // the timeout): no second sender while the first may still be at it. A worker killed
    // mid-send holds its endpoint's queue this long at most.
    let lease = now + 2 * settings.webhook_timeout_millis as i64 + 5_000;
    let mut sent = 0;
    for delivery in due {
        let taken = sqlx::query(
            "UPDATE deliveries SET lease_until_ms = $1 WHERE id = $2 AND status = 'pending' AND lease_until_ms < $3",
        )
        .bind(lease)
        .bind(delivery.id)
        .bind(now)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
        if taken == 1 {
            // Each send runs on its own: a hanging endpoint holds its own queue (its
            // lease), never the next pass, so no other endpoint waits for it.
            let state = state.clone();
            tokio::spawn(async move {
                let id = delivery.id;
                if let Err(err) = send(&state, delivery).await {
                    tracing::warn!(delivery = id, error = %err, "webhooks: could not record a delivery attempt");
                }
                state.webhooks.finished.notify_one();
            });
            sent += 1;
        }
    }
    Ok(sent)
}

/// One attempt, and what it leaves in the delivery's row.
async fn send(state: &AppState, delivery: Due) -> Result<(), sqlx::Error> {
    let settings = &state.config.webhooks;
    let id = format!("evt_{}", delivery.event_id);
    let timestamp = now();
    let signature = sign::signature(&delivery.secret, &id, timestamp, &delivery.payload);
    let limit = Duration::from_millis(settings.webhook_timeout_millis);
    let checked = tokio::time::timeout(limit, state.webhooks.destinations.check(&delivery.url))
        .await
        .unwrap_or_else(|_| Err("the host name did not resolve in time".into()));
    let outcome = match checked {
        Err(reason) => Err((None, format!("url: {reason}"))),
        Ok(()) => {
            let request = state
                .webhooks
                .client
                .post(&delivery.url)
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(delivery.payload.clone());
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let body = read_some(response).await;
                    if status.is_success() {
                        Ok(status.as_u16())
                    } else {
                        Err((Some(status.as_u16()), format!("HTTP {}: {body}", status.as_u16())))
                    }
                }
                Err(err) => Err((None, describe(err))),
            }
        }
    };
    let now = now_ms();
    let attempts = delivery.attempts + 1;
    let give_up = if delivery.give_up_ms == crate::outbox::NOT_STARTED {
        now + settings.webhook_give_up_seconds as i64 * 1000
    } else {
        delivery.give_up_ms
    };
    match outcome {
        Ok(code) => {
            sqlx::query(
                "UPDATE deliveries SET status = 'delivered', attempts = $1, last_status_code = $2, last_error = NULL, \
                 lease_until_ms = 0, give_up_ms = $3 WHERE id = $4",
            )
            .bind(attempts)
            .bind(i64::from(code))
            .bind(give_up)
            .bind(delivery.id)
            .execute(&state.db.pool)
            .await?;
            state.webhooks.outcomes.with_label_values(&["delivered"]).inc();
        }
        Err((code, error)) => {
            let next = now + backoff(settings, attempts);
            let status = if next >= give_up { "failed" } else { "pending" };
            tracing::info!(delivery = delivery.id, attempts, status, error = %error, "webhooks: delivery attempt failed");
            sqlx::query(
                "UPDATE deliveries SET status = $1, attempts = $2, last_status_code = $3, last_error = $4, \
                 next_attempt_ms = $5, lease_until_ms = 0, give_up_ms = $6 WHERE id = $7",
            )
            .bind(status)
            .bind(attempts)
            .bind(code.map(i64::from))
            .bind(error)
            .bind(next)
            .bind(give_up)
            .bind(delivery.id)
            .execute(&state.db.pool)
            .await?;
            let outcome = if status == "failed" { "failed" } else { "retrying" };
            state.webhooks.outcomes.with_label_values(&[outcome]).inc();
        }
    }
    Ok(())
}

/// The delay before attempt `attempts + 1`: the base doubled per attempt, at most the
/// maximum, then between 80% and 120% of that (jitter, so endpoints that failed together
/// are not all retried together).
pub fn backoff(settings: &WebhookSettings, attempts: i64) -> i64 {
    let exponent = (attempts - 1).clamp(0, 40) as u32;
    let delay = settings
        .webhook_retry_base_millis
        .saturating_mul(1u64 << exponent.min(40))
        .min(settings.webhook_retry_max_millis);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    ((delay as f64) * jitter) as i64
}

/// The start of a response body, for the delivery log.
async fn read_some(mut response: reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < KEPT_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            _ => break,
        }
    }
    kept.truncate(KEPT_BODY);
    String::from_utf8_lossy(&kept)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

fn describe(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    // reqwest names the whole URL in its errors; the log and the delivery's `last_error`
    // show scheme, host and port only.
    let err = err.without_url();
    let mut text = format!("request {kind}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text.chars().take(512).collect()
}

/// What the worker needs besides the database: the client and the address rule.
pub struct Webhooks {
    pub client: reqwest::Client,
    pub destinations: Destinations,
    /// Attempts by outcome: `delivered`, `retrying` (failed, tried again later) or
    /// `failed` (given up); the `metrics` module registers it.
    pub outcomes: prometheus::IntCounterVec,
    /// Rung when a send has finished: its endpoint's next delivery may be due.
    finished: tokio::sync::Notify,
}

impl Webhooks {
    pub fn new(settings: &WebhookSettings) -> Self {
        let destinations = Destinations::new(settings.webhook_allowed_networks.clone());
        let outcomes = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery attempts by outcome: delivered, retrying, failed (given up)",
            ),
            &["outcome"],
        )
        .expect("valid counter options");
        for outcome in ["delivered", "retrying", "failed"] {
            outcomes.with_label_values(&[outcome]);
        }
        Self {
            client: client(settings, destinations.clone()),
            destinations,
            outcomes,
            finished: tokio::sync::Notify::new(),
        }
    }
}
