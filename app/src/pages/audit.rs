//! The audit log, newest first (roles 3 and 4; a business admin sees its business's):
//! filters, links to the users and businesses an entry names, and the CSV of every match.

use crate::client::{self, Failure};
use crate::components::{ListTable, Listing, Pager, business_status_text, format_time, user_status_text};
use crate::i18n::{I18n, Lang, T, use_i18n};
use crate::model::{
    AuditEntry, AuditFormat, AuditQuery, BusinessStatus, Page, PageSize, PositiveId, UserStatus,
};
use crate::refusals::rule_text;
use crate::rules::{DateTime, EventPattern, TargetType, UserName};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The actions the server writes, for the action field's suggestions, prefixes first.
const ACTIONS: &[&str] = &[
    "user.*",
    "business.*",
    "token.*",
    "session.*",
    "webhook.*",
    "user.register",
    "user.create",
    "user.audit",
    "user.delete",
    "user.password_change",
    "user.password_reset",
    "user.totp_enable",
    "user.totp_disable",
    "user.totp_reset",
    "user.unlock",
    "business.create",
    "business.audit",
    "business.delete",
    "token.create",
    "token.revoke",
    "session.revoke",
    "webhook.create",
    "webhook.update",
    "webhook.delete",
    "webhook.retry",
];

/// Actions whose detail starts with the target user's name (`alice: status 0 -> 1`).
const NAMED_USER_ACTIONS: &[&str] = &[
    "user.register",
    "user.create",
    "user.audit",
    "user.delete",
    "user.totp_enable",
    "user.totp_disable",
    "user.totp_reset",
    "user.unlock",
    "session.revoke",
];

/// The filters as typed: each field's text, read by its rule when the search runs.
#[derive(Clone, Copy)]
struct Filters {
    actor: RwSignal<String>,
    action: RwSignal<String>,
    target_type: RwSignal<String>,
    target_id: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
}

impl Filters {
    /// Starts from the page's address (`/audit?actor=alice&action=user.*`), so a filtered
    /// log can be linked; the dates start empty.
    fn from_address() -> Self {
        let query = use_query_map().get_untracked();
        let start = |key: &str| RwSignal::new(query.get(key).unwrap_or_default());
        Self {
            actor: start("actor"),
            action: start("action"),
            target_type: start("targetType"),
            target_id: start("targetId"),
            from: RwSignal::new(String::new()),
            to: RwSignal::new(String::new()),
        }
    }

    fn clear(self) {
        for field in [
            self.actor,
            self.action,
            self.target_type,
            self.target_id,
            self.from,
            self.to,
        ] {
            field.set(String::new());
        }
    }

    /// The query of these filters, or the field that breaks its rule and why.
    fn query(self, lang: Lang, page: u32, size: u32) -> Result<AuditQuery, (&'static str, &'static str)> {
        fn optional<V, E>(raw: &str, parse: impl Fn(&str) -> Result<V, E>) -> Result<Option<V>, ()> {
            let raw = raw.trim();
            if raw.is_empty() {
                Ok(None)
            } else {
                parse(raw).map(Some).map_err(|_| ())
            }
        }
        let text = |key| crate::i18n::text(lang, key);
        let actor = optional(&self.actor.get(), UserName::parse)
            .map_err(|_| ("actor", rule_text(lang, "user").unwrap_or(UserName::RULE)))?;
        let action =
            optional(&self.action.get(), EventPattern::parse).map_err(|_| ("action", text(T::ActionRule)))?;
        let target_type = optional(&self.target_type.get(), TargetType::parse)
            .map_err(|_| ("targetType", TargetType::RULE))?;
        let target_id = optional(&self.target_id.get(), |raw| PositiveId::try_from(raw.to_owned()))
            .map_err(|_| ("targetId", text(T::IdRule)))?;
        let from = optional(&self.from.get(), day).map_err(|_| ("from", text(T::DateRule)))?;
        // The last day is included: the search ends where the next day starts.
        let to = optional(&self.to.get(), |raw| {
            day(raw).and_then(|d| DateTime::from_unix(d.seconds() + 86_400).ok_or(()))
        })
        .map_err(|_| ("to", text(T::DateRule)))?;
        if let (Some(from), Some(to)) = (&from, &to)
            && !to.is_after(from)
        {
            return Err(("to", text(T::DateOrderRule)));
        }
        Ok(AuditQuery {
            page: Page::new(page).unwrap_or_default(),
            page_size: PageSize::new(size).unwrap_or_default(),
            actor,
            actor_id: None,
            action,
            target_type,
            target_id,
            from,
            to,
            format: AuditFormat::Json,
        })
    }
}

/// `2024-05-01` (what a date input holds) as its first moment, UTC.
fn day(raw: &str) -> Result<DateTime, ()> {
    let mut parts = raw.splitn(3, '-').map(str::parse::<u16>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) if m <= 12 && d <= 31 => {
            DateTime::day(y, m as u8, d as u8).ok_or(())
        }
        _ => Err(()),
    }
}

