//! `POST /v1/email/inbound`: a visitor's answer to one of our emails, as the raw RFC 5322
//! message a mail server's pipe or a provider's inbound webhook delivers. The `Reply-To` we set
//! names the conversation (a signed token); what the visitor wrote above the quoted email
//! becomes their message in it, once however often the mail server retries.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use protocol::InboundEmailOutcome;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::compose::REPLY_ABOVE;
use super::tokens::{self, Refused};
use crate::auth::MailServer;
use crate::conversations::{self, VisitorContext};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{ChannelRef, NewMessage, VisitContext};
use crate::{channels, now_ms, peer};

/// The largest email taken: the text is what counts, and a reply with big attachments is cut
/// off by the mail server's own limits long before the chat would show them.
pub const MAX_EMAIL_BYTES: usize = 2 * 1024 * 1024;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(inbound))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct InboundQuery {
    /// The envelope recipient, when the mail server passes it (a pipe's `${recipient}`):
    /// looked at before the message's own headers.
    to: Option<String>,
}

/// A visitor's reply by email.
///
/// The body is the raw message (`message/rfc822`). Only the mail server may call it, with the
/// configured `email_inbound_secret`. An automatic reply (`Auto-Submitted`) is accepted and
/// dropped, so an out-of-office never loops.
#[utoipa::path(
    post,
    path = "/v1/email/inbound",
    tag = "Integrations",
    security(("emailInboundSecret" = [])),
    params(InboundQuery),
    request_body(content = String, content_type = "message/rfc822"),
    responses((status = 200, description = "Done.", body = InboundEmailOutcome))
)]
async fn inbound(
    _: MailServer,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<InboundQuery>,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<InboundEmailOutcome>)> {
    let too_large = || {
        Error::BadRequest(format!(
            "an email can be at most {MAX_EMAIL_BYTES} bytes here"
        ))
    };
    let reply_to = state
        .config
        .email_reply_to
        .as_deref()
        .ok_or(Error::NotFound)?;
    let raw = raw.map_err(|_| too_large())?;
    if raw.len() > MAX_EMAIL_BYTES {
        return Err(too_large());
    }
    let email = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .ok_or_else(|| Error::BadRequest("the body is not an email".into()))?;
    let recipients = query.to.into_iter().chain(recipients(&email));
    let token = recipients
        .filter_map(|address| tokens::token_in_address(&address, reply_to).map(str::to_owned))
        .next()
        .ok_or(Error::InvalidReplyToken)?;
    let conversation_id = tokens::verify_reply_token(&state, &token, now_ms() / 1000).map_err(
        |refused| match refused {
            Refused::Forged => Error::InvalidReplyToken,
            Refused::Expired => Error::ReplyTokenExpired,
        },
    )?;
    let conversation = state
        .store
        .conversation(&conversation_id)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    if is_automatic(&email) {
        return Ok((
            StatusCode::ACCEPTED,
            Json(InboundEmailOutcome {
                conversation_id,
                seq: None,
            }),
        ));
    }
    let body = email.body_text(0).unwrap_or_default();
    let text = new_text(&body);
    let client_id = client_id(email.message_id(), &raw);
    let channel = channels::by_key(&state, &conversation.channel_key).await?;
    let ip = peer::client_ip(&state.config, peer.ip(), &headers);
    let appended = conversations::post_visitor_message(
        &state,
        &ChannelRef::from(&channel),
        VisitorContext {
            // The limits of one visitor's session hold for their emails to one conversation.
            session_id: &conversation_id,
            visitor_id: &conversation.visitor_id,
            ip,
            visit: VisitContext::default(),
        },
        NewMessage::now(&client_id, &text),
    )
    .await?;
    Ok((
        StatusCode::OK,
        Json(InboundEmailOutcome {
            conversation_id: appended.message.conversation_id,
            seq: Some(appended.message.seq),
        }),
    ))
}

/// Every address the email was for: the envelope headers mail servers add, then `To` and `Cc`.
fn recipients(email: &mail_parser::Message<'_>) -> Vec<String> {
    let mut found = Vec::new();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        if let Some(value) = email.header_raw(name) {
            found.push(value.trim().trim_matches(['<', '>']).to_owned());
        }
    }
    for list in [email.to(), email.cc()].into_iter().flatten() {
        found.extend(list.iter().filter_map(|a| a.address()).map(str::to_owned));
    }
    found
}

/// An out-of-office or a bounce (RFC 3834): never a visitor's message.
fn is_automatic(email: &mail_parser::Message<'_>) -> bool {
    email
        .header_raw("Auto-Submitted")
        .is_some_and(|value| !value.trim().eq_ignore_ascii_case("no"))
}

/// The message's id in the conversation: its `Message-ID` (the same on every retry of the
/// mail server), else the bytes themselves.
fn client_id(message_id: Option<&str>, raw: &[u8]) -> String {
    let digest = match message_id {
        Some(id) => Sha256::digest(id.as_bytes()),
        None => Sha256::digest(raw),
    };
    format!("email:{}", &crate::tokens::hex(&digest)[..40])
}

/// What the visitor wrote: the text above our marker, or above the quote header mail programs
/// write ("On … wrote:", "-----Original Message-----"), without quoted lines or a signature.
pub fn new_text(body: &str) -> String {
    let lines: Vec<&str> = body.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let bare = line.trim_start_matches(['>', ' ']).trim();
        let quote_header = bare.ends_with("wrote:") || bare.ends_with("a écrit :");
        if bare.contains(REPLY_ABOVE)
            || bare.starts_with("-----Original Message-----")
            || bare.starts_with("________________________________")
        {
            end = i;
            break;
        }
        if quote_header {
            // Gmail wraps a long "On …, Name <address> wrote:" over two lines.
            end = match i.checked_sub(1) {
                Some(previous)
                    if lines[previous].trim_start().starts_with("On ")
                        && !bare.starts_with("On ") =>
                {
                    previous
                }
                _ => i,
            };
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();
    if let Some(signature) = kept.iter().position(|line| *line == "-- ") {
        kept.truncate(signature);
    }
    kept.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_above_the_quote_is_kept() {
        let gmail = "Thanks, that works!\n\nOn Sun, Dec 6, 2026 at 3:04 PM Acme <\nchat@acme.example> wrote:\n> ##- Please type your reply above this line -##\n> Ada: Yes, 3 left.\n";
        assert_eq!(new_text(gmail), "Thanks, that works!");
        let marker = format!("Great\nsee you\n\n{REPLY_ABOVE}\nAda: hi");
        assert_eq!(new_text(&marker), "Great\nsee you");
        let outlook = "Fine by me.\n\n-----Original Message-----\nFrom: Acme\n";
        assert_eq!(new_text(outlook), "Fine by me.");
        let interleaved = "> Do you ship to Norway?\nYes please.\n-- \nBob\n";
        assert_eq!(new_text(interleaved), "Yes please.");
        let one_line = "On it.\nOn Mon, Dec 7, 2026, Acme wrote:\n> earlier";
        assert_eq!(new_text(one_line), "On it.");
    }

    #[test]
    fn a_retried_email_keeps_its_id_and_ids_fit_a_client_id() {
        let a = client_id(Some("<abc@mail.example>"), b"one");
        assert_eq!(a, client_id(Some("<abc@mail.example>"), b"two"));
        assert_ne!(a, client_id(None, b"one"));
        assert!(a.len() <= 64);
    }
}
