//! The Channels page, for admins: what the admin API offers, on screen. Field errors from the
//! gateway (`validation_failed`) are shown next to their fields; a refused delete names the
//! channels that were kept and why. Each channel opens its rules ([`crate::rules`]) and its
//! endpoints ([`crate::integrations`]); the team's canned responses ([`crate::canned`]) sit below.

use gloo_net::http::{Request, RequestBuilder};
use leptos::prelude::*;
use protocol::{ChannelState, ChannelView, DeleteChannels, ErrorDetail, FileKind};
use serde_json::{json, Value};
use std::collections::BTreeSet;

use crate::api::call;

use crate::words::{fill, t};

#[derive(Clone, Copy)]
struct Page {
    channels: RwSignal<Vec<ChannelView>>,
    query: RwSignal<String>,
    chosen: RwSignal<BTreeSet<String>>,
    open: RwSignal<Option<ChannelView>>,
    error: RwSignal<Option<ErrorDetail>>,
    /// The channel whose rules page is open: (id, name).
    rules_of: RwSignal<Option<(String, String)>>,
}

impl Page {
    fn reload(self) {
        leptos::task::spawn_local(async move {
            let url = format!(
                "/v1/admin/channels?q={}",
                js_sys::encode_uri_component(&self.query.get_untracked())
            );
            match call::<Vec<ChannelView>>(Request::get(&url), None).await {
                Ok(list) => self.channels.set(list),
                Err(e) => self.error.set(Some(e)),
            }
        });
    }

    /// Runs a change; on success shows the channel it returns (a delete returns none) and
    /// reloads the list.
    fn change(self, request: RequestBuilder, body: Option<Value>) {
        leptos::task::spawn_local(async move {
            match call::<Value>(request, body).await {
                Ok(answer) => {
                    self.error.set(None);
                    self.chosen.set(BTreeSet::new());
                    self.open
                        .set(serde_json::from_value::<ChannelView>(answer).ok());
                    self.reload();
                }
                Err(e) => self.error.set(Some(e)),
            }
        });
    }
}

pub fn channels_page() -> impl IntoView {
    let page = Page {
        channels: RwSignal::new(vec![]),
        query: RwSignal::new(String::new()),
        chosen: RwSignal::new(BTreeSet::new()),
        open: RwSignal::new(None),
        error: RwSignal::new(None),
        rules_of: RwSignal::new(None),
    };
    page.reload();
    let back = move || page.rules_of.set(None);
    view! {
        {move || page.rules_of.get().map(|(id, name)| crate::rules::rules_page(id, name, back))}
        <div class="channels" class:hidden=move || page.rules_of.with(Option::is_some)>
            <section class="channel-list">
                <input type="search" placeholder=t("search_channels") data-testid="channel-search"
                    on:input=move |ev| { page.query.set(event_target_value(&ev)); page.reload(); } />
                {create_form(page)}
                <ul data-testid="channel-list">
                    {move || page.channels.get().into_iter().map(|c| channel_row(page, c)).collect_view()}
                </ul>
                <button data-testid="delete-chosen" disabled=move || page.chosen.with(BTreeSet::is_empty)
                    on:click=move |_| {
                        let ids: Vec<String> = page.chosen.get_untracked().into_iter().collect();
                        page.change(Request::post("/v1/admin/channels/delete"), Some(json!(DeleteChannels { ids })));
                    }>
                    {t("delete_selected")}
                </button>
            </section>
            {error_box(page)}
            {move || page.open.get().map(|c| detail(page, c))}
            {move || page.open.get().map(|c| crate::integrations::integrations(c.id))}
            {crate::canned::canned_admin()}
        </div>
    }
}