#[component]
pub fn Audit() -> impl IntoView {
    let i18n = use_i18n();
    let page = RwSignal::new(1u32);
    let size = RwSignal::new(20u32);
    let filters = Filters::from_address();
    let query = Memo::new(move |_| filters.query(i18n.lang(), page.get(), size.get()));
    let invalid = move |field: &'static str| {
        Signal::derive(move || match query.get() {
            Err((f, rule)) if f == field => Some(rule),
            _ => None,
        })
    };
    let entries = Listing::new(move || {
        let query = query.get();
        async move {
            match query {
                Ok(query) => client::list_audit(&query).await,
                Err((field, rule)) => Err(Failure {
                    status: 422,
                    message: format!("{field}: {rule}"),
                    retry_after: None,
                }),
            }
        }
    });
    let total = entries.total();
    let downloading = RwSignal::new(false);
    let download_error = RwSignal::new(None::<String>);
    let download = move |_| {
        let Ok(mut query) = query.get_untracked() else {
            return;
        };
        query.format = AuditFormat::Csv;
        downloading.set(true);
        download_error.set(None);
        leptos::task::spawn_local(async move {
            match client::audit_csv(&query).await {
                Ok(csv) => save_file("audit.csv", "text/csv;charset=utf-8", &csv),
                Err(failure) => download_error.set(Some(failure.message)),
            }
            downloading.set(false);
        });
    };

    view! {
        <section class="card wide">
            <h1>{i18n.t(T::AuditLog)}</h1>
            <form class="form inline audit-filters" aria-label=i18n.t(T::Filters) on:submit=|ev| ev.prevent_default()>
                <FilterField id="audit-actor" label=T::ActorName value=filters.actor page error=invalid("actor") />
                <FilterField
                    id="audit-action"
                    label=T::Action
                    value=filters.action
                    page
                    error=invalid("action")
                    list="audit-actions"
                    placeholder="user.*"
                />
                <datalist id="audit-actions">
                    {ACTIONS.iter().map(|a| view! { <option value=*a></option> }).collect_view()}
                </datalist>
                <div class="field">
                    <label for="audit-target-type">{i18n.t(T::TargetType)}</label>
                    <select
                        id="audit-target-type"
                        on:change=move |ev| {
                            filters.target_type.set(event_target_value(&ev));
                            page.set(1);
                        }
                    >
                        {[
                            ("", T::AllTypes),
                            ("user", T::TargetUser),
                            ("business", T::TargetBusiness),
                            ("token", T::TargetToken),
                            ("webhook", T::TargetWebhook),
                        ]
                            .into_iter()
                            .map(|(value, label)| {
                                view! {
                                    <option value=value selected=move || filters.target_type.get() == value>
                                        {i18n.t(label)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <FilterField
                    id="audit-target-id"
                    label=T::TargetId
                    value=filters.target_id
                    page
                    error=invalid("targetId")
                    kind="number"
                />
                <FilterField id="audit-from" label=T::FromDate value=filters.from page error=invalid("from") kind="date" />
                <FilterField id="audit-to" label=T::ToDate value=filters.to page error=invalid("to") kind="date" />
                <div class="toolbar">
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| {
                            filters.clear();
                            page.set(1);
                        }
                    >
                        {i18n.t(T::ClearFilters)}
                    </button>
                    <button
                        type="button"
                        id="audit-download"
                        disabled=move || downloading.get() || query.get().is_err()
                        on:click=download
                    >
                        {i18n.t(T::DownloadCsv)}
                    </button>
                </div>
            </form>
            <p class="error" role="alert">{move || download_error.get()}</p>
            <div class="table-wrap">
                <ListTable
                    list=entries
                    columns="5"
                    empty=T::NothingHere
                    untranslated=true
                    row=move |entry| entry_row(i18n, entry)
                >
                    <th>{i18n.t(T::Time)}</th>
                    <th>{i18n.t(T::Actor)}</th>
                    <th>{i18n.t(T::Action)}</th>
                    <th>{i18n.t(T::Target)}</th>
                    <th>{i18n.t(T::Detail)}</th>
                </ListTable>
            </div>
            <Pager page size total />
        </section>
    }
}

/// A filter input with its label and, under it, the rule it breaks. A change shows the
/// first page of the new search.
#[component]
fn FilterField(
    id: &'static str,
    label: T,
    value: RwSignal<String>,
    page: RwSignal<u32>,
    error: Signal<Option<&'static str>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] list: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id>{i18n.t(label)}</label>
            <input
                id=id
                name=id
                type=kind
                min=(kind == "number").then_some("1")
                list=list
                placeholder=placeholder
                autocomplete="off"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    page.set(1);
                }
            />
            <p class="error" id=error_id>{move || error.get()}</p>
        </div>
    }
}

fn entry_row(i18n: I18n, e: AuditEntry) -> impl IntoView {
    let action = e.action.clone();
    // The console (`cli`) has no user page.
    let actor = match e.actor_id {
        Some(_) => view! { <a href=users_named(&e.actor)>{e.actor.clone()}</a> }.into_any(),
        None => view! { <span>{e.actor.clone()}</span> }.into_any(),
    };
    let label = format!("{} {}", e.target_type, e.target_id);
    let target = match e.target_type.as_str() {
        "business" => view! { <a href=format!("/business/{}", e.target_id)>{label}</a> }.into_any(),
        "user" => match target_user(&e) {
            Some(name) => view! { <a href=users_named(name)>{label}</a> }.into_any(),
            None => view! { <span>{label}</span> }.into_any(),
        },
        _ => view! { <span>{label}</span> }.into_any(),
    };
    let (time, code) = (format_time(e.create_time), action.clone());
    let detail = move || detail_in_words(i18n.lang(), &e.action, &e.detail);
    view! {
        <tr data-action=action>
            <td>{time}</td>
            <td>{actor}</td>
            <td><code>{code}</code></td>
            <td>{target}</td>
            <td class="detail">{detail}</td>
        </tr>
    }
}

/// The users page searching for `name`.
fn users_named(name: &str) -> String {
    client::with_query("/users", &[("name", name)])
}

/// The target user's name, where the entry's detail starts with it.
fn target_user(e: &AuditEntry) -> Option<&str> {
    if !NAMED_USER_ACTIONS.contains(&e.action.as_str()) {
        return None;
    }
    let name = e.detail.split([':', ' ']).next()?;
    UserName::parse(name).is_ok().then_some(name)
}

/// A detail as the server wrote it, with a status change (`alice: status 0 -> 1`) told
/// in words of `lang`; any other text as written.
fn detail_in_words(lang: Lang, action: &str, detail: &str) -> String {
    let words = |code: &str| -> Option<&'static str> {
        let code = code.trim().parse::<i64>().ok()?;
        let key = match action {
            "user.audit" => user_status_text(UserStatus::from_code(code)?),
            "business.audit" => business_status_text(BusinessStatus::from_code(code)?),
            _ => return None,
        };
        Some(crate::i18n::text(lang, key))
    };
    let read = || -> Option<String> {
        let (name, change) = detail.split_once(": status ")?;
        let (change, comment) = match change.split_once("; comment: ") {
            Some((change, comment)) => (change, Some(comment)),
            None => (change, None),
        };
        let (old, new) = change.split_once(" -> ")?;
        let colon = if lang == Lang::Zh { "：" } else { ": " };
        let mut text = format!("{name}{colon}{} → {}", words(old)?, words(new)?);
        if let Some(comment) = comment.filter(|c| !c.is_empty()) {
            let separator = if lang == Lang::Zh { "；" } else { "; " };
            text.push_str(&format!(
                "{separator}{}{colon}{comment}",
                crate::i18n::text(lang, T::Comment)
            ));
        }
        Some(text)
    };
    read().unwrap_or_else(|| detail.to_owned())
}

/// Saves `text` as a file the browser downloads (the API needs the token, so a plain link
/// cannot fetch it).
fn save_file(name: &str, mime: &str, text: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        if let Ok(link) = document().create_element("a") {
            let _ = link.set_attribute("href", &url);
            let _ = link.set_attribute("download", name);
            if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
                link.click();
            }
        }
        // The browser reads the blob after this function returns; free it a minute on.
        let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        let _ =
            window().set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (name, mime, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_changes_read_in_words() {
        assert_eq!(
            detail_in_words(Lang::En, "user.audit", "alice: status 0 -> 1"),
            "alice: Pending → Approved"
        );
        assert_eq!(
            detail_in_words(
                Lang::Zh,
                "business.audit",
                "edge: status 0 -> 2; comment: too big, sorry"
            ),
            "edge：待审批 → 未批准；审核意见：too big, sorry"
        );
        assert_eq!(
            detail_in_words(Lang::En, "business.audit", "edge: status 0 -> 1; comment: "),
            "edge: Pending → Approved"
        );
        for raw in ["alice registered", "alice: status 0 -> 9", "x: status a -> b"] {
            assert_eq!(detail_in_words(Lang::En, "user.audit", raw), raw);
        }
        assert_eq!(
            detail_in_words(Lang::En, "user.delete", "a: status 0 -> 1"),
            "a: status 0 -> 1"
        );
    }

    #[test]
    fn date_inputs_read_as_utc_days() {
        assert_eq!(day("2024-05-01").map(|d| d.seconds()), Ok(1_714_521_600));
        for bad in ["", "2024-02-30", "2024-5", "x"] {
            assert!(day(bad).is_err(), "{bad}");
        }
    }
}
