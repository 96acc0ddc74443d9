//! The browser entry point: hydrates the pages the server rendered (after loading the
//! code of the page's lazy route, if it has one).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
