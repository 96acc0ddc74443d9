//! The login form. Wiring it to `POST /v1/authorization` belongs to the UI issue; here it
//! renders on the server and becomes interactive once hydrated.

use leptos::prelude::*;

#[component]
pub fn Login() -> impl IntoView {
    let (show_password, set_show_password) = signal(false);

    view! {
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <form class="form" method="post" action="/login">
                <label for="login-user">"User name"</label>
                <input id="login-user" name="user" autocomplete="username" required />
                <label for="login-password">"Password"</label>
                <div class="input-row">
                    <input
                        id="login-password"
                        name="password"
                        autocomplete="current-password"
                        required
                        type=move || if show_password.get() { "text" } else { "password" }
                    />
                    <button
                        type="button"
                        class="secondary"
                        aria-pressed=move || show_password.get().to_string()
                        on:click=move |_| set_show_password.update(|shown| *shown = !*shown)
                    >
                        {move || if show_password.get() { "Hide" } else { "Show" }}
                    </button>
                </div>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
