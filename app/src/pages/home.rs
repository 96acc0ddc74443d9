//! Home: what waits for me first (the system administrator's queue; a business admin's
//! business, members and pending users), then who I am (name, role and status in words),
//! the platform flags, and changing my password.

use crate::client;
use crate::components::{Field, FormErrors, Notice, PasswordChecklist, role_text};
use crate::i18n::{T, use_i18n};
use crate::model::{
    BusinessQuery, BusinessStatus, PageQuery, PageSize, PasswordChange, Role, StatusFilter, UserQuery,
    UserStatus,
};
use crate::rules::{Password, Text};
use crate::session::use_session;
use leptos::prelude::*;

#[component]
pub fn Home() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    // Nobody signed in: the login form is the home page.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if session.me() == Some(None) && client::session().is_none() {
            client::to_login("signed-out");
        }
    });
    let flag = move |on: bool| if on { i18n.now(T::On) } else { i18n.now(T::Off) };

    view! {
        {move || match session.role() {
            Some(Role::SystemAdmin) => view! { <QueueCard /> }.into_any(),
            Some(Role::BusinessAdmin) => view! { <MyBusinessCard /> }.into_any(),
            _ => ().into_any(),
        }}
        <section class="card">
            {move || match session.me().flatten() {
                None => view! { <p>{i18n.t(T::Loading)}</p> }.into_any(),
                Some(me) => {
                    let status = if me.role == Role::Pending { T::UserStatus0 } else { T::UserStatus1 };
                    view! {
                        <h1>{me.display_name.clone()}</h1>
                        <dl class="facts">
                            <dt>{i18n.t(T::Role)}</dt>
                            <dd data-role=(me.role as u8).to_string()>{i18n.t(role_text(me.role))}</dd>
                            <dt>{i18n.t(T::Status)}</dt>
                            <dd>{i18n.t(status)}</dd>
                            <dt>{i18n.t(T::AdminFlag)}</dt>
                            <dd>{move || if me.is_admin { i18n.now(T::Yes) } else { i18n.now(T::No) }}</dd>
                            <dt>{i18n.t(T::RepoAccount)}</dt>
                            <dd>{move || if me.has_repo_account { i18n.now(T::Yes) } else { i18n.now(T::No) }}</dd>
                        </dl>
                        <h2>{i18n.t(T::PlatformFlags)}</h2>
                        <dl class="facts">
                            <dt>{i18n.t(T::FlagPrivateProject)}</dt>
                            <dd>{move || flag(me.private_project)}</dd>
                            <dt>{i18n.t(T::FlagIngress)}</dt>
                            <dd>{move || flag(me.enable_ingress)}</dd>
                            <dt>{i18n.t(T::FlagAlert)}</dt>
                            <dd>{move || flag(me.enable_alert)}</dd>
                            <dt>{i18n.t(T::FlagAutoDeploy)}</dt>
                            <dd>{move || flag(me.enable_admin_auto_deploy)}</dd>
                        </dl>
                        {(me.role == Role::Pending).then(|| view! { <p class="notice">{i18n.t(T::AwaitingText)}</p> })}
                    }
                        .into_any()
                }
            }}
        </section>
        <ChangePassword />
    }
}

/// "3 days": how long ago `since` (Unix seconds) was, in the largest whole unit.
fn waited(i18n: crate::i18n::I18n, since: i64) -> String {
    #[cfg(feature = "hydrate")]
    let now = (client::now_ms() / 1000) as i64;
    #[cfg(not(feature = "hydrate"))]
    let now = since;
    let seconds = (now - since).max(0);
    match seconds {
        s if s < 60 => i18n.fill_t(T::LessThanAMinute, ""),
        s if s < 3_600 => i18n.fill_t(T::Minutes, s / 60),
        s if s < 86_400 => i18n.fill_t(T::Hours, s / 3_600),
        s => i18n.fill_t(T::Days, s / 86_400),
    }
}

