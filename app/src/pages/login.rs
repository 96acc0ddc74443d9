//! Signing in (the form, shared with the consent page), and the page a new registration
//! waits on.

use crate::client;
use crate::components::{Field, FormErrors, Notice};
use crate::i18n::{T, use_i18n};
use crate::model::{Authorization, Credentials, Role};
use crate::rules::Text;
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Login() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let navigate = leptos_router::hooks::use_navigate();
    let reason = move || match query.get().get("reason").as_deref() {
        Some("expired") => Some((false, i18n.now(T::SessionEnded).to_owned())),
        Some("password-changed") => Some((true, i18n.now(T::PasswordChangedSignIn).to_owned())),
        _ => None,
    };
    let signed_in = move |me: Option<Authorization>| {
        let target = match me {
            Some(me) if me.role == Role::Pending => "/awaiting",
            Some(me) if me.totp_required && !me.totp => "/security?reason=enrol",
            _ => "/",
        };
        navigate(target, Default::default());
    };
    view! {
        <section class="card narrow">
            <h1>{i18n.t(T::SignIn)}</h1>
            <SignInForm reason=Signal::derive(reason) signed_in />
            <p>
                {i18n.t(T::NoAccount)} " " <a href="/register">{i18n.t(T::Register)}</a>
            </p>
        </section>
    }
}

/// The sign-in form: user name and password, then the one-time code when the server asks
/// for it. `reason` shows above it until an error takes its place; `signed_in` gets the
/// caller once the token is stored.
#[component]
pub fn SignInForm<F>(#[prop(into)] reason: Signal<Option<(bool, String)>>, signed_in: F) -> impl IntoView
where
    F: Fn(Option<Authorization>) + Clone + 'static,
{
    let i18n = use_i18n();
    let session = use_session();
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let show_password = RwSignal::new(false);
    // Two-factor sign-in: the server asks for the code once the password was right.
    let code = RwSignal::new(String::new());
    let needs_code = RwSignal::new(false);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let name = errors.check(i18n, "user", Text::parse(&user.get_untracked()));
        let secret = errors.check(i18n, "password", Text::parse(&password.get_untracked()));
        let (Some(name), Some(secret)) = (name, secret) else {
            return;
        };
        if name.as_str().trim().is_empty() {
            errors.set_field("user", i18n.now(T::Required).to_owned());
        }
        if secret.as_str().is_empty() {
            errors.set_field("password", i18n.now(T::Required).to_owned());
        }
        if errors.has_fields() {
            return;
        }
        let code = if needs_code.get_untracked() {
            let typed = code.get_untracked();
            if typed.trim().is_empty() {
                errors.set_field("code", i18n.now(T::Required).to_owned());
                return;
            }
            Text::parse(typed.trim()).ok()
        } else {
            None
        };
        let credentials = Credentials {
            user: name,
            password: secret,
            code,
        };
        busy.set(true);
        let signed_in = signed_in.clone();
        leptos::task::spawn_local(async move {
            let reply = client::sign_in(&credentials).await;
            busy.set(false);
            match reply {
                Ok(envelope) => {
                    #[cfg(feature = "hydrate")]
                    if let Some(token) = envelope.token {
                        client::store(token);
                    }
                    let _ = envelope;
                    // Ask directly: the session resource may still hold "nobody".
                    let me = client::current_user().await.ok().and_then(|e| e.data);
                    session.reload_me();
                    signed_in(me);
                }
                Err(failure) if failure.status == 401 && failure.message.starts_with("code:") => {
                    if needs_code.get_untracked() {
                        errors.set_field("code", i18n.now(T::CodeInvalid).to_owned());
                    } else {
                        needs_code.set(true);
                        errors
                            .general
                            .set(Some((true, i18n.now(T::CodeNeeded).to_owned())));
                    }
                }
                Err(failure) => {
                    let message = match (failure.status, failure.retry_after) {
                        (401, _) => i18n.now(T::WrongCredentials).to_owned(),
                        (429, Some(seconds)) => {
                            format!("{} {seconds} {}", i18n.now(T::Throttled), i18n.now(T::Seconds))
                        }
                        _ => failure.message,
                    };
                    errors.general.set(Some((false, message)));
                }
            }
        });
    };

    view! {
        <Notice message=Signal::derive(move || errors.general.get().or_else(|| reason.get())) />
        <form class="form" method="post" action="/login" novalidate on:submit=submit>
            <Field id="login-user" label=T::UserName value=user error=errors.of("user") autocomplete="username" />
            <div class="field">
                <label for="login-password">{i18n.t(T::Password)}</label>
                <div class="input-row">
                    <input
                        id="login-password"
                        name="password"
                        autocomplete="current-password"
                        aria-invalid=move || errors.of("password").get().is_some().to_string()
                        aria-describedby="login-password-error"
                        type=move || if show_password.get() { "text" } else { "password" }
                        bind:value=password
                    />
                    <button
                        type="button"
                        class="secondary"
                        aria-pressed=move || show_password.get().to_string()
                        on:click=move |_| show_password.update(|shown| *shown = !*shown)
                    >
                        {move || if show_password.get() { i18n.now(T::Hide) } else { i18n.now(T::Show) }}
                    </button>
                </div>
                <p class="error" id="login-password-error" role="alert">
                    {move || errors.of("password").get()}
                </p>
            </div>
            {move || needs_code.get().then(|| view! {
                <Field
                    id="login-code"
                    label=T::OneTimeCode
                    value=code
                    error=errors.of("code")
                    autocomplete="one-time-code"
                    hint=T::CodeHint
                />
            })}
            <button type="submit" disabled=move || busy.get()>
                {i18n.t(T::SignIn)}
            </button>
        </form>
    }
}

#[component]
pub fn Awaiting() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card narrow">
            <h1>{i18n.t(T::Awaiting)}</h1>
            <p>{i18n.t(T::AwaitingText)}</p>
            <p>
                <a href="/login">{i18n.t(T::SignIn)}</a>
            </p>
        </section>
    }
}
