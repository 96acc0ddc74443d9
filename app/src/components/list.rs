//! The lists' tables: a list loaded from `/v1` (`Listing`), its table (`ListTable`) with
//! the rows that stand in for the data while it loads, when there is none or when it
//! failed, and the pager under a long list.

use crate::client::Reply;
use crate::i18n::{Lang, T, text, use_i18n};
use leptos::prelude::*;

/// A list the page loads from `/v1`: loaded again whenever what its call reads changes,
/// and when `reload` is notified (after the page changed something in it).
pub struct Listing<Item: 'static> {
    pub reload: Trigger,
    reply: LocalResource<Reply<Vec<Item>>>,
}

impl<Item> Clone for Listing<Item> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Item> Copy for Listing<Item> {}

impl<Item: Clone + 'static> Listing<Item> {
    pub fn new<C>(call: impl Fn() -> C + 'static) -> Self
    where
        C: IntoFuture<Output = Reply<Vec<Item>>>,
        C::IntoFuture: 'static,
    {
        let reload = Trigger::new();
        let reply = LocalResource::new(move || {
            reload.track();
            call().into_future()
        });
        Self { reload, reply }
    }

    /// How many match, over all pages (0 until loaded).
    pub fn total(self) -> Signal<i64> {
        Signal::derive(move || {
            self.reply
                .get()
                .and_then(|r| r.ok())
                .and_then(|e| e.total)
                .unwrap_or(0)
        })
    }

    /// The rows loaded: none while loading or after a failure.
    pub fn rows(self) -> Vec<Item> {
        self.reply
            .get()
            .and_then(|r| r.ok())
            .and_then(|e| e.data)
            .unwrap_or_default()
    }

    /// Whether the first answer, rows or failure, is in.
    pub fn answered(self) -> bool {
        self.reply.get().is_some()
    }
}

/// A list's table: the head's cells (the children), then a row per item, or in their
/// place what the list waits for, lacks (`empty`; without it an empty list shows no row)
/// or failed with. `columns` is the column count, for the colspan of those stand-ins.
/// Attributes given as `attr:` go on the `<table>`.
#[component]
pub fn ListTable<Item, V, R>(
    list: Listing<Item>,
    columns: &'static str,
    row: R,
    children: Children,
    #[prop(optional)] empty: Option<T>,
    /// Shows a failure's message as it came: the audit log checks its own filters and
    /// words their failures in the reader's language already.
    #[prop(optional)]
    untranslated: bool,
) -> impl IntoView
where
    Item: Clone + 'static,
    V: IntoView + 'static,
    R: Fn(Item) -> V + Send + Sync + 'static,
{
    let i18n = use_i18n();
    view! {
        <table>
            <thead>
                <tr>{children()}</tr>
            </thead>
            <tbody>
                {move || match list.reply.get() {
                    None => note_row(columns, i18n.t(T::Loading)),
                    Some(Err(failure)) if untranslated => error_row(columns, failure.message),
                    Some(Err(failure)) => error_row(columns, crate::refusals::shown(i18n, &failure)),
                    Some(Ok(envelope)) => {
                        let rows = envelope.data.unwrap_or_default();
                        match empty {
                            Some(empty) if rows.is_empty() => note_row(columns, i18n.t(empty)),
                            _ => rows.into_iter().map(&row).collect_view().into_any(),
                        }
                    }
                }}
            </tbody>
        </table>
    }
}

/// A table row in place of the data: what the table waits for or lacks. `columns` is
/// the table's column count, for `colspan`.
fn note_row(columns: &'static str, text: impl Fn() -> &'static str + Send + Sync + 'static) -> AnyView {
    view! { <tr><td colspan=columns>{text}</td></tr> }.into_any()
}

/// A table row in place of the data: why it could not be loaded.
fn error_row(columns: &'static str, message: String) -> AnyView {
    view! { <tr><td colspan=columns class="error">{message}</td></tr> }.into_any()
}

/// Page number, page size and the total: "‹ 2 / 5 ›  43 total".
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
