//! The business picker of the "create a user" form.

use super::business_badge;
use crate::i18n::{T, use_i18n};
use crate::model::BusinessStatus;
use leptos::prelude::*;

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
            crate::client::list_businesses(&query)
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
