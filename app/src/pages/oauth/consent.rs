//! `/oauth/authorize`, where an application sends the browser to sign someone in: the page
//! hands the request (its address's query) to `POST /v1/oauth/authorize` and follows the
//! answer: back to the application (a code, or an error for it), the sign-in form (then
//! it asks again), or the question whether the application may sign the person in.

use crate::client;
use crate::components::ScopeList;
use crate::i18n::{I18n, T, text, use_i18n};
use crate::model::{AuthorizeAnswer, AuthorizeDecision, ClientSummary};
use crate::pages::login::SignInForm;
use crate::session::{hydrated, use_session};
use leptos::prelude::*;

/// Where the page is in the exchange.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    /// Waiting for the server's answer, and before hydration (the server renders this:
    /// the request and the token are the browser's).
    Asking,
    /// The person must sign in first; `again` when a session was there (the application
    /// asked for a fresh sign-in, or the session had ended). `client` is `None` when the
    /// server could not be asked who is asking.
    SignIn {
        client: Option<ClientSummary>,
        again: bool,
    },
    /// May the application sign the person in, learning what its scopes say?
    Consent {
        client: ClientSummary,
        scopes: Vec<String>,
    },
    /// The browser is on its way back to the application.
    Leaving,
    /// The request cannot go on (an unknown application, a redirect URI it did not
    /// register), and nothing is sent back to it.
    Refused(String),
}

#[component]
pub fn Consent() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let flow = Flow {
        stage: RwSignal::new(Stage::Asking),
        busy: RwSignal::new(false),
        i18n,
    };
    // Once hydrated, and once only: the page rendered by the server must stay as it was
    // until then.
    Effect::new(move |asked: Option<bool>| {
        if asked == Some(true) {
            return true;
        }
        let ready = hydrated();
        if ready {
            flow.ask(None);
        }
        ready
    });
    // Signed out from the menu while the question is open: the answer is now "sign in".
    Effect::new(move |_| {
        if session.me() == Some(None) && matches!(flow.stage.get_untracked(), Stage::Consent { .. }) {
            flow.ask(None);
        }
    });

    move || match flow.stage.get() {
        Stage::Asking => view! {
            <section class="card narrow" aria-busy="true">
                <p>{i18n.t(T::Loading)}</p>
            </section>
        }
        .into_any(),
        Stage::Leaving => view! {
            <section class="card narrow" aria-busy="true">
                <p role="status">{i18n.t(T::BackToApplication)}</p>
            </section>
        }
        .into_any(),
        Stage::Refused(message) => view! {
            <section class="card narrow">
                <h1>{i18n.t(T::AuthorizeFailed)}</h1>
                <p class="notice error" role="alert">{message}</p>
                <p>
                    <a href="/">{i18n.t(T::BackToPortal)}</a>
                </p>
            </section>
        }
        .into_any(),
        Stage::SignIn { client, again } => {
            let name = client.map(|c| c.name);
            let heading = {
                let name = name.clone();
                move || match &name {
                    Some(name) => i18n.fill_t(T::SignInToContinue, name),
                    None => text(i18n.lang(), T::SignIn).to_owned(),
                }
            };
            let reason = Signal::derive(move || {
                let name = name.as_ref().filter(|_| again)?;
                Some((false, i18n.fill_t(T::SignInAgainFor, name)))
            });
            view! {
                <section class="card narrow">
                    <h1>{heading}</h1>
                    <SignInForm reason signed_in=move |_| flow.ask(None) />
                </section>
            }
            .into_any()
        }
        Stage::Consent { client, scopes } => {
            let name = client.name;
            let me = move || {
                session
                    .me()
                    .flatten()
                    .map(|me| i18n.fill_t(T::SignedInAs, me.display_name))
            };
            view! {
                <section class="card narrow" aria-labelledby="consent-heading">
                    <h1 id="consent-heading">{move || i18n.fill_t(T::WantsToSignYouIn, &name)}</h1>
                    <p class="hint">{me}</p>
                    <p>{i18n.t(T::ItWillLearn)}</p>
                    <ScopeList scopes />
                    <div class="buttons">
                        <button type="button" disabled=move || flow.busy.get() on:click=move |_| flow.ask(Some(true))>
                            {i18n.t(T::Allow)}
                        </button>
                        <button
                            type="button"
                            class="secondary"
                            disabled=move || flow.busy.get()
                            on:click=move |_| flow.ask(Some(false))
                        >
                            {i18n.t(T::Deny)}
                        </button>
                    </div>
                </section>
            }
            .into_any()
        }
    }
}

/// The page's state, and how it asks the server.
#[derive(Clone, Copy)]
struct Flow {
    stage: RwSignal<Stage>,
    busy: RwSignal<bool>,
    i18n: I18n,
}

impl Flow {
    /// Posts the request with the decision (`None`: none yet) and follows the answer.
    fn ask(self, approve: Option<bool>) {
        let decision = AuthorizeDecision {
            query: request_query(),
            approve,
        };
        let had_token = token_stored();
        self.busy.set(true);
        leptos::task::spawn_local(async move {
            let reply = client::authorize(&decision).await;
            self.busy.set(false);
            let stage = match reply {
                Ok(envelope) => match envelope.data {
                    Some(AuthorizeAnswer {
                        redirect: Some(to), ..
                    }) => {
                        leave(&to);
                        Stage::Leaving
                    }
                    Some(answer) if answer.login => Stage::SignIn {
                        client: Some(answer.client),
                        again: had_token,
                    },
                    Some(answer) => Stage::Consent {
                        client: answer.client,
                        scopes: answer.scopes,
                    },
                    None => Stage::Refused(self.i18n.now(T::SomethingWrong).to_owned()),
                },
                // The stored token had ended (and is dropped now): ask as nobody, who is
                // told to sign in.
                Err(failure) if failure.status == 401 && had_token && !token_stored() => {
                    self.ask(None);
                    return;
                }
                Err(failure) if failure.status == 401 => Stage::SignIn {
                    client: None,
                    again: false,
                },
                Err(failure) => Stage::Refused(crate::refusals::shown(self.i18n, &failure)),
            };
            self.stage.set(stage);
        });
    }
}

/// The authorization request as the application sent it: this page's query string,
/// without the `?`.
fn request_query() -> String {
    #[cfg(feature = "hydrate")]
    if let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) {
        return search.strip_prefix('?').unwrap_or(&search).to_owned();
    }
    String::new()
}

fn token_stored() -> bool {
    #[cfg(feature = "hydrate")]
    let stored = client::session().is_some();
    #[cfg(not(feature = "hydrate"))]
    let stored = false;
    stored
}

/// Sends the browser to the application; this page leaves the history, so "back" does not
/// post the request again.
fn leave(to: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(to);
    }
    let _ = to;
}