/// The system administrator's queue: pending users and businesses, each a link to its
/// filtered list, with the oldest waiting time.
#[component]
fn QueueCard() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let line = move |href: &'static str, label: T, count: i64, oldest: Option<i64>| {
        view! {
            <li>
                <a href=href data-queue=href>
                    <span class="big-count">{count}</span>
                    " "
                    {i18n.t(label)}
                </a>
                <span class="muted">
                    " · "
                    {move || match oldest {
                        Some(since) => i18n.fill_t(T::OldestWaiting, waited(i18n, since)),
                        None => i18n.fill_t(T::NobodyWaits, ""),
                    }}
                </span>
            </li>
        }
    };
    view! {
        <section class="card" aria-labelledby="queue-title">
            <h2 id="queue-title">{i18n.t(T::WaitingForYou)}</h2>
            {move || match session.queue().flatten() {
                None => view! { <p>{i18n.t(T::Loading)}</p> }.into_any(),
                Some(q) => {
                    view! {
                        <ul class="queue">
                            {line("/users?status=0", T::PendingUsers, q.pending_users, q.oldest_user_time)}
                            {line("/business?status=0", T::PendingBusinesses, q.pending_businesses, q.oldest_business_time)}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A business admin's business: its name (linked), its members, and its users waiting for
/// the system administrator's approval (those are the requests a business admin can see).
#[component]
fn MyBusinessCard() -> impl IntoView {
    let i18n = use_i18n();
    let summary = LocalResource::new(move || async move {
        let size = |rows| PageSize::new(rows).unwrap_or_default();
        let businesses = BusinessQuery {
            page_size: size(100),
            ..Default::default()
        };
        let businesses = client::list_businesses(&businesses).await.ok()?;
        let business = businesses
            .data?
            .into_iter()
            .find(|b| b.status == BusinessStatus::Approved)?;
        let one = PageQuery {
            page_size: size(1),
            ..Default::default()
        };
        let members = client::list_members(business.id, &one)
            .await
            .ok()
            .and_then(|e| e.total)
            .unwrap_or(0);
        let pending = UserQuery {
            status: Some(StatusFilter(UserStatus::Pending)),
            page_size: size(1),
            ..Default::default()
        };
        let pending = client::list_users(&pending)
            .await
            .ok()
            .and_then(|e| e.total)
            .unwrap_or(0);
        Some((business, members, pending))
    });
    view! {
        <section class="card" aria-labelledby="my-business-title">
            <h2 id="my-business-title">{i18n.t(T::MyBusiness)}</h2>
            {move || match summary.get() {
                None => view! { <p>{i18n.t(T::Loading)}</p> }.into_any(),
                Some(None) => view! { <p>{i18n.t(T::NoBusinessYet)}</p> }.into_any(),
                Some(Some((business, members, pending))) => {
                    view! {
                        <dl class="facts">
                            <dt>{i18n.t(T::BusinessName)}</dt>
                            <dd>
                                <a href=format!("/business/{}", business.id)>{business.name.clone()}</a>
                            </dd>
                            <dt>{i18n.t(T::Members)}</dt>
                            <dd>
                                <a href="/users" data-members=members.to_string()>{members}</a>
                            </dd>
                            <dt>{i18n.t(T::PendingRequests)}</dt>
                            <dd>
                                <a href="/users?status=0" data-pending=pending.to_string()>{pending}</a>
                            </dd>
                        </dl>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let i18n = use_i18n();
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let old_password = errors.check(i18n, "oldPassword", Text::parse(&old.get_untracked()));
        let password = errors.check(i18n, "password", Password::parse(&new.get_untracked()));
        let (Some(old_password), Some(password)) = (old_password, password) else {
            return;
        };
        let change = PasswordChange {
            old_password,
            password,
        };
        leptos::task::spawn_local(async move {
            match client::change_password(&change).await {
                // Every token of mine ended with the change: sign in again.
                #[cfg(feature = "hydrate")]
                Ok(_) => client::to_login("password-changed"),
                #[cfg(not(feature = "hydrate"))]
                Ok(_) => {}
                Err(failure) => errors.show(i18n, &failure, &["oldPassword", "password"]),
            }
        });
    };
    view! {
        <section class="card narrow">
            <h2>{i18n.t(T::ChangePassword)}</h2>
            <Notice message=errors.general />
            <form class="form" novalidate on:submit=submit>
                <Field
                    id="old-password"
                    label=T::OldPassword
                    value=old
                    error=errors.of("oldPassword")
                    kind="password"
                    autocomplete="current-password"
                />
                <Field
                    id="new-password"
                    label=T::NewPassword
                    value=new
                    error=errors.of("password")
                    kind="password"
                    autocomplete="new-password"
                />
                <PasswordChecklist value=new />
                <button type="submit">{i18n.t(T::ChangePassword)}</button>
            </form>
        </section>
    }
}
