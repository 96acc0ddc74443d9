//! Home: who I am (name, role and status in words), the platform flags, and changing my
//! password.

use super::FormErrors;
use crate::client::{self, Method};
use crate::components::{Field, Notice, PasswordChecklist, role_text};
use crate::i18n::{T, use_i18n};
use crate::model::{PasswordChange, Role};
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
        if session.me.get() == Some(None) && client::session().is_none() {
            client::to_login("signed-out");
        }
    });
    let flag = move |on: bool| if on { i18n.now(T::On) } else { i18n.now(T::Off) };

    view! {
        <section class="card">
            {move || match session.me.get().flatten() {
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
            match client::call::<()>(Method::Put, "/v1/user", Some(&change)).await {
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
