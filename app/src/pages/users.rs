//! Users (roles 3 and 4): the table with paging, sorting, filters and the pending queue,
//! the actions each role may take on a row, and creating a user.

use super::register::{NewUserFields, NewUserForm, USER_FIELDS};
use crate::client::{self, Call};
use crate::components::{
    BusinessPicker, Confirm, Field, FormErrors, ListTable, Listing, Notice, Pager, PasswordChecklist,
    format_time, role_text, user_badge,
};
use crate::i18n::{T, use_i18n};
use crate::model::{
    Page, PageSize, PasswordReset, Role, SortOrder, StatusFilter, User, UserAudit, UserOrder, UserQuery,
    UserStatus,
};
use crate::rules::{Password, Text};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Users() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let page = RwSignal::new(1u32);
    let size = RwSignal::new(10u32);
    let order_by = RwSignal::new(UserOrder::Id);
    let order = RwSignal::new(SortOrder::Asc);
    // `/users?status=0`: the home page's queue links here.
    let status = RwSignal::new(
        use_query_map()
            .get_untracked()
            .get("status")
            .and_then(|s| s.parse().ok())
            .and_then(UserStatus::from_code),
    );
    // `/users?name=alice`: the audit log links its users here.
    let name = RwSignal::new(use_query_map().get_untracked().get("name").unwrap_or_default());
    let notice = RwSignal::new(None::<(bool, String)>);

    let users = Listing::new(move || {
        let query = UserQuery {
            order_by: order_by.get(),
            order: order.get(),
            status: status.get().map(StatusFilter),
            name: Text::parse(&name.get())
                .ok()
                .filter(|n| !n.as_str().trim().is_empty()),
            page: Page::new(page.get()).unwrap_or_default(),
            page_size: PageSize::new(size.get()).unwrap_or_default(),
        };
        client::list_users(&query)
    });
    let total = users.total();
    let is_system_admin = move || session.role() == Some(Role::SystemAdmin);

    let sort_by = move |key: UserOrder| {
        if order_by.get_untracked() == key {
            order.update(|o| {
                *o = if *o == SortOrder::Asc {
                    SortOrder::Desc
                } else {
                    SortOrder::Asc
                }
            });
        } else {
            order_by.set(key);
            order.set(SortOrder::Asc);
        }
        page.set(1);
    };
    let aria_sort = move |key: UserOrder| {
        move || match (order_by.get() == key, order.get()) {
            (false, _) => "none",
            (true, SortOrder::Asc) => "ascending",
            (true, SortOrder::Desc) => "descending",
        }
    };
    let arrow = move |key: UserOrder| {
        move || match (order_by.get() == key, order.get()) {
            (false, _) => "",
            (true, SortOrder::Asc) => " ▲",
            (true, SortOrder::Desc) => " ▼",
        }
    };

    view! {
        <section class="card wide">
            <h1>{i18n.t(T::Users)}</h1>
            <Notice message=notice />
            <div class="toolbar">
                <label class="inline">
                    <span class="visually-hidden">{i18n.t(T::Search)}</span>
                    <input
                        type="search"
                        placeholder=i18n.t(T::Search)
                        aria-label=i18n.t(T::Search)
                        prop:value=move || name.get()
                        on:input=move |ev| {
                            name.set(event_target_value(&ev));
                            page.set(1);
                        }
                    />
                </label>
                <label class="inline">
                    {i18n.t(T::Status)}
                    <select
                        id="status-filter"
                        on:change=move |ev| {
                            status.set(event_target_value(&ev).parse().ok().and_then(UserStatus::from_code));
                            page.set(1);
                        }
                    >
                        <option value="" selected=move || status.get().is_none()>{i18n.t(T::AllStatuses)}</option>
                        {[UserStatus::Pending, UserStatus::Approved, UserStatus::NotApproved, UserStatus::Forbidden]
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <option value=(s as u8).to_string() selected=move || status.get() == Some(s)>
                                        {i18n.t(crate::components::user_status_text(s))}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                {move || {
                    is_system_admin()
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="secondary"
                                    aria-pressed=move || (status.get() == Some(UserStatus::Pending)).to_string()
                                    on:click=move |_| {
                                        status.set(Some(UserStatus::Pending));
                                        page.set(1);
                                    }
                                >
                                    {i18n.t(T::PendingQueue)}
                                </button>
                            }
                        })
                }}
            </div>
            <div class="table-wrap">
                <ListTable
                    list=users
                    columns="8"
                    empty=T::NothingHere
                    row=move |user| view! { <UserRow user reload=users.reload notice /> }
                >
                    <th aria-sort=aria_sort(UserOrder::Id)>
                        <button type="button" class="link" on:click=move |_| sort_by(UserOrder::Id)>
                            {i18n.t(T::Id)}
                            {arrow(UserOrder::Id)}
                        </button>
                    </th>
                    <th aria-sort=aria_sort(UserOrder::UserName)>
                        <button type="button" class="link" on:click=move |_| sort_by(UserOrder::UserName)>
                            {i18n.t(T::UserName)}
                            {arrow(UserOrder::UserName)}
                        </button>
                    </th>
                    <th>{i18n.t(T::RealName)}</th>
                    <th>{i18n.t(T::Phone)}</th>
                    <th>{i18n.t(T::Status)}</th>
                    <th>{i18n.t(T::Role)}</th>
                    <th>{i18n.t(T::Created)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
            <Pager page size total />
        </section>
        <CreateUser reload=users.reload />
    }
}