fn channel_row(page: Page, channel: ChannelView) -> impl IntoView {
    let id = channel.id.clone();
    let checked_id = channel.id.clone();
    let (label, class) = match channel.state {
        ChannelState::Online => ("online", "badge open"),
        ChannelState::Offline => ("offline", "badge"),
        ChannelState::Error => ("error", "badge error"),
    };
    let view_channel = channel.clone();
    view! {
        <li data-testid="channel" data-key=channel.key.clone()>
            <input type="checkbox" data-testid="channel-choose" aria-label=fill("choose_channel", &[("name", &channel.name)])
                prop:checked=move || page.chosen.with(|set| set.contains(&checked_id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    page.chosen.update(|set| { if on { set.insert(id.clone()); } else { set.remove(&id); } });
                } />
            <button class="link" data-testid="channel-open" on:click=move |_| page.open.set(Some(view_channel.clone()))>
                {channel.name.clone()}
            </button>
            <span class=class title=channel.error.clone().unwrap_or_default()>{t(&format!("channel_state_{label}"))}</span>
        </li>
    }
}

fn create_form(page: Page) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let timeout = RwSignal::new("600".to_owned());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // The timeout goes as typed: the gateway says what is wrong with it.
        let timeout_value = timeout
            .get_untracked()
            .trim()
            .parse::<i64>()
            .map_or_else(|_| json!(timeout.get_untracked()), |n| json!(n));
        let body = json!({"name": name.get_untracked(), "inactivity_timeout_secs": timeout_value});
        page.change(Request::post("/v1/admin/channels"), Some(body));
    };
    view! {
        <form class="create" on:submit=submit>
            <input placeholder=t("new_channel_name") data-testid="new-name" on:input=move |ev| name.set(event_target_value(&ev)) />
            {field_error(page, "name")}
            <label>{t("inactivity_timeout")}" "
                <input data-testid="new-timeout" prop:value=move || timeout.get() on:input=move |ev| timeout.set(event_target_value(&ev)) />
            </label>
            {field_error(page, "inactivity_timeout_secs")}
            <button type="submit" data-testid="create-channel">{t("create_channel")}</button>
        </form>
    }
}

/// The gateway's problems with `field` and with any part of it (`uploads.max_bytes`,
/// `allowed_origins[1]`).
fn field_error(page: Page, field: &'static str) -> impl IntoView {
    move || {
        page.error.with(|e| {
            e.iter()
                .flat_map(|e| &e.fields)
                .filter(|(at, _)| {
                    at.strip_prefix(field)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
                })
                .map(|(_, problem)| view! { <p class="error" data-testid=format!("error-{field}")>{problem.clone()}</p> })
                .collect_view()
        })
    }
}

fn error_box(page: Page) -> impl IntoView {
    move || {
        page.error.get().filter(|e| e.fields.is_empty()).map(|e| {
            let refused = e.refused.iter().map(|r| view! { <li>{format!("{}: {}", r.name, r.reason)}</li> }).collect_view();
            view! { <div class="error" data-testid="channels-error"><p>{e.message.clone()}</p><ul>{refused}</ul></div> }
        })
    }
}

