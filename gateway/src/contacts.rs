//! Contacts: the person behind a visitor, created at their first message. A company matches
//! them with its own records through the REST API (channel secret or admin): external id, email,
//! names and labels. Agents read them in the console, with every past conversation.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use protocol::{
    ContactExport, ContactUpdate, ContactView, ErasedContact, ExportedConversation, Problem,
};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{path_id, secret_or_login, Login};
use crate::error::{ApiJson, Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::{ChannelRecord, ContactRecord};

const MAX_FIELD_CHARS: usize = 200;
const MAX_LABEL_CHARS: usize = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read, update, erase))
        .routes(routes!(export))
        .routes(routes!(add_label, remove_label))
}

/// A contact with its channel, for a caller allowed to read (any agent) or write (an admin);
/// the channel's secret allows both.
struct ContactAccess<const WRITE: bool> {
    contact: ContactRecord,
    channel: ChannelRecord,
    /// The admin calling, None for the holder of the channel's secret (or a reading agent).
    admin: Option<crate::store::AgentRecord>,
}

impl<const WRITE: bool> FromRequestParts<AppState> for ContactAccess<WRITE> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let id = path_id(parts, state).await?;
        let contact = state.store.contact(&id).await?;
        let channel = match &contact {
            Some(c) => state.store.channel_by_id(&c.channel_id).await?,
            None => None,
        };
        let also = if WRITE { Login::Admin } else { Login::AnyAgent };
        let (channel, admin) = secret_or_login(parts, state, channel, also).await?;
        Ok(ContactAccess {
            contact: contact.ok_or(Error::NotFound)?,
            channel,
            admin: admin.filter(|_| WRITE),
        })
    }
}

async fn view(
    state: &AppState,
    contact: ContactRecord,
    channel: &ChannelRecord,
) -> Result<ContactView> {
    Ok(ContactView {
        labels: state.store.contact_labels(&contact.id).await?,
        conversations: state.store.contact_conversations(&contact.id).await?,
        id: contact.id,
        channel_id: channel.id.clone(),
        channel_key: channel.key.clone(),
        visitor_id: contact.visitor_id,
        external_id: contact.external_id,
        email: contact.email,
        first_name: contact.first_name,
        last_name: contact.last_name,
        name: contact.name,
        phone: contact.phone,
        consent_version: contact.consent_version,
        consent_at_ms: contact.consent_at_ms,
        verified_at_ms: contact.verified_at_ms,
        attributes: contact.attributes,
        startable: !channel.receptive,
    })
}

/// A contact with labels and every conversation.
#[utoipa::path(
    get,
    path = "/v1/contacts/{id}",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = []), ("agentCookie" = [])),
    responses((status = 200, description = "Done.", body = ContactView))
)]
async fn read(
    State(state): State<AppState>,
    access: ContactAccess<false>,
) -> Result<Json<ContactView>> {
    Ok(Json(view(&state, access.contact, &access.channel).await?))
}

/// A sent field replaces the stored one; an empty string clears it.
fn set(
    field: &mut Option<String>,
    name: &str,
    sent: &Option<String>,
    problems: &mut BTreeMap<String, Problem>,
) {
    let Some(value) = sent.as_deref().map(str::trim) else {
        return;
    };
    if value.chars().count() > MAX_FIELD_CHARS {
        problems.insert(
            name.to_owned(),
            Problem::AtMostCharacters {
                max: MAX_FIELD_CHARS as u64,
            },
        );
    } else {
        *field = Some(value.to_owned()).filter(|v| !v.is_empty());
    }
}

pub fn apply(mut contact: ContactRecord, update: &ContactUpdate) -> Result<ContactRecord> {
    let mut problems = BTreeMap::new();
    set(
        &mut contact.external_id,
        "external_id",
        &update.external_id,
        &mut problems,
    );
    set(&mut contact.email, "email", &update.email, &mut problems);
    set(
        &mut contact.first_name,
        "first_name",
        &update.first_name,
        &mut problems,
    );
    set(
        &mut contact.last_name,
        "last_name",
        &update.last_name,
        &mut problems,
    );
    if contact.email.as_deref().is_some_and(|e| !e.contains('@')) {
        problems.insert("email".into(), Problem::Email);
    }
    if problems.is_empty() {
        Ok(contact)
    } else {
        Err(Error::Validation(problems))
    }
}

