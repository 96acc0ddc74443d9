//! Businesses: for the system administrator, the list with a name filter and the audit of
//! each; for everyone else, their own business (status and audit comment) and, for an
//! administrator without one, the request form.

use crate::client;
use crate::components::{
    Confirm, Field, FormErrors, ListTable, Listing, Notice, Pager, business_badge, format_time,
};
use crate::i18n::{T, use_i18n};
use crate::model::{
    Business, BusinessAudit, BusinessOrder, BusinessQuery, BusinessStatus, BusinessStatusFilter,
    BusinessVerdict, NewBusiness, Page, PageQuery, PageSize, Role, SortOrder,
};
use crate::rules::{BusinessName, Comment, LongText, Scale, Text};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn BusinessPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let page = RwSignal::new(1u32);
    let size = RwSignal::new(10u32);
    let name = RwSignal::new(String::new());
    // `/business?status=0`: the home page's queue links here.
    let status = RwSignal::new(
        use_query_map()
            .get_untracked()
            .get("status")
            .and_then(|s| s.parse().ok())
            .and_then(BusinessStatus::from_code),
    );
    let notice = RwSignal::new(None::<(bool, String)>);
    let list = Listing::new(move || {
        let query = BusinessQuery {
            status: status.get().map(BusinessStatusFilter),
            order_by: BusinessOrder::Id,
            order: SortOrder::Desc,
            page: Page::new(page.get()).unwrap_or_default(),
            page_size: PageSize::new(size.get()).unwrap_or_default(),
            name: Text::parse(&name.get())
                .ok()
                .filter(|n| !n.as_str().trim().is_empty()),
        };
        client::list_businesses(&query)
    });
    let total = list.total();
    let system_admin = move || session.role() == Some(Role::SystemAdmin);
    // The request form: administrators whose businesses are all refused or deleted.
    let may_request = move || {
        let me = session.me().flatten();
        let admin = me
            .as_ref()
            .is_some_and(|me| me.is_admin && me.role != Role::SystemAdmin);
        let live = list
            .rows()
            .iter()
            .any(|b| matches!(b.status, BusinessStatus::Pending | BusinessStatus::Approved));
        admin && list.answered() && !live
    };
    let row = move |b: Business| {
        let (id, pending, label) = (b.id, b.status == BusinessStatus::Pending, b.name.clone());
        let label2 = label.clone();
        view! {
            <tr data-business=b.name.clone()>
                <td data-label=i18n.t(T::Id)>{b.id}</td>
                <td data-label=i18n.t(T::BusinessName)>
                    <a href=format!("/business/{}", b.id)>{b.name.clone()}</a>
                </td>
                <td data-label=i18n.t(T::Status)>{business_badge(b.status)}</td>
                <td data-label=i18n.t(T::Comment) class="comment">{b.comment.clone()}</td>
                <td data-label=i18n.t(T::Owner)>{owner_link(session, &b)}</td>
                <td data-label=i18n.t(T::Created)>{format_time(b.create_time)}</td>
                <td data-label=i18n.t(T::Actions) class="actions">
                    {(system_admin() && pending)
                        .then(|| {
                            view! {
                                <button type="button" on:click=move |_| {
                                    decide(i18n, session, id, label.clone(), BusinessVerdict::Approve, notice, list.reload)
                                }>{i18n.t(T::Approve)}</button>
                                <button type="button" class="secondary" on:click=move |_| {
                                    decide(i18n, session, id, label2.clone(), BusinessVerdict::Disapprove, notice, list.reload)
                                }>{i18n.t(T::Reject)}</button>
                            }
                        })}
                </td>
            </tr>
        }
    };

    view! {
        <section class="card wide">
            <h1>{move || if system_admin() { i18n.now(T::Businesses) } else { i18n.now(T::MyBusiness) }}</h1>
            <Notice message=notice />
            {move || {
                system_admin()
                    .then(|| {
                        view! {
                            <div class="toolbar">
                                <input
                                    type="search"
                                    placeholder=i18n.t(T::Search)
                                    aria-label=i18n.t(T::Search)
                                    on:input=move |ev| {
                                        name.set(event_target_value(&ev));
                                        page.set(1);
                                    }
                                />
                                <label class="inline">
                                    {i18n.t(T::Status)}
                                    <select
                                        id="business-status-filter"
                                        on:change=move |ev| {
                                            status.set(event_target_value(&ev).parse().ok().and_then(BusinessStatus::from_code));
                                            page.set(1);
                                        }
                                    >
                                        <option value="" selected=move || status.get().is_none()>{i18n.t(T::AllStatuses)}</option>
                                        {[BusinessStatus::Pending, BusinessStatus::Approved, BusinessStatus::Disapproved, BusinessStatus::Deleted]
                                            .into_iter()
                                            .map(|s| {
                                                view! {
                                                    <option value=(s as u8).to_string() selected=move || status.get() == Some(s)>
                                                        {i18n.t(crate::components::business_status_text(s))}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                </label>
                            </div>
                        }
                    })
            }}
            <div class="table-wrap">
                <ListTable list columns="7" empty=T::NoBusinessYet row>
                    <th>{i18n.t(T::Id)}</th>
                    <th>{i18n.t(T::BusinessName)}</th>
                    <th>{i18n.t(T::Status)}</th>
                    <th>{i18n.t(T::Comment)}</th>
                    <th>{i18n.t(T::Owner)}</th>
                    <th>{i18n.t(T::Created)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
            {move || system_admin().then(|| view! { <Pager page size total /> })}
        </section>
        {move || may_request().then(|| view! { <RequestBusiness reload=list.reload /> })}
    }
}

/// The owner by name, linked to the users page (for those who may open it).
fn owner_link(session: crate::session::Session, business: &Business) -> AnyView {
    let name = if business.owner_name.is_empty() {
        business.user_id.to_string()
    } else {
        business.owner_name.clone()
    };
    if matches!(session.role(), Some(Role::SystemAdmin | Role::BusinessAdmin)) {
        view! { <a href=format!("/users?name={name}")>{name.clone()}</a> }.into_any()
    } else {
        view! { <span>{name}</span> }.into_any()
    }
}

/// Approve or reject a pending business from the list, in one step (no comment).
fn decide(
    i18n: crate::i18n::I18n,
    session: crate::session::Session,
    id: i64,
    name: String,
    verdict: BusinessVerdict,
    notice: RwSignal<Option<(bool, String)>>,
    reload: Trigger,
) {
    let body = BusinessAudit {
        status: verdict,
        comment: Comment::default(),
    };
    leptos::task::spawn_local(async move {
        match client::audit_business(id, &body).await {
            Ok(_) => {
                let done = match verdict {
                    BusinessVerdict::Approve => T::NameApproved,
                    BusinessVerdict::Disapprove => T::NameRejected,
                };
                notice.set(Some((true, i18n.fill(done, &name))));
                session.touch();
                reload.notify();
            }
            Err(failure) => notice.set(Some((false, crate::refusals::shown(i18n, &failure)))),
        }
    });
}

const BUSINESS_FIELDS: &[&str] = &["name", "introduce", "objective", "scale"];

#[component]
fn RequestBusiness(reload: Trigger) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let (name, introduce, objective, scale) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let errors = FormErrors::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let parsed = (
            errors.check(i18n, "name", BusinessName::parse(&name.get_untracked())),
            errors.check(i18n, "introduce", LongText::parse(&introduce.get_untracked())),
            errors.check(i18n, "objective", LongText::parse(&objective.get_untracked())),
            errors.check(i18n, "scale", Scale::parse(&scale.get_untracked())),
        );
        let (Some(name), Some(introduce), Some(objective), Some(scale)) = parsed else {
            return;
        };
        let request = NewBusiness {
            name,
            introduce,
            objective,
            scale,
        };
        leptos::task::spawn_local(async move {
            match client::request_business(&request).await {
                Ok(_) => {
                    errors.success(i18n.now(T::Requested));
                    session.reload_me();
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, BUSINESS_FIELDS),
            }
        });
    };
    view! {
        <section class="card narrow">
            <h2>{i18n.t(T::RequestBusiness)}</h2>
            <Notice message=errors.general />
            <form class="form" novalidate on:submit=submit>
                <Field id="business-name" label=T::BusinessName value=name error=errors.of("name") />
                <p class="hint">{move || crate::refusals::rule_text(i18n.lang(), "name")}</p>
                <Field id="business-introduce" label=T::Introduce value=introduce error=errors.of("introduce") kind="textarea" />
                <Field id="business-objective" label=T::Objective value=objective error=errors.of("objective") kind="textarea" />
                <Field id="business-scale" label=T::Scale value=scale error=errors.of("scale") />
                <button type="submit">{i18n.t(T::RequestBusiness)}</button>
            </form>
        </section>
    }
}

#[component]
pub fn BusinessDetail() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let params = use_params_map();
    let reload = Trigger::new();
    let id = move || params.get().get("id").unwrap_or_default();
    let business = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move { client::get_business(&id).await }
    });
    let comment = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let confirming = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();

    // The id of the business shown: the address's may be written otherwise (`7.0`).
    let audit = move |id: i64, verdict: BusinessVerdict| {
        errors.clear();
        let Some(comment) = errors.check(i18n, "comment", Comment::parse(&comment.get_untracked())) else {
            return;
        };
        let body = BusinessAudit {
            status: verdict,
            comment,
        };
        leptos::task::spawn_local(async move {
            match client::audit_business(id, &body).await {
                Ok(_) => {
                    let name = business
                        .get_untracked()
                        .and_then(|r| r.ok())
                        .and_then(|e| e.data)
                        .map(|b| b.name)
                        .unwrap_or_default();
                    let done = match verdict {
                        BusinessVerdict::Approve => T::NameApproved,
                        BusinessVerdict::Disapprove => T::NameRejected,
                    };
                    errors.success(i18n.fill(done, name));
                    session.touch();
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, &["comment", "status"]),
            }
        });
    };
    let delete = move |id: i64| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            confirming.set(false);
            match client::delete_business(id).await {
                Ok(_) => navigate("/business", Default::default()),
                Err(failure) => errors.show(i18n, &failure, &[]),
            }
        });
    };

    view! {
        <section class="card">
            <p>
                <a href="/business">{i18n.t(T::Back)}</a>
            </p>
            <Notice message=errors.general />
            {move || match business.get() {
                None => view! { <p>{i18n.t(T::Loading)}</p> }.into_any(),
                Some(Err(failure)) => view! { <p class="error">{crate::refusals::shown(i18n, &failure)}</p> }.into_any(),
                Some(Ok(envelope)) => {
                    let Some(b) = envelope.data else { return ().into_any() };
                    let id = b.id;
                    let delete = delete.clone();
                    view! {
                        <h1>{b.name.clone()}</h1>
                        <dl class="facts">
                            <dt>{i18n.t(T::Status)}</dt>
                            <dd>{business_badge(b.status)}</dd>
                            <dt>{i18n.t(T::Comment)}</dt>
                            <dd class="comment">{b.comment.clone()}</dd>
                            <dt>{i18n.t(T::Introduce)}</dt>
                            <dd>{b.introduce.clone()}</dd>
                            <dt>{i18n.t(T::Objective)}</dt>
                            <dd>{b.objective.clone()}</dd>
                            <dt>{i18n.t(T::Scale)}</dt>
                            <dd>{b.scale.clone()}</dd>
                            <dt>{i18n.t(T::Owner)}</dt>
                            <dd>{owner_link(session, &b)}</dd>
                            <dt>{i18n.t(T::Created)}</dt>
                            <dd>{format_time(b.create_time)}</dd>
                            <dt>{i18n.t(T::Updated)}</dt>
                            <dd>{format_time(b.update_time)}</dd>
                        </dl>
                        {matches!(session.role(), Some(Role::SystemAdmin | Role::BusinessAdmin))
                            .then(|| view! { <Members id=b.id /> })}
                        {(session.role() == Some(Role::SystemAdmin) && b.status != BusinessStatus::Deleted)
                            .then(|| {
                                let delete = delete.clone();
                                view! {
                                    <form class="form" novalidate on:submit=|ev| ev.prevent_default()>
                                        <Field id="audit-comment" label=T::Comment value=comment error=errors.of("comment") kind="textarea" />
                                        <div class="buttons">
                                            <button type="button" on:click=move |_| audit(id, BusinessVerdict::Approve)>
                                                {i18n.t(T::Approve)}
                                            </button>
                                            <button type="button" class="secondary" on:click=move |_| audit(id, BusinessVerdict::Disapprove)>
                                                {i18n.t(T::Disapprove)}
                                            </button>
                                            {move || {
                                                let delete = delete.clone();
                                                if confirming.get() {
                                                    view! {
                                                        <Confirm
                                                            question=i18n.now(T::ConfirmDeleteBusiness).to_owned()
                                                            on_yes=move |_| delete(id)
                                                            on_no=move |_| confirming.set(false)
                                                        />
                                                    }
                                                        .into_any()
                                                } else {
                                                    view! {
                                                        <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                                                            {i18n.t(T::Delete)}
                                                        </button>
                                                    }
                                                        .into_any()
                                                }
                                            }}
                                        </div>
                                    </form>
                                }
                            })}
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A business's members by name, each linked to the users page (roles 3 and 4).
#[component]
fn Members(id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let members = LocalResource::new(move || async move {
        let query = PageQuery {
            page_size: PageSize::new(100).unwrap_or_default(),
            ..Default::default()
        };
        client::list_members(id, &query).await
    });
    view! {
        <h2>{i18n.t(T::Members)}</h2>
        {move || match members.get() {
            None => view! { <p>{i18n.t(T::Loading)}</p> }.into_any(),
            Some(Err(failure)) => view! { <p class="error">{crate::refusals::shown(i18n, &failure)}</p> }.into_any(),
            Some(Ok(envelope)) => {
                let total = envelope.total.unwrap_or(0);
                let shown = envelope.data.unwrap_or_default();
                let more = total - shown.len() as i64;
                view! {
                    <ul class="members" data-total=total.to_string()>
                        {shown
                            .into_iter()
                            .map(|user| {
                                view! {
                                    <li>
                                        <a href=format!("/users?name={}", user.user)>{user.user.clone()}</a>
                                        " "
                                        <span class="muted">{user.real_name.clone()}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                        {(more > 0).then(|| view! { <li class="muted">{format!("+{more}")}</li> })}
                    </ul>
                }
                    .into_any()
            }
        }}
    }
}
