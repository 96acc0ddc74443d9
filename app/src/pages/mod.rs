//! The portal's pages, one module each, and what they share.

mod audit;
mod business;
mod home;
mod login;
mod register;
mod security;
mod users;
mod webhooks;

pub use audit::Audit;
pub use business::{BusinessDetail, BusinessPage};
pub use home::Home;
pub use login::{Awaiting, Login};
pub use register::Register;
pub use security::Security;
pub use users::Users;
pub use webhooks::Webhooks;

use crate::client::Failure;
use crate::i18n::{I18n, Lang, T, use_i18n};
use crate::rules;
use leptos::prelude::*;

/// Any path no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <section class="card">
            <h1>{i18n.t(T::NotFound)}</h1>
            <p>
                <a href="/">{i18n.t(T::BackToPortal)}</a>
            </p>
        </section>
    }
}

/// Logs out (the token is revoked on the server) and returns to the login form.
pub fn sign_out() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async {
        let _ =
            crate::client::call::<()>(crate::client::Method::Delete, "/v1/authorization", None::<&()>).await;
        crate::client::to_login("signed-out");
    });
}

/// The rule of a field in the reader's language, for messages the client makes itself
/// and for the server's `field: rule` messages about the same rules.
pub fn rule_text(lang: Lang, field: &str) -> Option<&'static str> {
    let zh = lang == Lang::Zh;
    Some(match field {
        "user" => {
            if zh {
                "须为 2-32 个 ASCII 字母、数字或 _ . -，并以字母或数字开头"
            } else {
                rules::UserName::RULE
            }
        }
        "password" => {
            if zh {
                "须为 8-20 个字符，至少包含一个大写字母、一个小写字母和一个数字"
            } else {
                rules::Password::RULE
            }
        }
        "phone" => {
            if zh {
                "须为 5-20 位数字，可以 + 开头"
            } else {
                rules::Phone::RULE
            }
        }
        "realName" => {
            if zh {
                "须为 1-64 个字符"
            } else {
                rules::RealName::RULE
            }
        }
        "name" => {
            if zh {
                "须为 DNS-1123 标签：1-63 个 a-z、0-9 或 -，以字母或数字开头和结尾"
            } else {
                rules::BusinessName::RULE
            }
        }
        "introduce" | "objective" => {
            if zh {
                "须为 1-1000 个字符"
            } else {
                rules::LongText::RULE
            }
        }
        "scale" => {
            if zh {
                "须为 1-64 个字符"
            } else {
                rules::Scale::RULE
            }
        }
        "comment" => {
            if zh {
                "最多 512 个字符"
            } else {
                rules::Comment::RULE
            }
        }
        _ => return None,
    })
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
        if let Some((field, rule)) = failure.field()
            && let Some(field) = known.iter().find(|k| **k == field)
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
                let text = rule_text(i18n.lang(), field).unwrap_or("");
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
