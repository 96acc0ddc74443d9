//! OTE Portal's shared crate: the wire types and field rules of the /v1 contract, and the
//! pages. The server compiles it with `ssr`, the browser bundle with `hydrate`.

pub mod client;
pub mod components;
pub mod i18n;
pub mod model;
pub mod pages;
pub mod refusals;
pub mod rules;
pub mod session;

use i18n::{Lang, T};
use leptos::prelude::*;
use leptos_meta::{Html, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, StaticSegment, lazy_route, path};
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

thread_local! {
    static HYDRATED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// Whether the browser has hydrated the page the server rendered, its lazy route
/// included (tracked). Until then a view must render what the server did: a route whose
/// code is still loading hydrates after the session's calls may have answered, and a
/// view that showed their answer then would not match the server's HTML. On the server,
/// always false.
pub fn hydrated() -> bool {
    HYDRATED.with(|flag| flag.get())
}

/// Called by the browser entry point once hydration is over (`frontend`).
pub fn hydration_finished() {
    HYDRATED.with(|flag| flag.set(true));
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
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Declares a route whose page is loaded when first visited: the login page, which every
/// visitor sees first, loads only its own code (`cargo leptos build --split` cuts the
/// bundle at these points). Each page loads its data itself, so a route has none here.
macro_rules! lazy_page {
    ($($route:ident => $page:path),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_page!(
    HomeRoute => pages::Home,
    RegisterRoute => pages::Register,
    UsersRoute => pages::Users,
    BusinessPageRoute => pages::BusinessPage,
    BusinessDetailRoute => pages::BusinessDetail,
    AuditRoute => pages::Audit,
    SecurityRoute => pages::Security,
    WebhooksRoute => pages::Webhooks,
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
                        {link("/security", T::Security)}
                        <span class="who">{me.display_name}</span>
                        <button type="button" class="secondary" on:click=move |_| pages::sign_out()>
                            {i18n.t(T::SignOut)}
                        </button>
                    }
                        .into_any()
                }
            }}
        </nav>
    }
}
