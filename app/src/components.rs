//! Small pieces every page uses: labelled fields, status badges, the pager, notices,
//! confirmations, and how statuses, roles and times read.

use crate::i18n::{Lang, T, text, use_i18n};
use crate::model::{BusinessStatus, Role, UserStatus};
use crate::rules::{Password, PasswordCheck};
use leptos::prelude::*;

/// A labelled input whose error, if any, sits right under it and is announced.
#[component]
pub fn Field(
    #[prop(into)] id: String,
    label: T,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<T>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{i18n.t(label)}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{i18n.t(hint)}</p> })}
            {if kind == "textarea" {
                view! {
                    <textarea
                        id=id.clone()
                        name=id.clone()
                        rows="3"
                        aria-invalid=move || error.get().is_some().to_string()
                        aria-describedby=described.clone()
                        bind:value=value
                    ></textarea>
                }
                    .into_any()
            } else {
                view! {
                    <input
                        id=id.clone()
                        name=id.clone()
                        type=kind
                        autocomplete=autocomplete
                        aria-invalid=move || error.get().is_some().to_string()
                        aria-describedby=described.clone()
                        bind:value=value
                    />
                }
                    .into_any()
            }}
            <p class="error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The password rule, part by part, ticked off as the user types.
#[component]
pub fn PasswordChecklist(value: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let label = |check: PasswordCheck| match check {
        PasswordCheck::Length => T::RuleLength,
        PasswordCheck::Uppercase => T::RuleUpper,
        PasswordCheck::Lowercase => T::RuleLower,
        PasswordCheck::Digit => T::RuleDigit,
    };
    view! {
        <div class="checklist" aria-live="polite">
            <span>{i18n.t(T::PasswordMustHave)}</span>
            <ul>
                {move || {
                    Password::checklist(&value.get())
                        .into_iter()
                        .map(|(check, ok)| {
                            view! {
                                <li class=if ok { "ok" } else { "todo" } data-check=format!("{check:?}")>
                                    <span aria-hidden="true">{if ok { "✓ " } else { "○ " }}</span>
                                    {i18n.t(label(check))}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// A message for the whole form: `role=alert` for errors, `status` for success.
#[component]
pub fn Notice(#[prop(into)] message: Signal<Option<(bool, String)>>) -> impl IntoView {
    move || {
        message.get().map(|(ok, text)| {
            if ok {
                view! { <p class="notice ok" role="status">{text}</p> }.into_any()
            } else {
                view! { <p class="notice error" role="alert">{text}</p> }.into_any()
            }
        })
    }
}

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

/// Page number, page size and the total: "‹ 2 / 5 ›  43 total".
/// A table row in place of the data: what the table waits for or lacks. `columns` is
/// the table's column count, for `colspan`.
pub fn note_row(columns: &'static str, text: impl Fn() -> &'static str + Send + Sync + 'static) -> AnyView {
    view! { <tr><td colspan=columns>{text}</td></tr> }.into_any()
}

/// A table row in place of the data: why it could not be loaded.
pub fn error_row(columns: &'static str, message: String) -> AnyView {
    view! { <tr><td colspan=columns class="error">{message}</td></tr> }.into_any()
}

#[component]
pub fn Pager(page: RwSignal<u32>, size: RwSignal<u32>, #[prop(into)] total: Signal<i64>) -> impl IntoView {
    let i18n = use_i18n();
    let pages =
        move || ((total.get().max(1) + i64::from(size.get()) - 1) / i64::from(size.get())).max(1) as u32;
    view! {
        <nav class="pager" aria-label="pages">
            <button
                type="button"
                class="secondary"
                disabled=move || { page.get() <= 1 }
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
            >
                {i18n.t(T::Previous)}
            </button>
            <span aria-live="polite">
                {move || format!("{} / {}", page.get(), pages())} " · "
                {move || match i18n.lang() {
                    Lang::En => format!("{} {}", total.get(), text(Lang::En, T::Total)),
                    Lang::Zh => format!("共 {} 条", total.get()),
                }}
            </span>
            <button
                type="button"
                class="secondary"
                disabled=move || { page.get() >= pages() }
                on:click=move |_| page.update(|p| *p += 1)
            >
                {i18n.t(T::Next)}
            </button>
            <label class="inline">
                {i18n.t(T::PageSize)}
                <select on:change=move |ev| {
                    size.set(event_target_value(&ev).parse().unwrap_or(10));
                    page.set(1);
                }>
                    {[10u32, 20, 50, 100]
                        .into_iter()
                        .map(|n| view! { <option value=n.to_string() selected=move || size.get() == n>{n}</option> })
                        .collect_view()}
                </select>
            </label>
        </nav>
    }
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

/// A searchable choice of a pending or approved business, by name (a combobox with a
/// listbox, after the ARIA authoring practices): typing asks the server, arrows move,
/// Enter chooses, Escape closes. `chosen` holds the business's id.
#[component]
pub fn BusinessPicker(
    #[prop(into)] id: String,
    chosen: RwSignal<Option<i64>>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    use crate::model::{Business, BusinessQuery, PageSize};
    let i18n = use_i18n();
    let typed = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(0usize);
    let matches = LocalResource::new(move || {
        let name = typed.get();
        let wanted = open.get();
        async move {
            if !wanted {
                return Vec::new();
            }
            let query = BusinessQuery {
                name: crate::rules::Text::parse(&name)
                    .ok()
                    .filter(|n| !n.as_str().trim().is_empty()),
                page_size: PageSize::new(20).unwrap_or_default(),
                ..Default::default()
            };
            crate::client::get::<Vec<Business>>(&crate::client::with_query("/v1/business", &query))
                .await
                .ok()
                .and_then(|e| e.data)
                .unwrap_or_default()
                .into_iter()
                .filter(|b| matches!(b.status, BusinessStatus::Pending | BusinessStatus::Approved))
                .collect::<Vec<_>>()
        }
    });
    let options = move || matches.get().unwrap_or_default();
    let list_id = format!("{id}-list");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let option_id = {
        let id = id.clone();
        move |n: usize| format!("{id}-option-{n}")
    };
    let choose = move |business: &Business| {
        chosen.set(Some(business.id));
        typed.set(business.name.clone());
        open.set(false);
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = options().len();
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                if open.get_untracked() && count > 0 {
                    active.update(|a| *a = (*a + 1) % count);
                } else {
                    open.set(true);
                    active.set(0);
                }
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = (*a + count - 1) % count);
            }
            "Enter" if open.get_untracked() => {
                ev.prevent_default();
                if let Some(business) = options().get(active.get_untracked()) {
                    choose(business);
                }
            }
            "Escape" => open.set(false),
            _ => {}
        }
    };
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            if error.get().is_some() {
                format!("{hint_id} {error_id}")
            } else {
                hint_id.clone()
            }
        }
    };
    let active_descendant = {
        let option_id = option_id.clone();
        move || (open.get() && !options().is_empty()).then(|| option_id(active.get()))
    };
    view! {
        <div class="field picker">
            <label for=id.clone()>{i18n.t(T::Business)}</label>
            <p class="hint" id=hint_id.clone()>{i18n.t(T::BusinessPickerHint)}</p>
            <input
                id=id.clone()
                type="text"
                role="combobox"
                autocomplete="off"
                aria-autocomplete="list"
                aria-controls=list_id.clone()
                aria-expanded=move || open.get().to_string()
                aria-activedescendant=active_descendant
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                prop:value=move || typed.get()
                on:input=move |ev| {
                    typed.set(event_target_value(&ev));
                    chosen.set(None);
                    active.set(0);
                    open.set(true);
                }
                on:keydown=keydown
                on:blur=move |_| open.set(false)
            />
            <ul id=list_id role="listbox" aria-label=i18n.t(T::Business) class="options" hidden=move || !open.get()>
                {move || {
                    let found = options();
                    if found.is_empty() {
                        return view! { <li class="muted" role="option" aria-disabled="true" aria-selected="false">{i18n.t(T::NoMatchingBusiness)}</li> }.into_any();
                    }
                    found
                        .into_iter()
                        .enumerate()
                        .map(|(n, business)| {
                            let (label, data_name) = (business.name.clone(), business.name.clone());
                            let status = business.status;
                            view! {
                                <li
                                    id=option_id(n)
                                    role="option"
                                    data-business-option=data_name
                                    aria-selected=move || (active.get() == n).to_string()
                                    class:active=move || active.get() == n
                                    on:mousedown=move |ev| {
                                        ev.prevent_default();
                                        choose(&business);
                                    }
                                >
                                    {label}
                                    " "
                                    {business_badge(status)}
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ul>
            <p class="error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}
