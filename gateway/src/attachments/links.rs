//! Signed download links: for readers with no credential of their own at the gateway (a
//! webhook receiver, the REST API's caller, an email). A link names one file of one
//! conversation and an expiry, under the gateway's signing key; it is refused once the file is
//! in another conversation (never, in practice) or the time has passed.

use protocol::{ChatMessage, WebhookPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::AppState;

/// The purpose file links are signed for.
const FILE_LINK: &str = "file-link";

#[derive(Debug, Serialize, Deserialize)]
struct FileLink {
    /// The file.
    f: String,
    /// Its conversation.
    c: String,
    exp: i64,
}

/// A link to the file, valid until `expires_at_ms`.
pub fn link(state: &AppState, file_id: &str, conversation_id: &str, expires_at_ms: i64) -> String {
    let token = state.signer.sign(
        FILE_LINK,
        &FileLink {
            f: file_id.to_owned(),
            c: conversation_id.to_owned(),
            exp: expires_at_ms,
        },
    );
    format!(
        "{}/v1/files/{file_id}?link={token}",
        state.config.public_url()
    )
}

/// The conversation the link lets its holder read `file_id` of: `not_found` for a link that is
/// not the gateway's or not for this file, `link_expired` once it has expired.
pub fn verify(state: &AppState, file_id: &str, token: &str, now_ms: i64) -> Result<String> {
    let link: FileLink = state
        .signer
        .verify(FILE_LINK, token)
        .filter(|link: &FileLink| link.f == file_id)
        .ok_or(Error::NotFound)?;
    if link.exp <= now_ms {
        return Err(Error::LinkExpired);
    }
    Ok(link.c)
}

/// A webhook payload as it is sent: each file of its message and transcript with a link that
/// works from this attempt on (the stored payload has none, so a replay days later still gives
/// working links). A payload without files is sent byte for byte as stored.
pub fn in_payload(state: &AppState, payload: &str, now_ms: i64) -> String {
    if !payload.contains("\"attachments\"") {
        return payload.to_owned();
    }
    let Ok(mut parsed) = serde_json::from_str::<WebhookPayload>(payload) else {
        return payload.to_owned();
    };
    let data = &mut parsed.data;
    data.message = data
        .message
        .take()
        .map(|message| with_links(state, message, now_ms));
    data.transcript = data.transcript.take().map(|messages| {
        messages
            .into_iter()
            .map(|message| with_links(state, message, now_ms))
            .collect()
    });
    serde_json::to_string(&parsed).unwrap_or_else(|_| payload.to_owned())
}

/// The message with a link on each of its files, valid for the configured time from now.
pub fn with_links(state: &AppState, mut message: ChatMessage, now_ms: i64) -> ChatMessage {
    let expires = now_ms.saturating_add(crate::secs_to_ms(state.config.file_link_ttl_secs));
    for file in &mut message.attachments {
        file.url = Some(link(state, &file.id, &message.conversation_id, expires));
    }
    message
}
