//! The portal's pages, one module each, and the page for any other address.

mod audit;
mod business;
mod home;
mod login;
mod oauth;
mod register;
mod security;
mod users;
mod webhooks;

pub use audit::Audit;
pub use business::{BusinessDetail, BusinessPage};
pub use home::Home;
pub use login::{Awaiting, Login};
pub use oauth::{Applications, Consent};
pub use register::Register;
pub use security::Security;
pub use users::Users;
pub use webhooks::Webhooks;

use crate::i18n::{T, use_i18n};
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