/// What is being asked about a row before it happens.
#[derive(Clone, Copy, PartialEq)]
enum Pending {
    Nothing,
    Forbid,
    Delete,
    Reset,
    ResetTotp,
}

#[component]
fn UserRow(user: User, reload: Trigger, notice: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let asking = RwSignal::new(Pending::Nothing);
    let new_password = RwSignal::new(String::new());
    let reset_errors = FormErrors::new();
    let id = user.id;
    let own_name = user.user.clone();
    let is_me = move || {
        session
            .me()
            .flatten()
            .is_some_and(|me| me.display_name == own_name)
    };
    let system_admin = move || session.role() == Some(Role::SystemAdmin);
    let untouchable = user.role == Role::SystemAdmin;

    let who = StoredValue::new(user.user.clone());
    let act = move |call: Call<()>, done: T| {
        let who = who.get_value();
        leptos::task::spawn_local(async move {
            let reply = call.await;
            asking.set(Pending::Nothing);
            match reply {
                Ok(_) => {
                    notice.set(Some((true, i18n.fill(done, &who))));
                    session.touch();
                    reload.notify();
                }
                Err(failure) => notice.set(Some((false, crate::refusals::shown(i18n, &failure)))),
            }
        });
    };
    let set_status = {
        move |status: UserStatus| {
            let done = match status {
                UserStatus::Approved => T::NameApproved,
                UserStatus::NotApproved => T::NameRejected,
                UserStatus::Forbidden => T::NameForbidden,
                UserStatus::Pending => T::Done,
            };
            act(client::audit_user(id, &UserAudit { status }), done);
        }
    };
    let reset = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        reset_errors.clear();
        let Some(password) =
            reset_errors.check(i18n, "password", Password::parse(&new_password.get_untracked()))
        else {
            return;
        };
        act(
            client::reset_password(id, &PasswordReset { password }),
            T::NamePasswordReset,
        );
    };
    let name = user.user.clone();

    view! {
        <tr data-user=user.user.clone()>
            <td data-label=i18n.t(T::Id)>{user.id}</td>
            <td data-label=i18n.t(T::UserName)>{user.user.clone()}</td>
            <td data-label=i18n.t(T::RealName)>{user.real_name.clone()}</td>
            <td data-label=i18n.t(T::Phone)>{user.phone.clone()}</td>
            <td data-label=i18n.t(T::Status)>{user_badge(user.status)}</td>
            // Refused and forbidden users hold no role (the derivation says "pending" only
            // because they never sign in to be asked).
            <td data-label=i18n.t(T::Role)>
                {if matches!(user.status, UserStatus::NotApproved | UserStatus::Forbidden) {
                    view! { <span class="muted">{i18n.t(T::NoRole)}</span> }.into_any()
                } else {
                    view! { <span>{i18n.t(role_text(user.role))}</span> }.into_any()
                }}
            </td>
            <td data-label=i18n.t(T::Created)>{format_time(user.create_time)}</td>
            <td data-label=i18n.t(T::Actions) class="actions">
                {move || {
                    if untouchable || is_me() {
                        return ().into_any();
                    }
                    let name = name.clone();
                    match asking.get() {
                        Pending::Forbid => {
                            view! {
                                <Confirm
                                    question=format!("{} ({name})", i18n.now(T::ConfirmForbid))
                                    on_yes=move |_| set_status(UserStatus::Forbidden)
                                    on_no=move |_| asking.set(Pending::Nothing)
                                />
                            }
                                .into_any()
                        }
                        Pending::Delete => {
                            view! {
                                <Confirm
                                    question=format!("{} ({name})", i18n.now(T::ConfirmDelete))
                                    on_yes=move |_| act(client::delete_user(id), T::NameDeleted)
                                    on_no=move |_| asking.set(Pending::Nothing)
                                />
                            }
                                .into_any()
                        }
                        Pending::ResetTotp => {
                            view! {
                                <Confirm
                                    question=format!("{} ({name})", i18n.now(T::ConfirmResetTwoFactor))
                                    on_yes=move |_| act(client::reset_totp(id), T::NameTwoFactorReset)
                                    on_no=move |_| asking.set(Pending::Nothing)
                                />
                            }
                                .into_any()
                        }
                        Pending::Reset => {
                            view! {
                                <form class="confirm" role="dialog" aria-label=i18n.t(T::ResetPassword) on:submit=reset>
                                    <p>{format!("{} {name}", i18n.now(T::ConfirmReset))}</p>
                                    <Field
                                        id=format!("reset-{id}")
                                        label=T::NewPassword
                                        value=new_password
                                        error=reset_errors.of("password")
                                        kind="password"
                                        autocomplete="new-password"
                                    />
                                    <PasswordChecklist value=new_password />
                                    <button type="submit" class="danger">{i18n.t(T::ResetPassword)}</button>
                                    <button type="button" class="secondary" on:click=move |_| asking.set(Pending::Nothing)>
                                        {i18n.t(T::Cancel)}
                                    </button>
                                </form>
                            }
                                .into_any()
                        }
                        Pending::Nothing => {
                            let status = user.status;
                            view! {
                                {(system_admin() && status != UserStatus::Approved)
                                    .then(|| {
                                        view! {
                                            <button type="button" on:click=move |_| set_status(UserStatus::Approved)>
                                                {i18n.t(T::Approve)}
                                            </button>
                                        }
                                    })}
                                {(system_admin() && status == UserStatus::Pending)
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="secondary"
                                                on:click=move |_| set_status(UserStatus::NotApproved)
                                            >
                                                {i18n.t(T::Reject)}
                                            </button>
                                        }
                                    })}
                                <details class="menu">
                                    <summary>{i18n.t(T::Actions)}</summary>
                                    <div class="menu-items">
                                        {(system_admin() && status != UserStatus::Forbidden)
                                            .then(|| {
                                                view! {
                                                    <button type="button" class="secondary" on:click=move |_| asking.set(Pending::Forbid)>
                                                        {i18n.t(T::Forbid)}
                                                    </button>
                                                }
                                            })}
                                        <button type="button" class="secondary" on:click=move |_| asking.set(Pending::Reset)>
                                            {i18n.t(T::ResetPassword)}
                                        </button>
                                        {user.totp.then(|| view! {
                                            <button type="button" class="secondary" on:click=move |_| asking.set(Pending::ResetTotp)>
                                                {i18n.t(T::ResetTwoFactor)}
                                            </button>
                                        })}
                                        <button type="button" class="danger" on:click=move |_| asking.set(Pending::Delete)>
                                            {i18n.t(T::Delete)}
                                        </button>
                                    </div>
                                </details>
                            }
                                .into_any()
                        }
                    }
                }}
            </td>
        </tr>
    }
}

#[component]
fn CreateUser(reload: Trigger) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let form = NewUserForm::new();
    let errors = FormErrors::new();
    let business_id = RwSignal::new(None::<i64>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let business = business_id.get_untracked();
        let Some(new_user) = form.parse(errors, business) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let name = new_user.user.as_str().to_owned();
            match client::create_user(&new_user).await {
                Ok(_) => {
                    form.reset();
                    business_id.set(None);
                    errors.success(i18n.fill(T::NameCreated, name));
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, USER_FIELDS),
            }
        });
    };
    view! {
        <section class="card narrow">
            <h2>{i18n.t(T::CreateUser)}</h2>
            <Notice message=errors.general />
            <form class="form" novalidate on:submit=submit>
                <NewUserFields form errors prefix="create" admin_label=T::AdminFlag />
                {move || {
                    (session.role() == Some(Role::SystemAdmin))
                        .then(|| {
                            view! {
                                <BusinessPicker id="create-business" chosen=business_id error=errors.of("businessId") />
                            }
                        })
                }}
                <button type="submit">{i18n.t(T::CreateUser)}</button>
            </form>
        </section>
    }
}
