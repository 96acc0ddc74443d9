//! Who is signed in, as a context: the caller of `GET /v1/authorization` (loaded in the
//! browser, since the token lives there), the timer that renews the token, signing out,
//! and whether the page is hydrated yet (until then none of this shows).

use crate::client;
use crate::model::{Authorization, Queue, Role};
use leptos::prelude::*;

/// Who is signed in and the system administrator's queue, read through `me` and `queue`.
#[derive(Clone, Copy)]
pub struct Session {
    me: LocalResource<Option<Authorization>>,
    queue: LocalResource<Option<Queue>>,
    queue_tick: Trigger,
}

pub fn provide_session() -> Session {
    let me = LocalResource::new(current_user);
    let queue_tick = Trigger::new();
    let queue = LocalResource::new(move || {
        queue_tick.track();
        let system_admin = me.get().flatten().map(|me| me.role) == Some(Role::SystemAdmin);
        async move {
            if !system_admin {
                return None;
            }
            client::queue().await.ok().and_then(|e| e.data)
        }
    });
    let session = Session {
        me,
        queue,
        queue_tick,
    };
    provide_context(session);
    #[cfg(feature = "hydrate")]
    {
        // Renew the token of an open page before it expires, even when idle.
        Effect::new(|_| {
            let handle = set_interval_with_handle(
                || {
                    if let Some(stored) = client::session()
                        && client::now_ms().saturating_sub(stored.obtained) > client::RENEW_AFTER_MS
                    {
                        leptos::task::spawn_local(async {
                            let _ = client::renew().await;
                        });
                    }
                },
                std::time::Duration::from_secs(60),
            );
            on_cleanup(move || {
                if let Ok(handle) = handle {
                    handle.clear();
                }
            });
        });
    }
    session
}

thread_local! {
    static HYDRATED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// Whether the browser has hydrated the page the server rendered, its lazy route
/// included (tracked). Until then a view must render what the server did: a route whose
/// code is still loading hydrates after the session's calls may have answered, and a
/// view that showed their answer then would not match the server's HTML. On the server,
/// always false.
pub fn hydrated() -> bool {
    HYDRATED.with(|flag| flag.get())
}

/// Called by the browser entry point once hydration is over (`frontend`).
pub fn hydration_finished() {
    HYDRATED.with(|flag| flag.set(true));
}

/// Logs out (the token is revoked on the server) and returns to the login form; the
/// consent page, which signs the person in itself, stays and learns that nobody is.
pub fn sign_out() {
    #[cfg(feature = "hydrate")]
    {
        let session = use_context::<Session>();
        leptos::task::spawn_local(async move {
            let _ = client::sign_out().await;
            client::to_login("signed-out");
            if let Some(session) = session {
                session.reload_me();
            }
        });
    }
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

async fn current_user() -> Option<Authorization> {
    // Nobody signed in on this browser: no call to make.
    #[cfg(feature = "hydrate")]
    client::session()?;
    client::current_user()
        .await
        .ok()
        .and_then(|envelope| envelope.data)
}

impl Session {
    /// The caller: `None` while loading, `Some(None)` when nobody is signed in. `None`
    /// too until the page is hydrated: the server rendered it without the caller.
    pub fn me(self) -> Option<Option<Authorization>> {
        hydrated().then(|| self.me.get()).flatten()
    }

    /// The caller changed (signed in, two-factor turned on or off): load it again.
    pub fn reload_me(self) {
        self.me.refetch();
    }

    /// The system administrator's queue (`Some(None)` for anyone else), loaded again
    /// whenever `touch` is called: after an approval or a refusal, and when the page
    /// changes. Like `me`, `None` until the page is hydrated.
    pub fn queue(self) -> Option<Option<Queue>> {
        hydrated().then(|| self.queue.get()).flatten()
    }

    pub fn role(self) -> Option<Role> {
        self.me().flatten().map(|me| me.role)
    }

    /// Something the queue counts may have changed.
    pub fn touch(self) {
        self.queue_tick.notify();
    }
}
