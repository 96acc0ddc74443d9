//! OTE Portal's shared crate: the wire types and field rules of the /v1 contract, and the
//! pages. The server compiles it with `ssr`, the browser bundle with `hydrate`.

pub mod client;
pub mod components;
pub mod device;
pub mod i18n;
pub mod model;
pub mod pages;
pub mod refusals;
pub mod rules;
pub mod session;

pub use session::{hydrated, hydration_finished};

use i18n::{Lang, T};
use leptos::prelude::*;
use leptos_meta::{Html, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, StaticSegment, path};
use model::Role;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The top bar, the navigation for the caller's role, and one route per page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let i18n = i18n::provide_i18n();
    let session = session::provide_session();

    view! {
        <Html attr:lang=move || i18n.lang().code() />
        <Stylesheet id="leptos" href="/pkg/ote-portal.css" />
        <Title text=i18n.t(T::Portal) />
        <Router>
            <div class="app" data-hydrated=move || hydrated().then_some("true")>
                <a class="skip" href="#main">{i18n.t(T::SkipToContent)}</a>
                <header class="topbar">
                    <A href="/" attr:class="brand">{i18n.t(T::Portal)}</A>
                    <Nav session />
                    <label class="lang">
                        <span class="visually-hidden">{i18n.t(T::Language)}</span>
                        <select
                            aria-label=i18n.t(T::Language)
                            on:change=move |ev| {
                                i18n.set(if event_target_value(&ev) == "zh-CN" { Lang::Zh } else { Lang::En })
                            }
                        >
                            <option value="en" selected=move || i18n.lang() == Lang::En>"English"</option>
                            <option value="zh-CN" selected=move || i18n.lang() == Lang::Zh>"简体中文"</option>
                        </select>
                    </label>
                </header>
                <main id="main" tabindex="-1">
                    <Routes fallback=pages::NotFound>
                        <Route path=StaticSegment("") view={Lazy::<HomeRoute>::new()} />
                        <Route path=StaticSegment("login") view=pages::Login />
                        <Route path=StaticSegment("register") view={Lazy::<RegisterRoute>::new()} />
                        <Route path=StaticSegment("awaiting") view=pages::Awaiting />
                        <Route path=StaticSegment("users") view={Lazy::<UsersRoute>::new()} />
                        <Route path=StaticSegment("business") view={Lazy::<BusinessPageRoute>::new()} />
                        <Route path=path!("/business/:id") view={Lazy::<BusinessDetailRoute>::new()} />
                        <Route path=StaticSegment("audit") view={Lazy::<AuditRoute>::new()} />
                        <Route path=StaticSegment("security") view={Lazy::<SecurityRoute>::new()} />
                        <Route path=StaticSegment("webhooks") view={Lazy::<WebhooksRoute>::new()} />
                        <Route path=StaticSegment("applications") view={Lazy::<ApplicationsRoute>::new()} />
                        <Route path=path!("/oauth/authorize") view={Lazy::<ConsentRoute>::new()} />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// The pages behind the lazy routes: their code is one split of the bundle (`cargo leptos
/// build --split`), loaded together the first time any of them is shown, so that the login
/// page, which every visitor sees first, loads only the frame and its own form. One split
/// rather than one per route: a split per route made the users page fetch 50 small chunks
/// (over HTTP/1.1, six at a time), slower on a first visit than the whole bundle.
#[derive(Clone, Copy)]
enum LazyPage {
    Home,
    Register,
    Users,
    Businesses,
    Business,
    Audit,
    Security,
    Webhooks,
    Applications,
    Consent,
}

/// In the split build, the pages' code is fetched the first time one is shown
/// (`app/build.rs` says which build this is).
#[cfg(ote_split)]
#[leptos::lazy]
fn lazy_page_view(page: LazyPage) -> AnyView {
    page_view(page)
}

/// In every other build, the pages' code is in the one bundle.
#[cfg(not(ote_split))]
async fn lazy_page_view(page: LazyPage) -> AnyView {
    page_view(page)
}

fn page_view(page: LazyPage) -> AnyView {
    match page {
        LazyPage::Home => view! { <pages::Home /> }.into_any(),
        LazyPage::Register => view! { <pages::Register /> }.into_any(),
        LazyPage::Users => view! { <pages::Users /> }.into_any(),
        LazyPage::Businesses => view! { <pages::BusinessPage /> }.into_any(),
        LazyPage::Business => view! { <pages::BusinessDetail /> }.into_any(),
        LazyPage::Audit => view! { <pages::Audit /> }.into_any(),
        LazyPage::Security => view! { <pages::Security /> }.into_any(),
        LazyPage::Webhooks => view! { <pages::Webhooks /> }.into_any(),
        LazyPage::Applications => view! { <pages::Applications /> }.into_any(),
        LazyPage::Consent => view! { <pages::Consent /> }.into_any(),
    }
}

/// A route type per lazy page (the router tells routes apart by type). Each page loads
/// its data itself, so a route has none.
macro_rules! lazy_routes {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_: Self) -> AnyView {
                lazy_page_view(LazyPage::$page).await
            }

            // The router awaits this before it hydrates the route: the page's code must be
            // there by then, or the route hydrates empty and mismatches the server's HTML.
            async fn preload() {
                #[cfg(all(feature = "hydrate", ote_split))]
                __preload_lazy_page_view().await;
            }
        }
    )*};
}

