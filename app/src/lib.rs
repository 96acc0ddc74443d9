//! OTE Portal's shared crate: the wire types and field rules of the /v1 contract, and the
//! pages. The server compiles it with `ssr`, the browser bundle with `hydrate`.

pub mod model;
pub mod pages;
pub mod rules;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
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

/// The router: one route per page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, so this marks the moment hydration has happened.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/ote-portal.css" />
        <Title text="OTE Portal" />
        <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
            <header class="topbar">
                <a class="brand" href="/">"OTE Portal"</a>
            </header>
            <main id="main">
                <Router>
                    <Routes fallback=pages::NotFound>
                        <Route path=StaticSegment("") view=pages::Login />
                        <Route path=StaticSegment("login") view=pages::Login />
                    </Routes>
                </Router>
            </main>
        </div>
    }
}
