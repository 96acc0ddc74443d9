//! Applications, for the system administrator (SPEC.md section 12): the OpenID Connect
//! clients that sign people in through the portal. Add one (its secret shown once), edit
//! its name and URIs, disable or enable it, delete it.

use crate::client::{self, Call};
use crate::components::{Confirm, CopyButton, Field, FormErrors, ListTable, Listing, Notice};
use crate::i18n::{I18n, T, use_i18n};
use crate::model::{Client, ClientChange, CreatedClient, MAX_REDIRECT_URIS, NewClient};
use crate::rules::{ClientName, RedirectUri};
use leptos::prelude::*;

/// The fields the server may name in a refusal of this page's forms.
const FIELDS: &[&str] = &["name", "redirectUris", "postLogoutRedirectUris"];

#[component]
pub fn Applications() -> impl IntoView {
    let i18n = use_i18n();
    let notice = RwSignal::new(None);
    let clients = Listing::new(client::list_clients);
    view! {
        <section class="card wide" id="applications">
            <h1>{i18n.t(T::Applications)}</h1>
            <p>{i18n.t(T::ApplicationsText)}</p>
            <Notice message=notice />
            <div class="table-wrap">
                <ListTable
                    list=clients
                    columns="6"
                    empty=T::NothingHere
                    row=move |client| view! { <ClientRow client reload=clients.reload notice /> }
                >
                    <th>{i18n.t(T::ApplicationName)}</th>
                    <th>{i18n.t(T::ClientId)}</th>
                    <th>{i18n.t(T::ClientType)}</th>
                    <th>{i18n.t(T::RedirectUris)}</th>
                    <th>{i18n.t(T::Status)}</th>
                    <th>{i18n.t(T::Actions)}</th>
                </ListTable>
            </div>
        </section>
        <AddClient reload=clients.reload />
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Nothing,
    Edit,
    Delete,
}

#[component]
fn ClientRow(client: Client, reload: Trigger, notice: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(Open::Nothing);
    let id = client.client_id.clone();
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
    let enabled = client.enabled;
    let toggle = {
        let id = id.clone();
        move |_| {
            let change = ClientChange {
                enabled: Some(!enabled),
                ..Default::default()
            };
            act(client::change_client(&id, &change));
        }
    };
    let kind = if client.public {
        T::PublicType
    } else {
        T::ConfidentialType
    };
    view! {
        <tr data-client=client.name.clone() data-client-id=id.clone()>
            <td>{client.name.clone()}</td>
            <td><code>{id.clone()}</code></td>
            <td>{i18n.t(kind)}</td>
            <td>
                <ul class="uris">
                    {client.redirect_uris.iter().map(|uri| view! { <li><code>{uri.clone()}</code></li> }).collect_view()}
                </ul>
            </td>
            <td>
                {if enabled {
                    view! { <span class="badge approved">{i18n.t(T::Enabled)}</span> }
                } else {
                    view! { <span class="badge forbidden">{i18n.t(T::Disabled)}</span> }
                }}
            </td>
            <td class="actions">
                <button type="button" class="secondary" aria-expanded=move || (open.get() == Open::Edit).to_string()
                    on:click=move |_| open.update(|o| *o = if *o == Open::Edit { Open::Nothing } else { Open::Edit })>
                    {i18n.t(T::Edit)}
                </button>
                <button type="button" class="secondary" on:click=toggle>
                    {move || if enabled { i18n.now(T::Disable) } else { i18n.now(T::Enable) }}
                </button>
                <button type="button" class="danger" on:click=move |_| open.set(Open::Delete)>{i18n.t(T::Delete)}</button>
            </td>
        </tr>
        {move || match open.get() {
            Open::Nothing => ().into_any(),
            Open::Delete => {
                let (id, name) = (id.clone(), client.name.clone());
                view! {
                    <tr><td colspan="6">
                        <Confirm
                            question=format!("{} ({name})", i18n.now(T::ConfirmDeleteApplication))
                            on_yes=move |_| act(client::delete_client(&id))
                            on_no=move |_| open.set(Open::Nothing)
                        />
                    </td></tr>
                }.into_any()
            }
            Open::Edit => view! { <tr><td colspan="6"><EditClient client=client.clone() open reload notice /></td></tr> }.into_any(),
        }}
    }
}

#[component]
fn EditClient(
    client: Client,
    open: RwSignal<Open>,
    reload: Trigger,
    notice: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(client.name.clone());
    let redirects = RwSignal::new(client.redirect_uris.join("\n"));
    let logouts = RwSignal::new(client.post_logout_redirect_uris.join("\n"));
    let enabled = RwSignal::new(client.enabled);
    let errors = FormErrors::new();
    let id = client.client_id.clone();
    let prefix = format!("edit-{id}");
    let enabled_id = format!("{prefix}-enabled");
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let fields = checked(
            i18n,
            errors,
            &name.get_untracked(),
            &redirects.get_untracked(),
            &logouts.get_untracked(),
        );
        let Some((name, redirect_uris, post_logout_redirect_uris)) = fields else {
            return;
        };
        let change = ClientChange {
            name: Some(name),
            redirect_uris: Some(redirect_uris),
            post_logout_redirect_uris: Some(post_logout_redirect_uris),
            enabled: Some(enabled.get_untracked()),
        };
        let id = id.clone();
        leptos::task::spawn_local(async move {
            match client::change_client(&id, &change).await {
                Ok(_) => {
                    open.set(Open::Nothing);
                    notice.set(Some((true, i18n.now(T::Done).to_owned())));
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, FIELDS),
            }
        });
    };
    view! {
        <form class="form" novalidate on:submit=save>
            <Notice message=errors.general />
            <ClientFields prefix name redirects logouts errors />
            <div class="field checkbox">
                <input id=enabled_id.clone() type="checkbox" bind:checked=enabled />
                <label for=enabled_id>{i18n.t(T::ApplicationEnabled)}</label>
            </div>
            <div class="buttons">
                <button type="submit">{i18n.t(T::Save)}</button>
                <button type="button" class="secondary" on:click=move |_| open.set(Open::Nothing)>{i18n.t(T::Cancel)}</button>
            </div>
        </form>
    }
}

