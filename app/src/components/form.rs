//! The pieces of a form: labelled fields, the password checklist, the form's notice, and
//! `FormErrors`, which puts each of the server's refusals next to the field it names.

use crate::client::Failure;
use crate::i18n::{I18n, T, use_i18n};
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

/// Field errors of a form: each shown next to its field, anything else above the form.
#[derive(Clone, Copy)]
pub struct FormErrors {
    fields: RwSignal<Vec<(&'static str, String)>>,
    pub general: RwSignal<Option<(bool, String)>>,
}

impl FormErrors {
    pub fn new() -> Self {
        Self {
            fields: RwSignal::new(Vec::new()),
            general: RwSignal::new(None),
        }
    }

    pub fn clear(self) {
        self.fields.set(Vec::new());
        self.general.set(None);
    }

    pub fn of(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.fields
                .get()
                .into_iter()
                .find(|(f, _)| *f == field)
                .map(|(_, m)| m)
        })
    }

    pub fn set_field(self, field: &'static str, message: String) {
        self.fields.update(|fields| fields.push((field, message)));
    }

    pub fn has_fields(self) -> bool {
        !self.fields.get_untracked().is_empty()
    }

    pub fn success(self, message: impl Into<String>) {
        self.general.set(Some((true, message.into())));
    }

    /// Puts a server refusal next to the field it names (translated where the rule is
    /// known), or above the form.
    pub fn show(self, i18n: I18n, failure: &Failure, known: &[&'static str]) {
        // An element of a list field (`redirectUris[1]`) shows next to the list.
        if let Some((field, rule)) = failure.field()
            && let Some(field) = known
                .iter()
                .find(|k| **k == field.split('[').next().unwrap_or(field))
        {
            // Translated where the rule or refusal is known, else the server's words.
            let message = crate::refusals::translate(i18n.lang(), field, rule).unwrap_or(rule);
            self.set_field(field, message.to_owned());
            return;
        }
        self.general.set(Some((
            false,
            format!(
                "{} {}",
                i18n.now(T::SomethingWrong),
                crate::refusals::shown(i18n, failure)
            ),
        )));
    }

    /// Checks one value with its rule before anything is sent.
    pub fn check<V, E>(self, i18n: I18n, field: &'static str, parsed: Result<V, E>) -> Option<V> {
        match parsed {
            Ok(value) => Some(value),
            Err(_) => {
                let text = crate::refusals::rule_text(i18n.lang(), field).unwrap_or("");
                self.set_field(field, text.to_owned());
                None
            }
        }
    }
}

impl Default for FormErrors {
    fn default() -> Self {
        Self::new()
    }
}
