//! Webhooks, for the system administrator (SPEC.md section 10): endpoints (create with the
//! secret shown once, edit, enable or disable, delete) and each endpoint's deliveries
//! (status, attempts, last answer, next attempt, send a failed one again).

use crate::client::{self, Call};
use crate::components::{
    Confirm, CopyButton, Field, FormErrors, ListTable, Listing, Notice, Pager, format_time,
};
use crate::i18n::{T, use_i18n};
use crate::model::{Delivery, DeliveryStatus, NewWebhook, Page, PageQuery, PageSize, Webhook, WebhookChange};
use crate::rules::{Description, EventPattern, WebhookUrl};
use leptos::prelude::*;

/// `"user.*, business.audit"` → the patterns, each checked by its rule.
fn patterns(text: &str) -> Option<Vec<EventPattern>> {
    let list: Option<Vec<EventPattern>> = text
        .split([',', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| EventPattern::parse(p).ok())
        .collect();
    list.filter(|l| (1..=crate::model::MAX_EVENT_PATTERNS).contains(&l.len()))
}

#[component]
pub fn Webhooks() -> impl IntoView {
    let i18n = use_i18n();
    let notice = RwSignal::new(None);
    let hooks = Listing::new(client::list_webhooks);
    view! {
        <section class="card wide" id="webhooks">
            <h1>{i18n.t(T::Webhooks)}</h1>
            <p>{i18n.t(T::WebhooksText)}</p>
            <Notice message=notice />
            <div class="table-wrap">
                <ListTable
                    list=hooks
                    columns="5"
                    empty=T::NothingHere
                    row=move |hook| view! { <HookRow hook reload=hooks.reload notice /> }
                >
                    <th>{i18n.t(T::Url)}</th>
                    <th>{i18n.t(T::Events)}</th>
                    <th>{i18n.t(T::Description)}</th>
                    <th>{i18n.t(T::Status)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
        </section>
        <NewHook reload=hooks.reload />
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Nothing,
    Deliveries,
    Edit,
    Delete,
}

#[component]
fn HookRow(hook: Webhook, reload: Trigger, notice: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(Open::Nothing);
    let id = hook.id;
    let act = move |call: Call<()>| {
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(_) => {
                    notice.set(Some((true, i18n.now(T::Done).to_owned())));
                    reload.notify();
                }
                Err(failure) => notice.set(Some((false, crate::refusals::shown(i18n, &failure)))),
            }
        });
    };
    let enabled = hook.enabled;
    let toggle = move |_| {
        let change = WebhookChange {
            enabled: Some(!enabled),
            ..Default::default()
        };
        act(client::change_webhook(id, &change));
    };
    let url = hook.url.clone();
    view! {
        <tr data-webhook=hook.url.clone()>
            <td><code>{hook.url.clone()}</code></td>
            <td>{hook.events.join(", ")}</td>
            <td>{hook.description.clone()}</td>
            <td>
                {if enabled {
                    view! { <span class="badge approved">{i18n.t(T::Enabled)}</span> }
                } else {
                    view! { <span class="badge forbidden">{i18n.t(T::Disabled)}</span> }
                }}
            </td>
            <td class="actions">
                <button type="button" class="secondary" aria-expanded=move || (open.get() == Open::Deliveries).to_string()
                    on:click=move |_| open.update(|o| *o = if *o == Open::Deliveries { Open::Nothing } else { Open::Deliveries })>
                    {i18n.t(T::Deliveries)}
                </button>
                <button type="button" class="secondary" on:click=move |_| open.set(Open::Edit)>{i18n.t(T::Edit)}</button>
                <button type="button" class="secondary" on:click=toggle>
                    {move || if enabled { i18n.now(T::Disable) } else { i18n.now(T::Enable) }}
                </button>
                <button type="button" class="danger" on:click=move |_| open.set(Open::Delete)>{i18n.t(T::Delete)}</button>
            </td>
        </tr>
        {move || match open.get() {
            Open::Nothing => ().into_any(),
            Open::Delete => {
                view! {
                    <tr><td colspan="5">
                        <Confirm
                            question=format!("{} ({url})", i18n.now(T::ConfirmDeleteWebhook))
                            on_yes=move |_| act(client::delete_webhook(id))
                            on_no=move |_| open.set(Open::Nothing)
                        />
                    </td></tr>
                }.into_any()
            }
            Open::Edit => view! { <tr><td colspan="5"><EditHook hook=hook.clone() open reload notice /></td></tr> }.into_any(),
            Open::Deliveries => view! { <tr><td colspan="5"><Deliveries id /></td></tr> }.into_any(),
        }}
    }
}

#[component]
fn EditHook(
    hook: Webhook,
    open: RwSignal<Open>,
    reload: Trigger,
    notice: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let url = RwSignal::new(hook.url.clone());
    let events = RwSignal::new(hook.events.join(", "));
    let description = RwSignal::new(hook.description.clone());
    let errors = FormErrors::new();
    let id = hook.id;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let change = checked(
            i18n,
            errors,
            &url.get_untracked(),
            &events.get_untracked(),
            &description.get_untracked(),
        );
        let Some((url, events, description)) = change else {
            return;
        };
        let change = WebhookChange {
            url: Some(url),
            events: Some(events),
            description: Some(description),
            enabled: None,
        };
        leptos::task::spawn_local(async move {
            match client::change_webhook(id, &change).await {
                Ok(_) => {
                    open.set(Open::Nothing);
                    notice.set(Some((true, i18n.now(T::Done).to_owned())));
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, &["url", "events", "description"]),
            }
        });
    };
    view! {
        <form class="form" novalidate on:submit=save>
            <Notice message=errors.general />
            <HookFields prefix=format!("edit-{id}") url events description errors />
            <button type="submit">{i18n.t(T::Save)}</button>
            <button type="button" class="secondary" on:click=move |_| open.set(Open::Nothing)>{i18n.t(T::Cancel)}</button>
        </form>
    }
}

