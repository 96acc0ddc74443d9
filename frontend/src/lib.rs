//! The browser entry point: hydrates the pages the server rendered.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A page's route may have to load its code first (lazy routes), so hydration is
    // asynchronous; once it is over, views may show what the server could not know.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("the page has a body");
        let mounted = leptos::mount::hydrate_from_async(body, app::App).await;
        app::hydration_finished();
        mounted.forget();
    });
}