/// The name and the two lists of URIs, each checked by its rule before anything is sent;
/// what is wrong shows next to its field.
fn checked(
    i18n: I18n,
    errors: FormErrors,
    name: &str,
    redirects: &str,
    logouts: &str,
) -> Option<(ClientName, Vec<RedirectUri>, Vec<RedirectUri>)> {
    let name = ClientName::parse(name)
        .map_err(|_| errors.set_field("name", i18n.now(T::ClientNameRule).to_owned()))
        .ok();
    let redirects = uris(i18n, errors, "redirectUris", redirects, 1);
    let logouts = uris(i18n, errors, "postLogoutRedirectUris", logouts, 0);
    Some((name?, redirects?, logouts?))
}

/// A URI a line (blank lines skipped): `least` to `MAX_REDIRECT_URIS` of them, none twice.
fn uris(
    i18n: I18n,
    errors: FormErrors,
    field: &'static str,
    text: &str,
    least: usize,
) -> Option<Vec<RedirectUri>> {
    let mut list: Vec<RedirectUri> = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let Ok(uri) = RedirectUri::parse(line) else {
            errors.set_field(field, format!("{line}: {}", i18n.now(T::RedirectUriRule)));
            return None;
        };
        if list.contains(&uri) {
            errors.set_field(field, i18n.fill(T::UriTwice, line));
            return None;
        }
        list.push(uri);
    }
    if !(least..=MAX_REDIRECT_URIS).contains(&list.len()) {
        let rule = if least == 0 {
            T::PostLogoutUrisCount
        } else {
            T::RedirectUrisCount
        };
        errors.set_field(field, i18n.now(rule).to_owned());
        return None;
    }
    Some(list)
}

#[component]
fn ClientFields(
    prefix: String,
    name: RwSignal<String>,
    redirects: RwSignal<String>,
    logouts: RwSignal<String>,
    errors: FormErrors,
) -> impl IntoView {
    view! {
        <Field id=format!("{prefix}-name") label=T::ApplicationName value=name error=errors.of("name") />
        <Field
            id=format!("{prefix}-redirect-uris")
            label=T::RedirectUris
            value=redirects
            error=errors.of("redirectUris")
            kind="textarea"
            hint=T::UrisHint
        />
        <Field
            id=format!("{prefix}-post-logout-uris")
            label=T::PostLogoutRedirectUris
            value=logouts
            error=errors.of("postLogoutRedirectUris")
            kind="textarea"
            hint=T::UrisHint
        />
    }
}

#[component]
fn AddClient(reload: Trigger) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let redirects = RwSignal::new(String::new());
    let logouts = RwSignal::new(String::new());
    let public = RwSignal::new(false);
    let errors = FormErrors::new();
    let created = RwSignal::new(None::<CreatedClient>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let fields = checked(
            i18n,
            errors,
            &name.get_untracked(),
            &redirects.get_untracked(),
            &logouts.get_untracked(),
        );
        let Some((client_name, redirect_uris, post_logout_redirect_uris)) = fields else {
            return;
        };
        let body = NewClient {
            name: client_name,
            redirect_uris,
            public: public.get_untracked(),
            post_logout_redirect_uris,
        };
        leptos::task::spawn_local(async move {
            match client::create_client(&body).await {
                Ok(envelope) => {
                    created.set(envelope.data);
                    name.set(String::new());
                    redirects.set(String::new());
                    logouts.set(String::new());
                    public.set(false);
                    reload.notify();
                }
                Err(failure) => errors.show(i18n, &failure, FIELDS),
            }
        });
    };
    view! {
        <section class="card narrow" id="add-application">
            <h2>{i18n.t(T::AddApplication)}</h2>
            <Notice message=errors.general />
            {move || created.get().map(|made| {
                let shown_once = if made.client_secret.is_some() { T::ClientSecretShownOnce } else { T::PublicClientNoSecret };
                view! {
                    <div class="notice ok" role="status">
                        <p>{i18n.t(shown_once)}</p>
                        <dl class="facts">
                            <dt>{i18n.t(T::ClientId)}</dt>
                            <dd>
                                <code data-testid="client-id">{made.client_id.clone()}</code>
                                " "
                                <CopyButton text=made.client_id notice=errors.general />
                            </dd>
                            {made.client_secret.map(|secret| view! {
                                <dt>{i18n.t(T::ClientSecret)}</dt>
                                <dd>
                                    <code data-testid="client-secret">{secret.clone()}</code>
                                    " "
                                    <CopyButton text=secret notice=errors.general />
                                </dd>
                            })}
                        </dl>
                    </div>
                }
            })}
            <form class="form" novalidate on:submit=create>
                <ClientFields prefix="new-client".to_owned() name redirects logouts errors />
                <div class="field checkbox">
                    <input id="new-client-public" type="checkbox" aria-describedby="new-client-public-hint" bind:checked=public />
                    <label for="new-client-public">{i18n.t(T::PublicClient)}</label>
                </div>
                <p class="hint" id="new-client-public-hint">{i18n.t(T::PublicClientHint)}</p>
                <button type="submit">{i18n.t(T::AddApplication)}</button>
            </form>
        </section>
    }
}