/// The three fields of an endpoint, checked by their rules before anything is sent.
fn checked(
    i18n: crate::i18n::I18n,
    errors: FormErrors,
    url: &str,
    events: &str,
    description: &str,
) -> Option<(WebhookUrl, Vec<EventPattern>, Description)> {
    let url = WebhookUrl::parse(url)
        .map_err(|e| errors.set_field("url", e.to_string()))
        .ok();
    let events = patterns(events);
    if events.is_none() {
        errors.set_field("events", i18n.now(T::EventsRule).to_owned());
    }
    let description = Description::parse(description)
        .map_err(|e| errors.set_field("description", e.to_string()))
        .ok();
    Some((url?, events?, description?))
}

#[component]
fn HookFields(
    prefix: String,
    url: RwSignal<String>,
    events: RwSignal<String>,
    description: RwSignal<String>,
    errors: FormErrors,
) -> impl IntoView {
    view! {
        <Field id=format!("{prefix}-url") label=T::Url value=url error=errors.of("url") hint=T::UrlHint />
        <Field id=format!("{prefix}-events") label=T::Events value=events error=errors.of("events") hint=T::EventsHint />
        <Field id=format!("{prefix}-description") label=T::Description value=description error=errors.of("description") />
    }
}

#[component]
fn NewHook(reload: Trigger) -> impl IntoView {
    let i18n = use_i18n();
    let url = RwSignal::new(String::new());
    let events = RwSignal::new("*".to_owned());
    let description = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let secret = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let new = checked(
            i18n,
            errors,
            &url.get_untracked(),
            &events.get_untracked(),
            &description.get_untracked(),
        );
        let Some((url, events, description)) = new else {
            return;
        };
        let body = NewWebhook {
            url,
            events,
            description,
        };
        leptos::task::spawn_local(async move {
            match client::create_webhook(&body).await {
                Ok(envelope) => {
                    secret.set(envelope.data.map(|d| d.secret));
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, &["url", "events", "description"]),
            }
        });
    };
    view! {
        <section class="card narrow">
            <h2>{i18n.t(T::AddWebhook)}</h2>
            <Notice message=errors.general />
            {move || secret.get().map(|secret| view! {
                <div class="notice ok" role="status">
                    <p>{i18n.t(T::SecretShownOnce)}</p>
                    <input id="new-secret" readonly value=secret.clone() aria-label=i18n.t(T::Secret) />
                    <CopyButton text=secret notice=errors.general />
                </div>
            })}
            <form class="form" novalidate on:submit=create>
                <HookFields prefix="new-webhook".to_owned() url events description errors />
                <button type="submit">{i18n.t(T::AddWebhook)}</button>
            </form>
        </section>
    }
}

#[component]
fn Deliveries(id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let page = RwSignal::new(1u32);
    let size = RwSignal::new(10u32);
    let notice = RwSignal::new(None);
    let list = Listing::new(move || {
        let query = PageQuery {
            page: Page::new(page.get()).unwrap_or_default(),
            page_size: PageSize::new(size.get()).unwrap_or_default(),
        };
        client::list_deliveries(id, &query)
    });
    let total = list.total();
    let retry = move |delivery: i64| {
        leptos::task::spawn_local(async move {
            match client::retry_delivery(id, delivery).await {
                Ok(_) => list.reload.notify(),
                Err(failure) => notice.set(Some((false, crate::refusals::shown(i18n, &failure)))),
            }
        });
    };
    let row = move |d: Delivery| {
        let (tone, label) = match d.status {
            DeliveryStatus::Pending => ("pending", T::DeliveryPending),
            DeliveryStatus::Delivered => ("approved", T::DeliveryDelivered),
            DeliveryStatus::Failed => ("refused", T::DeliveryFailed),
        };
        let answer = match (d.last_status_code, d.last_error.clone()) {
            (_, Some(error)) => error,
            (Some(code), None) => format!("HTTP {code}"),
            (None, None) => String::new(),
        };
        let delivery = d.id;
        view! {
            <tr data-delivery=d.id.to_string() data-status=d.status.as_str()>
                <td><code>{d.kind.clone()}</code></td>
                <td><span class=format!("badge {tone}")>{i18n.t(label)}</span></td>
                <td>{d.attempts}</td>
                <td class="wrap">{answer}</td>
                <td>{(d.status == DeliveryStatus::Pending).then(|| format_time(d.next_attempt_time))}</td>
                <td>{format_time(d.create_time)}</td>
                <td class="actions">
                    {(d.status == DeliveryStatus::Failed).then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| retry(delivery)>{i18n.t(T::SendAgain)}</button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <Notice message=notice />
        <ListTable list columns="7" attr:class="deliveries" row>
            <th>{i18n.t(T::Action)}</th>
            <th>{i18n.t(T::Status)}</th>
            <th>{i18n.t(T::Attempts)}</th>
            <th>{i18n.t(T::LastAnswer)}</th>
            <th>{i18n.t(T::NextAttempt)}</th>
            <th>{i18n.t(T::Created)}</th>
            <th>{i18n.t(T::Actions)}</th>
        </ListTable>
        <Pager page size total />
    }
}