fn detail(page: Page, channel: ChannelView) -> impl IntoView {
    let path = format!("/v1/admin/channels/{}", channel.id);
    let name = RwSignal::new(channel.name.clone());
    let timeout = RwSignal::new(channel.inactivity_timeout_secs.to_string());
    let idle_hours = RwSignal::new((channel.idle_close_secs as f64 / 3600.0).to_string());
    let retention = RwSignal::new(channel.retention_days.to_string());
    let origins = RwSignal::new(channel.allowed_origins.join("\n"));
    let online = RwSignal::new(channel.online);
    let receptive = RwSignal::new(channel.receptive);
    let visitor_uploads = RwSignal::new(channel.visitor_uploads);
    let upload_mib = RwSignal::new((channel.uploads.max_bytes as f64 / MIB).to_string());
    let upload_kinds = RwSignal::new(channel.uploads.kinds.clone());
    let save = {
        let path = path.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let origins: Vec<String> = origins
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let timeout_value = timeout
                .get_untracked()
                .trim()
                .parse::<i64>()
                .map_or_else(|_| json!(timeout.get_untracked()), |n| json!(n));
            // Hours on screen, seconds on the wire; what is not a number goes as typed, so the
            // gateway names the field.
            let idle = idle_hours.get_untracked();
            let idle_value = idle
                .trim()
                .parse::<f64>()
                .map_or_else(|_| json!(idle), |h| json!((h * 3600.0).round() as i64));
            // MiB on screen, bytes on the wire, as for the hours above.
            let mib = upload_mib.get_untracked();
            let max_bytes = mib
                .trim()
                .parse::<f64>()
                .map_or_else(|_| json!(mib), |m| json!((m * MIB).round() as u64));
            let days = retention.get_untracked();
            let retention_value = days
                .trim()
                .parse::<i64>()
                .map_or_else(|_| json!(days), |n| json!(n));
            let body = json!({
                "name": name.get_untracked(), "inactivity_timeout_secs": timeout_value,
                "idle_close_secs": idle_value, "retention_days": retention_value,
                "allowed_origins": origins, "online": online.get_untracked(), "receptive": receptive.get_untracked(),
                "visitor_uploads": visitor_uploads.get_untracked(),
                "uploads": {"max_bytes": max_bytes, "kinds": upload_kinds.get_untracked()},
            });
            page.change(Request::patch(&path), Some(body));
        }
    };
    let settings_path = StoredValue::new(path.clone());
    let save_settings =
        move |body: Value| settings_path.with_value(|p| page.change(Request::patch(p), Some(body)));
    let rotate = move |_| page.change(Request::post(&format!("{path}/rotate-secret")), None);
    let open_rules = {
        let target = (channel.id.clone(), channel.name.clone());
        move |_| page.rules_of.set(Some(target.clone()))
    };
    let snippet = channel.snippet.clone();
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&snippet);
        }
    };
    view! {
        <form class="detail" data-testid="channel-detail" on:submit=save>
            <h2>{channel.name.clone()}</h2>
            <label>{t("name")} <input data-testid="edit-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
            {field_error(page, "name")}
            <label>{t("inactivity_timeout")} <input data-testid="edit-timeout" prop:value=move || timeout.get() on:input=move |ev| timeout.set(event_target_value(&ev)) /></label>
            {field_error(page, "inactivity_timeout_secs")}
            <label>{t("idle_close")} <input data-testid="edit-idle-close" prop:value=move || idle_hours.get() on:input=move |ev| idle_hours.set(event_target_value(&ev)) /></label>
            {field_error(page, "idle_close_secs")}
            <label>{t("retention_days")} <input data-testid="edit-retention" inputmode="numeric" prop:value=move || retention.get() on:input=move |ev| retention.set(event_target_value(&ev)) /></label>
            {field_error(page, "retention_days")}
            <label>{t("allowed_origins")}
                <textarea data-testid="edit-origins" rows="3" prop:value=move || origins.get() on:input=move |ev| origins.set(event_target_value(&ev))></textarea>
            </label>
            {field_error(page, "allowed_origins")}
            <label class="check"><input type="checkbox" data-testid="edit-online" prop:checked=move || online.get() on:change=move |ev| online.set(event_target_checked(&ev)) />" "{t("channel_online")}</label>
            <label class="check"><input type="checkbox" prop:checked=move || receptive.get() on:change=move |ev| receptive.set(event_target_checked(&ev)) />" "{t("channel_receptive")}</label>
            <fieldset data-testid="edit-uploads">
                <legend>{t("files")}</legend>
                <label class="check"><input type="checkbox" data-testid="edit-visitor-uploads" prop:checked=move || visitor_uploads.get() on:change=move |ev| visitor_uploads.set(event_target_checked(&ev)) />" "{t("visitor_uploads")}</label>
                <label>{t("largest_file")} <input data-testid="edit-upload-mib" prop:value=move || upload_mib.get() on:input=move |ev| upload_mib.set(event_target_value(&ev)) /></label>
                {field_error(page, "uploads")}
                <p>{t("upload_kinds")}</p>
                {FileKind::ALL.iter().map(|&kind| view! {
                    <label class="check"><input type="checkbox" data-testid=format!("edit-kind-{kind}")
                        prop:checked=move || upload_kinds.with(|kinds| kinds.contains(&kind))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            upload_kinds.update(|kinds| {
                                kinds.retain(|k| *k != kind);
                                if on { kinds.push(kind); }
                            });
                        } />{format!(" {}", kind_label(kind))}</label>
                }).collect_view()}
            </fieldset>
            {crate::appearance_settings::appearance_settings(&channel, save_settings)}
            {crate::visitor_settings::visitor_settings(&channel, save_settings)}
            {crate::cobrowse_settings::cobrowse_settings(&channel, save_settings)}
            {crate::host_page_settings::host_page_settings(&channel, save_settings, move |request| page.change(request, None))}
            {crate::text_settings::text_settings(&channel, save_settings)}
            {move || page.error.with(|e| e.as_ref().map(|e| e.fields.iter()
                .filter(|(k, _)| ["prechat", "rating_scale", "when_unavailable", "missed_chat_secs", "email_sender_name", "appearance", "identity", "proactive", "texts", "cobrowse"].iter().any(|p| k.starts_with(p)))
                .map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>()).unwrap_or_default())
                .into_iter().map(|problem| view! { <p class="error" data-testid="visitor-settings-error">{problem}</p> }).collect_view()}
            <button type="submit" data-testid="save-channel">{t("save")}</button>
            <button type="button" data-testid="open-rules" on:click=open_rules>{t("open_rules")}</button>
            <dl>
                <dt>{t("channel_key")}</dt><dd data-testid="channel-key">{channel.key.clone()}</dd>
                <dt>{t("channel_secret")}</dt><dd data-testid="channel-secret">{channel.secret.clone()}</dd>
            </dl>
            <button type="button" data-testid="rotate-secret" on:click=rotate>{t("rotate_secret")}</button>
            <label>{t("snippet")}
                <textarea readonly rows="2" data-testid="channel-snippet">{channel.snippet.clone()}</textarea>
            </label>
            <button type="button" on:click=copy>{t("copy_snippet")}</button>
            {captcha_form(page, &channel)}
            <p>{t("chat_page")}" "
                <a data-testid="channel-url" href=channel.chat_url.clone() target="_blank" rel="noopener">{channel.chat_url.clone()}</a>
            </p>
        </form>
    }
}