/// Set a contact's ids, email and names.
#[utoipa::path(
    put,
    path = "/v1/contacts/{id}",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    request_body = ContactUpdate,
    responses((status = 200, description = "Done.", body = ContactView))
)]
async fn update(
    State(state): State<AppState>,
    access: ContactAccess<true>,
    ApiJson(update): ApiJson<ContactUpdate>,
) -> Result<Json<ContactView>> {
    let contact = apply(access.contact, &update)?;
    state.store.save_contact(&contact, now_ms()).await?;
    Ok(Json(view(&state, contact, &access.channel).await?))
}

fn check_label(label: &str) -> Result<&str> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::field(
            "label",
            Problem::Characters {
                min: 1,
                max: MAX_LABEL_CHARS as u64,
            },
        ));
    }
    Ok(label)
}

/// Label a contact.
#[utoipa::path(
    put,
    path = "/v1/contacts/{id}/labels/{label}",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = ContactView))
)]
async fn add_label(
    State(state): State<AppState>,
    access: ContactAccess<true>,
    Path((_, label)): Path<(String, String)>,
) -> Result<Json<ContactView>> {
    state
        .store
        .add_contact_label(&access.contact.id, check_label(&label)?)
        .await?;
    Ok(Json(view(&state, access.contact, &access.channel).await?))
}

/// Remove a label.
#[utoipa::path(
    delete,
    path = "/v1/contacts/{id}/labels/{label}",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 204, description = "Done."))
)]
async fn remove_label(
    State(state): State<AppState>,
    access: ContactAccess<true>,
    Path((_, label)): Path<(String, String)>,
) -> Result<StatusCode> {
    state
        .store
        .remove_contact_label(&access.contact.id, label.trim())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erase a contact and everything about them.
///
/// On the person's request: every conversation of theirs with its messages, files, rating,
/// events and statistics, the emails to them, the webhook events that told of them with their
/// deliveries, their labels and the contact itself go, in one transaction. A `contact.erased`
/// webhook names them by id so receivers can forget their copies. Refused (`409
/// contact_in_conversation`) while one of their conversations is not closed.
#[utoipa::path(
    delete,
    path = "/v1/contacts/{id}",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Erased.", body = ErasedContact))
)]
async fn erase(
    State(state): State<AppState>,
    access: ContactAccess<true>,
) -> Result<Json<ErasedContact>> {
    let (erased, blobs) = state
        .store
        .erase_contact(&access.contact.id, now_ms())
        .await?
        .ok_or(Error::NotFound)?;
    // Whom is not written down: only how much went.
    let gone = protocol::Change {
        before: Some(erased.conversation_ids.len().to_string()),
        after: None,
        redacted: false,
    };
    let actor = crate::audit::by_admin_or_secret(access.admin.as_ref(), &access.channel);
    let action = protocol::AuditAction::ContactErased;
    let changes = [("conversations".to_owned(), gone)].into();
    crate::audit::record(
        &state,
        &actor,
        action,
        Some(&access.channel.id),
        None,
        changes,
    )
    .await?;
    // The erasure is done and answered either way: no row names these bytes any more.
    if let Err(e) = crate::files::delete_unused(&state.files.blobs, &state.store, blobs).await {
        tracing::warn!(error = %e, "an erased contact's file stays until the next sweep");
    }
    Ok(Json(erased))
}

/// Export everything held about a contact.
///
/// One JSON document: the contact with its labels, every conversation with all its messages
/// (files as links valid for a while), events and statistics, and the emails sent to them.
#[utoipa::path(
    get,
    path = "/v1/contacts/{id}/export",
    tag = "Agents",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = ContactExport))
)]
async fn export(
    State(state): State<AppState>,
    access: ContactAccess<true>,
) -> Result<impl IntoResponse> {
    let now = now_ms();
    let contact = view(&state, access.contact, &access.channel).await?;
    let mut conversations = Vec::new();
    let mut emails = Vec::new();
    // The least recently active first.
    for conversation in contact.conversations.iter().rev() {
        let messages = state
            .store
            .messages_after(
                &conversation.id,
                0,
                crate::transcripts::MAX_TRANSCRIPT_MESSAGES,
            )
            .await?
            .into_iter()
            .map(|message| crate::attachments::links::with_links(&state, message, now))
            .collect();
        emails.extend(state.store.conversation_emails(&conversation.id).await?);
        conversations.push(ExportedConversation {
            conversation: conversation.clone(),
            messages,
            events: state.store.conversation_events(&conversation.id).await?,
            statistics: state
                .store
                .conversation_statistics(&conversation.id)
                .await?,
        });
    }
    let file_name = format!("attachment; filename=\"contact-{}.json\"", contact.id);
    Ok((
        [(header::CONTENT_DISPOSITION, file_name)],
        Json(ContactExport {
            exported_at_ms: now,
            contact,
            conversations,
            emails,
        }),
    ))
}
