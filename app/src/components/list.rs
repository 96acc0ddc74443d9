//! The lists' tables: the rows that stand in for the data while it loads or when it
//! failed, and the pager under a long list.

use crate::i18n::{Lang, T, text, use_i18n};
use leptos::prelude::*;

/// A table row in place of the data: what the table waits for or lacks. `columns` is
/// the table's column count, for `colspan`.
pub fn note_row(columns: &'static str, text: impl Fn() -> &'static str + Send + Sync + 'static) -> AnyView {
    view! { <tr><td colspan=columns>{text}</td></tr> }.into_any()
}

/// A table row in place of the data: why it could not be loaded.
pub fn error_row(columns: &'static str, message: String) -> AnyView {
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