const MIB: f64 = 1024.0 * 1024.0;

fn kind_label(kind: FileKind) -> String {
    match kind {
        FileKind::Image => t("kind_image"),
        FileKind::Pdf => "PDF".into(),
        FileKind::Text => t("kind_text"),
        FileKind::Office => t("kind_office"),
        FileKind::Archive => t("kind_archive"),
        FileKind::Media => t("kind_media"),
    }
}

/// Each provider by its name, with its label: a product's own name, or the key of words.
const PROVIDERS: &[(&str, Label)] = &[
    ("none", Label::Words("captcha_none")),
    ("recaptcha_v2", Label::Name("reCAPTCHA v2")),
    ("recaptcha_v3", Label::Words("captcha_v3")),
    ("hcaptcha", Label::Name("hCaptcha")),
    ("turnstile", Label::Name("Turnstile")),
];

enum Label {
    /// The same in every language.
    Name(&'static str),
    /// A key of the console's bundles.
    Words(&'static str),
}

impl Label {
    fn text(&self) -> String {
        match self {
            Label::Name(name) => (*name).to_owned(),
            Label::Words(key) => t(key),
        }
    }
}

/// The captcha settings, saved on their own: the secret is write-only, so an ordinary edit of
/// the channel never sends (and so never clears) it.
fn captcha_form(page: Page, channel: &ChannelView) -> impl IntoView {
    let path = format!("/v1/admin/channels/{}", channel.id);
    let current = channel.captcha.as_ref();
    let provider = RwSignal::new(current.map_or("none".to_owned(), |c| {
        serde_json::to_value(c.provider)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }));
    let site_key = RwSignal::new(current.map(|c| c.site_key.clone()).unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let min_score = RwSignal::new(
        current
            .and_then(|c| c.min_score)
            .map(|s| s.to_string())
            .unwrap_or_default(),
    );
    let save = move |_| {
        let captcha = match provider.get_untracked().as_str() {
            "none" => Value::Null,
            chosen => {
                let score = min_score.get_untracked();
                let mut settings = json!({
                    "provider": chosen, "site_key": site_key.get_untracked(),
                    "min_score": if score.trim().is_empty() { Value::Null } else { score.trim().parse::<f64>().map_or(json!(score), |n| json!(n)) },
                });
                // Left empty, the saved secret stays: it is never shown, so never re-sent.
                let typed = secret.get_untracked();
                if !typed.trim().is_empty() {
                    settings["secret"] = json!(typed);
                }
                settings
            }
        };
        page.change(Request::patch(&path), Some(json!({ "captcha": captcha })));
    };
    let captcha_problems = move || {
        page.error
            .with(|e| {
                e.as_ref()
                    .map(|e| {
                        e.fields
                            .iter()
                            .filter(|(k, _)| k.starts_with("captcha"))
                            .map(|(k, v)| format!("{k}: {v}"))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .into_iter()
            .map(|problem| view! { <p class="error" data-testid="captcha-error">{problem}</p> })
            .collect_view()
    };
    view! {
        <fieldset class="captcha-settings">
            <legend>{t("captcha")}</legend>
            <select data-testid="captcha-provider" aria-label=t("captcha_provider") on:change=move |ev| provider.set(event_target_value(&ev))>
                {PROVIDERS
                    .iter()
                    .map(|(value, label)| view! { <option value=*value selected=move || provider.get() == *value>{label.text()}</option> })
                    .collect_view()}
            </select>
            <input placeholder=t("captcha_site_key") data-testid="captcha-site-key" prop:value=move || site_key.get() on:input=move |ev| site_key.set(event_target_value(&ev)) />
            <input type="password" placeholder=t("captcha_secret") autocomplete="off" data-testid="captcha-secret" on:input=move |ev| secret.set(event_target_value(&ev)) />
            <input placeholder=t("captcha_min_score") prop:value=move || min_score.get() on:input=move |ev| min_score.set(event_target_value(&ev)) />
            {captcha_problems}
            <button type="button" data-testid="save-captcha" on:click=save>{t("save_captcha")}</button>
        </fieldset>
    }
}
