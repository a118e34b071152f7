//! The audit log for admins (`GET /v1/admin/audit`): who changed what and when, newest first,
//! narrowed to a channel or an action; each change as its field's value before and after, a
//! secret only as changed.

use gloo_net::http::Request;
use leptos::prelude::*;
use protocol::{AuditAction, AuditEntry, AuditPage, Change, ErrorDetail};

use crate::api::call;
use crate::words::{fill, t};

/// A change as read: `before → after`, or that a secret changed.
pub fn describe_change(change: &Change) -> String {
    if change.redacted {
        return t("changed_hidden");
    }
    let said = |value: &Option<String>| value.clone().unwrap_or_else(|| "–".to_owned());
    format!("{} → {}", said(&change.before), said(&change.after))
}

pub fn audit_page() -> impl IntoView {
    let channel = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ErrorDetail>);
    let load = move |cursor: Option<String>| {
        let mut url = String::from("/v1/admin/audit?limit=50");
        for (name, value) in [
            ("channel_id", channel.get_untracked()),
            ("action", action.get_untracked()),
            ("cursor", cursor.clone().unwrap_or_default()),
        ] {
            if !value.is_empty() {
                url.push_str(&format!(
                    "&{name}={}",
                    String::from(js_sys::encode_uri_component(&value))
                ));
            }
        }
        leptos::task::spawn_local(async move {
            match call::<AuditPage>(Request::get(&url), None).await {
                Ok(page) => {
                    error.set(None);
                    next.set(page.next_cursor);
                    entries.update(|list| {
                        if cursor.is_none() {
                            list.clear();
                        }
                        list.extend(page.entries);
                    });
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    Effect::new(move |_| {
        channel.track();
        action.track();
        load(None);
    });
    let channels = crate::api::channel_choices(true);
    let channel_name = move |id: &str| {
        channels.with_untracked(|list| {
            list.iter()
                .find(|c| c.id == id)
                .map_or_else(|| id.to_owned(), |c| c.name.clone())
        })
    };
    let row = move |entry: AuditEntry| {
        let changes = entry
            .changes
            .iter()
            .map(|(field, change)| view! { <dt>{field.clone()}</dt><dd>{describe_change(change)}</dd> })
            .collect_view();
        let whom = entry.channel_id.as_deref().map(channel_name);
        let about = match (whom, entry.target) {
            (Some(channel), Some(target)) => format!("{channel} · {target}"),
            (Some(channel), None) => channel,
            (None, Some(target)) => target,
            (None, None) => String::new(),
        };
        view! {
            <li class="audit-entry" data-testid="audit-entry" data-action=entry.action.as_str()>
                <strong>{t(&format!("audit_{}", entry.action.as_str()))}</strong>
                " "<span class="muted">{fill("audit_by", &[("who", &entry.actor.name), ("at", &crate::time::local_time(entry.at_ms))])}</span>
                " "<span>{about}</span>
                <dl class="audit-changes">{changes}</dl>
            </li>
        }
    };
    view! {
        <section class="audit" data-testid="audit" aria-labelledby="audit-title">
            <h2 id="audit-title">{t("audit_log")}</h2>
            <div class="report-choice">
                <label>{t("channel")}" "
                    <select data-testid="audit-channel" on:change=move |ev| channel.set(event_target_value(&ev))>
                        <option value="">{t("all_channels")}</option>
                        {move || channels.get().into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                    </select>
                </label>
                <label>{t("audit_action")}" "
                    <select data-testid="audit-action" on:change=move |ev| action.set(event_target_value(&ev))>
                        <option value="">{t("any_action")}</option>
                        {AuditAction::ALL.iter().map(|a| view! { <option value=a.as_str()>{t(&format!("audit_{}", a.as_str()))}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            {move || error.get().map(|e| view! { <p class="error">{e.message}</p> })}
            <ul class="audit-list" data-testid="audit-list">
                {move || entries.get().into_iter().map(row).collect_view()}
            </ul>
            {move || next.get().map(|cursor| view! {
                <button class="link" data-testid="audit-more" on:click=move |_| load(Some(cursor.clone()))>{t("show_more")}</button>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_change_reads_before_and_after_and_a_secret_not_at_all() {
        let change = Change {
            before: Some("Shop".into()),
            after: None,
            redacted: false,
        };
        assert_eq!(describe_change(&change), "Shop → –");
        let secret = Change {
            redacted: true,
            ..Change::default()
        };
        assert_eq!(describe_change(&secret), t("changed_hidden"));
    }
}
