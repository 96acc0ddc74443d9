//! Security, for every signed-in user (SPEC.md sections 9 and 12): two-factor sign-in
//! (enrol with the QR code or the key, recovery codes, turn off), sessions (end one, end
//! the others), personal access tokens (create, shown once, revoke), and the applications
//! allowed to sign the user in (revoke).

use crate::client::{self, Call};
use crate::components::{CopyButton, Field, FormErrors, ListTable, Listing, Notice, ScopeList, format_time};
use crate::device::device_name;
use crate::i18n::{I18n, T, use_i18n};
use crate::model::{
    AllowedApplication, NewPersonalToken, PersonalToken, Session, TokenScope, TotpCode, TotpDisable,
    TotpEnrolment,
};
use crate::refusals::rule_text;
use crate::rules::{Text, TokenName};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Security() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let must_enrol = move || {
        (query.get().get("reason").as_deref() == Some("enrol"))
            .then(|| (false, i18n.now(T::EnrolmentRequired).to_owned()))
    };
    view! {
        <Notice message=Signal::derive(must_enrol) />
        <TwoFactor />
        <Sessions />
        <Tokens />
        <AllowedApplications />
    }
}

#[component]
fn TwoFactor() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let enrolment = RwSignal::new(None::<TotpEnrolment>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // The code that turns the factor off: its own, so the enrolment's code is not shown again.
    let off_code = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let on = move || session.me().flatten().is_some_and(|me| me.totp);

    let start = move |_| {
        errors.clear();
        leptos::task::spawn_local(async move {
            match client::start_totp().await {
                Ok(envelope) => enrolment.set(envelope.data),
                Err(failure) => errors.show(i18n, &failure, &[]),
            }
        });
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(code) = required(i18n, errors, "code", code.get_untracked().trim()) else {
            return;
        };
        leptos::task::spawn_local(async move {
            match client::confirm_totp(&TotpCode { code }).await {
                Ok(envelope) => {
                    enrolment.set(None);
                    codes.set(envelope.data.map(|d| d.recovery_codes));
                    session.reload_me();
                }
                Err(failure) if failure.status == 422 => {
                    errors.set_field("code", i18n.now(T::CodeInvalid).to_owned());
                }
                Err(failure) => errors.show(i18n, &failure, &[]),
            }
        });
    };
    let turn_off = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let secret = required(i18n, errors, "password", &password.get_untracked());
        let one_time = required(i18n, errors, "code", off_code.get_untracked().trim());
        let (Some(password_given), Some(code_given)) = (secret, one_time) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let body = TotpDisable {
                password: password_given,
                code: code_given,
            };
            match client::turn_off_totp(&body).await {
                Ok(_) => {
                    password.set(String::new());
                    off_code.set(String::new());
                    session.reload_me();
                }
                // A wrong code, as the confirmation above words it; a wrong password next
                // to the password.
                Err(failure)
                    if failure.status == 422 && failure.field().is_some_and(|(f, _)| f == "code") =>
                {
                    errors.set_field("code", i18n.now(T::CodeInvalid).to_owned());
                }
                Err(failure) => errors.show(i18n, &failure, &["password"]),
            }
        });
    };

    view! {
        <section class="card narrow" id="two-factor">
            <h1>{i18n.t(T::Security)}</h1>
            <h2>{i18n.t(T::TwoFactor)}</h2>
            <Notice message=errors.general />
            {move || {
                if let Some(list) = codes.get() {
                    let text = list.join("\n");
                    let href = format!("data:text/plain;charset=utf-8,{}", text.replace('\n', "%0A"));
                    view! {
                        <h3>{i18n.t(T::RecoveryCodes)}</h3>
                        <p>{i18n.t(T::RecoveryCodesText)}</p>
                        <ol class="codes">{list.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ol>
                        <CopyButton text notice=errors.general />
                        <a class="button secondary" href=href download="ote-portal-recovery-codes.txt">
                            {i18n.t(T::Download)}
                        </a>
                    }
                        .into_any()
                } else if on() {
                    view! {
                        <p data-totp="on">{i18n.t(T::TwoFactorOn)}</p>
                        <form class="form" novalidate on:submit=turn_off>
                            <Field
                                id="totp-password"
                                label=T::Password
                                value=password
                                error=errors.of("password")
                                kind="password"
                                autocomplete="current-password"
                            />
                            <Field
                                id="totp-off-code"
                                label=T::OneTimeCode
                                value=off_code
                                error=errors.of("code")
                                autocomplete="one-time-code"
                                hint=T::CodeHint
                            />
                            <button type="submit" class="danger">{i18n.t(T::TurnOff)}</button>
                        </form>
                    }
                        .into_any()
                } else if let Some(enrolment) = enrolment.get() {
                    view! {
                        <p>{i18n.t(T::ScanCode)}</p>
                        <div class="qr" role="img" aria-label=i18n.t(T::TwoFactor) inner_html=enrolment.qr_svg></div>
                        <p>
                            {i18n.t(T::SecretKey)} ": " <code id="totp-secret">{enrolment.secret}</code>
                        </p>
                        <form class="form" novalidate on:submit=confirm>
                            <Field
                                id="totp-code"
                                label=T::OneTimeCode
                                value=code
                                error=errors.of("code")
                                autocomplete="one-time-code"
                            />
                            <button type="submit">{i18n.t(T::TurnOn)}</button>
                        </form>
                    }
                        .into_any()
                } else {
                    view! {
                        <p data-totp="off">{i18n.t(T::TwoFactorOff)}</p>
                        <button type="button" on:click=start>{i18n.t(T::SetUpTwoFactor)}</button>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A field that must be filled in, checked before anything is sent; what is wrong with it
/// shows next to it.
fn required(i18n: I18n, errors: FormErrors, field: &'static str, typed: &str) -> Option<Text> {
    if typed.is_empty() {
        errors.set_field(field, i18n.now(T::Required).to_owned());
        return None;
    }
    let parsed = Text::parse(typed).ok();
    if parsed.is_none() {
        errors.set_field(field, i18n.now(T::NoControlCharacters).to_owned());
    }
    parsed
}

/// Sends `call` and reloads (or reports) on the answer.
fn act(call: Call<()>, reload: Trigger, notice: RwSignal<Option<(bool, String)>>) {
    let i18n = use_i18n();
    leptos::task::spawn_local(async move {
        match call.await {
            Ok(_) => reload.notify(),
            Err(failure) => notice.set(Some((false, crate::refusals::shown(i18n, &failure)))),
        }
    });
}

#[component]
fn Sessions() -> impl IntoView {
    let i18n = use_i18n();
    let notice = RwSignal::new(None);
    let sessions = Listing::new(client::list_sessions);
    let row = move |s: Session| {
        let id = s.id;
        // The device as a person reads it; the agent as it came on hover.
        let agent = s.user_agent;
        let name = {
            let agent = agent.clone();
            move || device_name(i18n.lang(), &agent)
        };
        view! {
            <tr data-current=s.current.to_string()>
                <td>
                    <span class="device" title=(!agent.trim().is_empty()).then_some(agent)>{name}</span>
                    {s.current.then(|| view! { " " <span class="badge approved">{i18n.t(T::ThisDevice)}</span> })}
                </td>
                <td>{s.ip}</td>
                <td>{format_time(s.create_time)}</td>
                <td>{format_time(s.last_seen_time)}</td>
                <td class="actions">
                    {(!s.current).then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| act(client::end_session(&id), sessions.reload, notice)>
                            {i18n.t(T::End)}
                        </button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card wide" id="sessions">
            <h2>{i18n.t(T::Sessions)}</h2>
            <Notice message=notice />
            <div class="table-wrap">
                <ListTable list=sessions columns="5" row>
                    <th>{i18n.t(T::Device)}</th>
                    <th>{i18n.t(T::Address)}</th>
                    <th>{i18n.t(T::Created)}</th>
                    <th>{i18n.t(T::LastSeen)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
            <button type="button" class="secondary" on:click=move |_| act(client::end_other_sessions(), sessions.reload, notice)>
                {i18n.t(T::EndOthers)}
            </button>
        </section>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let i18n = use_i18n();
    let errors = FormErrors::new();
    let name = RwSignal::new(String::new());
    let days = RwSignal::new("30".to_owned());
    let scope = RwSignal::new(TokenScope::Read);
    let created = RwSignal::new(None::<String>);
    let tokens = Listing::new(client::list_tokens);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let token_name = TokenName::parse(&name.get_untracked()).ok();
        if token_name.is_none() {
            errors.set_field(
                "name",
                rule_text(i18n.lang(), "realName").unwrap_or_default().to_owned(),
            );
        }
        let expires = days
            .get_untracked()
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=365).contains(d));
        if expires.is_none() {
            let rule = if i18n.lang() == crate::i18n::Lang::Zh {
                "须为 1 到 365 的整数"
            } else {
                "must be a whole number from 1 to 365"
            };
            errors.set_field("expiresInDays", rule.to_owned());
        }
        let (Some(name), Some(expires_in_days)) = (token_name, expires) else {
            return;
        };
        let body = NewPersonalToken {
            name,
            expires_in_days,
            scope: scope.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match client::create_token(&body).await {
                Ok(envelope) => {
                    created.set(envelope.data.map(|d| d.token));
                    tokens.reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, &["name", "expiresInDays"]),
            }
        });
    };
    let row = move |t: PersonalToken| {
        let id = t.id;
        let last_used = t.last_used_time;
        view! {
            <tr data-token=t.name.clone()>
                <td>{t.name.clone()}</td>
                <td>{t.scope.as_str()}</td>
                <td>{format_time(t.create_time)}</td>
                <td>{format_time(t.expire_time)}</td>
                <td>{move || last_used.map(format_time).unwrap_or_else(|| i18n.now(T::Never).to_owned())}</td>
                <td class="actions">
                    <button type="button" class="danger" on:click=move |_| act(client::revoke_token(id), tokens.reload, errors.general)>
                        {i18n.t(T::Revoke)}
                    </button>
                </td>
            </tr>
        }
    };
    view! {
        <section class="card wide" id="tokens">
            <h2>{i18n.t(T::PersonalTokens)}</h2>
            <Notice message=errors.general />
            {move || created.get().map(|token| view! {
                <div class="notice ok" role="status">
                    <p>{i18n.t(T::TokenShownOnce)}</p>
                    <input id="new-token" readonly value=token.clone() aria-label=i18n.t(T::PersonalTokens) />
                    <CopyButton text=token notice=errors.general />
                </div>
            })}
            <form class="form inline" novalidate on:submit=create>
                <Field id="token-name" label=T::TokenName value=name error=errors.of("name") />
                <Field id="token-days" label=T::ExpiresInDays value=days error=errors.of("expiresInDays") kind="number" />
                <div class="field">
                    <label for="token-scope">{i18n.t(T::Scope)}</label>
                    <select id="token-scope" on:change=move |ev| {
                        scope.set(if event_target_value(&ev) == "write" { TokenScope::Write } else { TokenScope::Read })
                    }>
                        <option value="read">{i18n.t(T::ScopeRead)}</option>
                        <option value="write">{i18n.t(T::ScopeWrite)}</option>
                    </select>
                </div>
                <button type="submit">{i18n.t(T::CreateToken)}</button>
            </form>
            <div class="table-wrap">
                <ListTable list=tokens columns="6" row>
                    <th>{i18n.t(T::TokenName)}</th>
                    <th>{i18n.t(T::Scope)}</th>
                    <th>{i18n.t(T::Created)}</th>
                    <th>{i18n.t(T::Expires)}</th>
                    <th>{i18n.t(T::LastSeen)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
        </section>
    }
}

/// The applications that may sign the caller in without asking (the consent remembered),
/// each revocable: revoking ends what it holds too.
#[component]
fn AllowedApplications() -> impl IntoView {
    let i18n = use_i18n();
    let notice = RwSignal::new(None);
    let applications = Listing::new(client::list_applications);
    let row = move |a: AllowedApplication| {
        let client_id = a.client_id.clone();
        view! {
            <tr data-application=a.name.clone() data-client-id=a.client_id.clone()>
                <td>{a.name.clone()}</td>
                <td><ScopeList scopes=a.scopes /></td>
                <td>{format_time(a.create_time)}</td>
                <td class="actions">
                    <button
                        type="button"
                        class="danger"
                        on:click=move |_| act(client::revoke_application(&client_id), applications.reload, notice)
                    >
                        {i18n.t(T::Revoke)}
                    </button>
                </td>
            </tr>
        }
    };
    view! {
        <section class="card wide" id="allowed-applications">
            <h2>{i18n.t(T::AllowedApplications)}</h2>
            <p>{i18n.t(T::AllowedApplicationsText)}</p>
            <Notice message=notice />
            <div class="table-wrap">
                <ListTable list=applications columns="4" empty=T::NothingHere row>
                    <th>{i18n.t(T::Application)}</th>
                    <th>{i18n.t(T::ItLearns)}</th>
                    <th>{i18n.t(T::AllowedSince)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
        </section>
    }
}
