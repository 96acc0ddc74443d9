//! Registration: every field, the password rule ticked off live, the server's refusals
//! next to their fields, then the page that says approval is pending.

use crate::client;
use crate::components::{Field, FormErrors, Notice, PasswordChecklist};
use crate::i18n::{T, use_i18n};
use crate::model::NewUser;
use crate::rules::{Password, Phone, RealName, UserName};
use leptos::prelude::*;

/// The fields of `NewUser`, as the server names them in its messages.
pub const USER_FIELDS: &[&str] = &["user", "password", "phone", "realName", "isAdmin", "businessId"];

/// The form state of a new user, shared by registration and "create a user".
#[derive(Clone, Copy)]
pub struct NewUserForm {
    pub user: RwSignal<String>,
    pub password: RwSignal<String>,
    pub phone: RwSignal<String>,
    pub real_name: RwSignal<String>,
    pub is_admin: RwSignal<bool>,
}

impl NewUserForm {
    pub fn new() -> Self {
        Self {
            user: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            phone: RwSignal::new(String::new()),
            real_name: RwSignal::new(String::new()),
            is_admin: RwSignal::new(false),
        }
    }

    /// Checks every field with the shared rules; `None` if any fails (errors are set).
    pub fn parse(self, errors: FormErrors, business_id: Option<i64>) -> Option<NewUser> {
        let i18n = use_i18n();
        let user = errors.check(i18n, "user", UserName::parse(&self.user.get_untracked()));
        let password = errors.check(i18n, "password", Password::parse(&self.password.get_untracked()));
        let phone = errors.check(i18n, "phone", Phone::parse(&self.phone.get_untracked()));
        let real_name = errors.check(i18n, "realName", RealName::parse(&self.real_name.get_untracked()));
        Some(NewUser {
            user: user?,
            password: password?,
            phone: phone?,
            real_name: real_name?,
            is_admin: self.is_admin.get_untracked(),
            business_id,
        })
    }

    pub fn reset(self) {
        for field in [self.user, self.password, self.phone, self.real_name] {
            field.set(String::new());
        }
        self.is_admin.set(false);
    }
}

impl Default for NewUserForm {
    fn default() -> Self {
        Self::new()
    }
}

/// The fields of a new user.
#[component]
pub fn NewUserFields(
    form: NewUserForm,
    errors: FormErrors,
    prefix: &'static str,
    admin_label: T,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = move |name: &str| format!("{prefix}-{name}");
    let admin_id = id("admin");
    view! {
        <Field id=id("user") label=T::UserName value=form.user error=errors.of("user") autocomplete="username" />
        <Field
            id=id("password")
            label=T::Password
            value=form.password
            error=errors.of("password")
            kind="password"
            autocomplete="new-password"
        />
        <PasswordChecklist value=form.password />
        <Field id=id("phone") label=T::Phone value=form.phone error=errors.of("phone") kind="tel" autocomplete="tel" />
        <Field
            id=id("real-name")
            label=T::RealName
            value=form.real_name
            error=errors.of("realName")
            autocomplete="name"
        />
        <div class="field checkbox">
            <input id=admin_id.clone() type="checkbox" bind:checked=form.is_admin />
            <label for=admin_id>{i18n.t(admin_label)}</label>
        </div>
    }
}

#[component]
pub fn Register() -> impl IntoView {
    let i18n = use_i18n();
    let form = NewUserForm::new();
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let Some(new_user) = form.parse(errors, None) else {
            return;
        };
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let reply = client::register(&new_user).await;
            busy.set(false);
            match reply {
                Ok(_) => navigate("/awaiting", Default::default()),
                Err(failure) => errors.show(i18n, &failure, USER_FIELDS),
            }
        });
    };

    view! {
        <section class="card narrow">
            <h1>{i18n.t(T::CreateAccount)}</h1>
            <Notice message=errors.general />
            <form class="form" novalidate on:submit=submit>
                <NewUserFields form errors prefix="register" admin_label=T::IsAdmin />
                <button type="submit" disabled=move || busy.get()>
                    {i18n.t(T::Register)}
                </button>
            </form>
            <p>
                {i18n.t(T::HaveAccount)} " " <a href="/login">{i18n.t(T::SignIn)}</a>
            </p>
        </section>
    }
}
