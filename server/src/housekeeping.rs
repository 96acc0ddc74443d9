//! What anonymous input leaves behind is purged on a timer (SPEC.md section 8: nothing
//! grows without bound): throttle rows out of their window, revocations of tokens that
//! have expired (after the leeway tokens are still accepted in), idle rate-limit buckets,
//! sessions whose tokens have all expired, expired personal tokens, and enrolments in
//! two-factor sign-in left unconfirmed for a day, settled deliveries and their events
//! after 30 days, and the identity provider's expired codes, refresh tokens and grants.

use crate::auth::{session, throttle, token};
use crate::clock::now;
use crate::state::AppState;
use std::time::Duration;

/// Runs until the task is dropped, every `OTE_SWEEP_SECONDS`.
pub async fn run(state: AppState) {
    let every = Duration::from_secs(state.config.limits.sweep_seconds);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = sweep(&state).await {
            tracing::warn!(error = %err, "housekeeping: could not purge expired rows");
        }
        state.limits.forget_idle();
    }
}

pub async fn sweep(state: &AppState) -> Result<(), sqlx::Error> {
    let now = now();
    let failures = throttle::purge(
        &state.db,
        state.config.accounts.code_failure_window_seconds as i64,
        now,
    )
    .await?;
    let revocations = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(now - token::LEEWAY_SECONDS as i64)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    let sessions = session::purge(&state.db, state.config.accounts.seen_seconds, now).await?;
    let personal_tokens = sqlx::query("DELETE FROM personal_tokens WHERE expire_time <= $1")
        .bind(now)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    let enrolments = sqlx::query("DELETE FROM totp WHERE active = 0 AND create_time < $1")
        .bind(now - 24 * 60 * 60)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    let events = crate::outbox::purge(&state.db, now).await?;
    let sign_ins = session::purge_grants(&state.db, &state.config.oidc, now).await?;
    if failures + revocations + sessions + personal_tokens + enrolments + events + sign_ins > 0 {
        tracing::debug!(
            failures,
            revocations,
            sessions,
            personal_tokens,
            enrolments,
            events,
            sign_ins,
            "housekeeping: purged expired rows"
        );
    }
    Ok(())
}
