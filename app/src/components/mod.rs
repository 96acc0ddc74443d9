//! What the pages share: form pieces (`form`), list tables (`list`), the business picker
//! (`picker`), and here status badges, confirmations, the clipboard, and how statuses,
//! roles, times and the scopes of an application read.

mod form;
mod list;
mod picker;

pub use form::{Field, FormErrors, Notice, PasswordChecklist};
pub use list::{ListTable, Listing, Pager};
pub use picker::BusinessPicker;

use crate::i18n::{T, text, use_i18n};
use crate::model::{BusinessStatus, Role, UserStatus};
use leptos::prelude::*;

pub fn role_text(role: Role) -> T {
    match role {
        Role::Pending => T::Role0,
        Role::GeneralAdmin => T::Role1,
        Role::GeneralUser => T::Role2,
        Role::BusinessAdmin => T::Role3,
        Role::SystemAdmin => T::Role4,
    }
}

pub fn user_status_text(status: UserStatus) -> T {
    match status {
        UserStatus::Pending => T::UserStatus0,
        UserStatus::Approved => T::UserStatus1,
        UserStatus::NotApproved => T::UserStatus2,
        UserStatus::Forbidden => T::UserStatus3,
    }
}

pub fn business_status_text(status: BusinessStatus) -> T {
    match status {
        BusinessStatus::Pending => T::BusinessStatus0,
        BusinessStatus::Approved => T::BusinessStatus1,
        BusinessStatus::Disapproved => T::BusinessStatus2,
        BusinessStatus::Deleted => T::BusinessStatus3,
    }
}

/// What an application learns with a scope, in words; `None` for a scope the portal does
/// not know.
pub fn scope_text(scope: &str) -> Option<T> {
    Some(match scope {
        "openid" => T::ScopeOpenid,
        "profile" => T::ScopeProfile,
        "phone" => T::ScopePhone,
        "groups" => T::ScopeGroups,
        "offline_access" => T::ScopeOfflineAccess,
        _ => return None,
    })
}

/// What an application learns (the consent screen, the allowed applications): a line per
/// scope, in words where the portal knows it.
#[component]
pub fn ScopeList(scopes: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="scopes">
            {scopes
                .into_iter()
                .map(|scope| {
                    let words = scope_text(&scope);
                    let raw = scope.clone();
                    let shown = move || words.map_or_else(|| raw.clone(), |key| text(i18n.lang(), key).to_owned());
                    view! { <li data-scope=scope>{shown}</li> }
                })
                .collect_view()}
        </ul>
    }
}

/// A coloured badge with the status in words (colour is never the only signal).
#[component]
pub fn Badge(tone: &'static str, label: T) -> impl IntoView {
    let i18n = use_i18n();
    view! { <span class=format!("badge {tone}")>{i18n.t(label)}</span> }
}

pub fn user_badge(status: UserStatus) -> impl IntoView {
    let tone = match status {
        UserStatus::Pending => "pending",
        UserStatus::Approved => "approved",
        UserStatus::NotApproved => "refused",
        UserStatus::Forbidden => "forbidden",
    };
    view! { <Badge tone label=user_status_text(status) /> }
}

pub fn business_badge(status: BusinessStatus) -> impl IntoView {
    let tone = match status {
        BusinessStatus::Pending => "pending",
        BusinessStatus::Approved => "approved",
        BusinessStatus::Disapproved => "refused",
        BusinessStatus::Deleted => "forbidden",
    };
    view! { <Badge tone label=business_status_text(status) /> }
}

/// Unix seconds as `YYYY-MM-DD HH:MM` (UTC).
pub fn format_time(seconds: i64) -> String {
    let (year, month, day, hour, minute, _) = crate::rules::civil_time(seconds);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}")
}

/// A confirmation for a destructive action, shown in place of the buttons that asked.
#[component]
pub fn Confirm(
    question: String,
    #[prop(into)] on_yes: Callback<()>,
    #[prop(into)] on_no: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let label = question.clone();
    view! {
        <div class="confirm" role="alertdialog" aria-modal="false" aria-label=label>
            <p>{question}</p>
            <button type="button" class="danger" autofocus on:click=move |_| on_yes.run(())>
                {i18n.t(T::Confirm)}
            </button>
            <button type="button" class="secondary" on:click=move |_| on_no.run(())>
                {i18n.t(T::Cancel)}
            </button>
        </div>
    }
}

/// Copies `text` to the clipboard and says so in `notice`.
fn copy(text: String, notice: RwSignal<Option<(bool, String)>>, done: &'static str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(&text);
        notice.set(Some((true, done.to_owned())));
    }
    let _ = (text, notice, done);
}

/// A "Copy" button for `text`, a secret shown once.
#[component]
pub fn CopyButton(text: String, notice: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <button type="button" class="secondary" on:click=move |_| copy(text.clone(), notice, i18n.now(T::Copied))>
            {i18n.t(T::Copy)}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00");
        assert_eq!(format_time(1_795_000_000), "2026-11-18 11:06");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00");
    }
}
