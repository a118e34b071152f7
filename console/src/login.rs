//! The login form: email and password, and the gateway's refusal in its own words.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{AgentProfile, LoginRequest, LoginResponse};

use crate::api::call;

use crate::words::t;

pub fn login(agent: RwSignal<Option<Option<AgentProfile>>>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            let body = serde_json::to_value(body).ok();
            match call::<LoginResponse>(Request::post("/v1/agent/login"), body).await {
                Ok(login) => agent.set(Some(Some(login.agent))),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <main>
        <form class="login" on:submit=submit>
            <h1>{t("agent_console")}</h1>
            <input type="email" placeholder=t("email") autocomplete="username" data-testid="email"
                on:input=move |ev| email.set(event_target_value(&ev)) prop:value=move || email.get() />
            <input type="password" placeholder=t("password") autocomplete="current-password" data-testid="password"
                on:input=move |ev| password.set(event_target_value(&ev)) prop:value=move || password.get() />
            <button type="submit" data-testid="login">{t("log_in")}</button>
            {move || error.get().map(|e| view! { <p class="error" data-testid="login-error">{e}</p> })}
            {crate::words::language_choice()}
        </form>
        </main>
    }
}