lazy_routes!(
    HomeRoute => Home,
    RegisterRoute => Register,
    UsersRoute => Users,
    BusinessPageRoute => Businesses,
    BusinessDetailRoute => Business,
    AuditRoute => Audit,
    SecurityRoute => Security,
    WebhooksRoute => Webhooks,
    ApplicationsRoute => Applications,
    ConsentRoute => Consent,
);

/// Links for what the caller's role may use; nothing else is shown. The system
/// administrator's links carry the queue's counts. Below 640 px the links fold behind a
/// menu button.
#[component]
fn Nav(session: session::Session) -> impl IntoView {
    let i18n = i18n::use_i18n();
    let open = RwSignal::new(false);
    // A new page: the counts may have moved, and the folded menu closes.
    let pathname = leptos_router::hooks::use_location().pathname;
    Effect::new(move |previous: Option<String>| {
        let now = pathname.get();
        if previous.is_some_and(|p| p != now) {
            session.touch();
            open.set(false);
        }
        now
    });
    let link = move |href: &'static str, label: T| view! { <A href=href>{i18n.t(label)}</A> };
    let counted = move |href: &'static str, label: T, count: fn(&model::Queue) -> i64| {
        let count = move || session.queue().flatten().map(|q| count(&q)).filter(|n| *n > 0);
        view! {
            <A href=href>
                {i18n.t(label)}
                {move || {
                    count()
                        .map(|n| {
                            view! {
                                <span class="count">
                                    <span aria-hidden="true">{n}</span>
                                    <span class="visually-hidden">{move || format!(" ({})", i18n.fill_t(T::CountPending, n))}</span>
                                </span>
                            }
                        })
                }}
            </A>
        }
    };
    view! {
        <button
            type="button"
            class="secondary menu-toggle"
            aria-controls="main-nav"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            {i18n.t(T::Menu)}
        </button>
        <nav id="main-nav" class="nav" class:open=move || open.get() aria-label="main">
            {move || match session.me() {
                None => ().into_any(),
                Some(None) => view! { {link("/login", T::SignIn)} {link("/register", T::Register)} }.into_any(),
                Some(Some(me)) => {
                    let role = me.role;
                    view! {
                        {link("/", T::Home)}
                        {match role {
                            Role::SystemAdmin => Some(counted("/users", T::Users, |q| q.pending_users).into_any()),
                            Role::BusinessAdmin => Some(link("/users", T::Users).into_any()),
                            _ => None,
                        }}
                        {match role {
                            Role::SystemAdmin => {
                                Some(counted("/business", T::Businesses, |q| q.pending_businesses).into_any())
                            }
                            Role::Pending => None,
                            _ => Some(link("/business", T::Business).into_any()),
                        }}
                        {matches!(role, Role::BusinessAdmin | Role::SystemAdmin).then(|| link("/audit", T::AuditLog))}
                        {(role == Role::SystemAdmin).then(|| link("/webhooks", T::Webhooks))}
                        {(role == Role::SystemAdmin).then(|| link("/applications", T::Applications))}
                        {link("/security", T::Security)}
                        <span class="who">{me.display_name}</span>
                        <button type="button" class="secondary" on:click=move |_| session::sign_out()>
                            {i18n.t(T::SignOut)}
                        </button>
                    }
                        .into_any()
                }
            }}
        </nav>
    }
}
