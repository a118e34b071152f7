//! Email to visitors, for when they are not in the chat: agents' replies they did not see
//! (batched: one email per burst), the transcript they asked for (when the conversation
//! closes), and their answers by email back into the conversation ([`inbound`]).
//!
//! Emails go through the store like webhook deliveries: written in the transaction that makes
//! them due, then leased, sent over SMTP (`lettre`) and recorded by [`run`], retried with the
//! same backoff until `webhook_retry_for_secs`, and kept as the channel's email log. A lease
//! outlasts the SMTP timeout, so two gateways never send one email at once; each email has a
//! `Message-ID` of its own, the same on every attempt, for receivers that deduplicate.

pub mod compose;
pub mod inbound;
pub mod tokens;

use axum::extract::State;
use axum::Json;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use protocol::{EmailView, Problem};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::ChannelAccess;
use crate::error::{Error, Result};
use crate::mailer::{Mailer, SMTP_TIMEOUT};
use crate::state::AppState;
use crate::store::{ChannelRecord, ChannelRef, DueEmail, EmailOutcome};
use crate::{now_ms, secs_to_ms};

/// How often the worker looks for emails coming due.
const POLL: Duration = Duration::from_millis(500);
/// Emails sent at once per gateway.
const BATCH: i64 = 8;
/// The longest address taken (RFC 5321's path limit).
const MAX_ADDRESS_CHARS: usize = 254;
/// The email log's length in one answer.
const LOG_ENTRIES: i64 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(email_log))
        .merge(inbound::routes())
}

/// The visitor leaves an address for their conversation in progress: replies they miss go to
/// it, and with `transcript` the conversation when it closes. Returns the address as stored.
pub async fn leave_address(
    state: &AppState,
    channel: &ChannelRef,
    visitor_id: &str,
    address: &str,
    transcript: bool,
) -> Result<String> {
    if state.mailer.is_none() {
        return Err(Error::EmailUnavailable);
    }
    let address = valid_address(address)?;
    let conversation = state
        .store
        .latest_conversation(&channel.id, visitor_id)
        .await?
        .filter(|c| c.status != protocol::ConversationStatus::Closed)
        .ok_or(Error::ConversationNotFound)?;
    state
        .store
        .leave_address(&conversation.id, &address, transcript, now_ms())
        .await?;
    Ok(address)
}

/// The address as stored, or `validation_failed` on `address`.
pub fn valid_address(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_ADDRESS_CHARS {
        return Err(Error::field(
            "address",
            Problem::AtMostCharacters {
                max: MAX_ADDRESS_CHARS as u64,
            },
        ));
    }
    trimmed
        .parse::<Address>()
        .map(|a| a.to_string())
        .map_err(|_| Error::field("address", Problem::Email))
}

/// Sends what comes due until the gateway stops; does nothing without SMTP.
pub async fn run(state: AppState) {
    if state.mailer.is_none() {
        return;
    }
    loop {
        if let Err(e) = send_due(&state).await {
            tracing::warn!(error = %e, "email outbox poll failed");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn send_due(state: &AppState) -> Result<()> {
    let now = now_ms();
    let lease_until = now
        + i64::try_from(SMTP_TIMEOUT.as_millis()).unwrap_or(i64::MAX / 4)
        + crate::webhooks::delivery::LEASE_MARGIN_MS;
    let due = state
        .store
        .lease_due_emails(now, lease_until, BATCH)
        .await?;
    let attempts = due.into_iter().map(|email| {
        let state = state.clone();
        async move {
            let outcome = attempt(&state, &email).await;
            if let EmailOutcome::Failed { error, .. } = &outcome {
                tracing::warn!(email = %email.id, error = %error, "email not sent");
            }
            if let Err(e) = state
                .store
                .record_email(&email.id, &outcome, now_ms())
                .await
            {
                // The lease runs out and it is sent again: at least once.
                tracing::warn!(error = %e, "recording an email attempt failed");
            }
        }
    });
    futures_util::future::join_all(attempts).await;
    Ok(())
}

async fn attempt(state: &AppState, email: &DueEmail) -> EmailOutcome {
    let now = now_ms();
    let failed = |error: String| EmailOutcome::Failed {
        error,
        retry_at_ms: retry_at(state, email, now),
    };
    let Some(mailer) = &state.mailer else {
        return failed("no SMTP configured".into());
    };
    let message = match write(state, mailer, email, now).await {
        Ok(Some(message)) => message,
        Ok(None) => return EmailOutcome::Skipped,
        Err(e) => return failed(e.to_string()),
    };
    match mailer.send(message).await {
        Ok(_) => EmailOutcome::Sent,
        Err(e) => failed(e),
    }
}

fn retry_at(state: &AppState, email: &DueEmail, now: i64) -> Option<i64> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let config = &state.config;
    let retry_at = now
        + crate::webhooks::delivery::backoff_ms(
            email.attempts + 1,
            config.webhook_retry_base_ms,
            config.webhook_retry_max_ms,
            OsRng.next_u32(),
        );
    let give_up_at = email
        .retry_since_ms
        .saturating_add(secs_to_ms(config.webhook_retry_for_secs));
    (retry_at <= give_up_at).then_some(retry_at)
}

/// The email as it goes out, or None if there is nothing to tell any more.
async fn write(
    state: &AppState,
    mailer: &Mailer,
    email: &DueEmail,
    now: i64,
) -> Result<Option<Message>> {
    let channel = state
        .store
        .channel_by_id(&email.channel_id)
        .await?
        .ok_or_else(|| Error::ChannelNotFound(email.channel_id.clone()))?;
    let conversation = state
        .store
        .conversation(&email.conversation_id)
        .await?
        .ok_or(Error::ConversationNotFound)?;
    let last = conversation.last_seq;
    let first = (last - i64::try_from(compose::MAX_QUOTED).unwrap_or(i64::MAX)).max(0);
    let messages: Vec<_> = state
        .store
        .messages_after(&email.conversation_id, first, compose::MAX_QUOTED as i64)
        .await?
        .into_iter()
        .map(|m| crate::attachments::links::with_links(state, m, now))
        .collect();
    let expires_ms = now.saturating_add(secs_to_ms(state.config.email_link_ttl_secs));
    let chat_link = tokens::chat_link(
        state,
        (&channel.id, &channel.key),
        &conversation.visitor_id,
        &conversation.id,
        expires_ms,
    );
    let reply_to = state.config.email_reply_to.as_deref().and_then(|base| {
        let expires_secs = u32::try_from(expires_ms / 1000).unwrap_or(u32::MAX);
        let token = tokens::reply_token(state, &conversation.id, expires_secs)?;
        tokens::address_with_token(base, &token)
    });
    let sender = sender_name(&channel);
    let Some(written) = compose::write(&compose::About {
        kind: email.kind,
        channel_title: &sender,
        messages: &messages,
        after_seq: email.after_seq,
        chat_link: &chat_link,
        replies_by_email: reply_to.is_some(),
    }) else {
        return Ok(None);
    };
    let invalid = |what: &str, e: &dyn std::fmt::Display| Error::Internal(format!("{what}: {e}"));
    let recipient: Address = email
        .recipient
        .parse()
        .map_err(|e| invalid("recipient", &e))?;
    let mut builder = Message::builder()
        .from(Mailbox::new(Some(sender.clone()), mailer.from().clone()))
        .to(Mailbox::new(None, recipient))
        .subject(written.subject)
        .message_id(Some(format!("<{}@{}>", email.id, mailer.from().domain())));
    if let Some(reply_to) = reply_to {
        let address: Address = reply_to.parse().map_err(|e| invalid("reply-to", &e))?;
        builder = builder.reply_to(Mailbox::new(Some(sender), address));
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(written.text),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(written.html),
        );
    builder
        .multipart(body)
        .map(Some)
        .map_err(|e| invalid("email", &e))
}

/// The name a channel's emails come from.
fn sender_name(channel: &ChannelRecord) -> String {
    channel
        .email_sender_name
        .clone()
        .unwrap_or_else(|| channel.appearance.title.clone())
}

/// The channel's emails to visitors, newest first: what was sent, skipped, or is being retried
/// and why.
#[utoipa::path(
    get,
    path = "/v1/channels/{id}/emails",
    tag = "Integrations",
    security(("channelSecret" = []), ("agentToken" = ["admin"]), ("agentCookie" = ["admin"])),
    responses((status = 200, description = "Done.", body = Vec<EmailView>))
)]
async fn email_log(
    State(state): State<AppState>,
    access: ChannelAccess,
) -> Result<Json<Vec<EmailView>>> {
    Ok(Json(
        state
            .store
            .channel_emails(&access.channel.id, LOG_ENTRIES)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_trimmed() {
        assert_eq!(
            valid_address(" ann@shop.example ").unwrap(),
            "ann@shop.example"
        );
        for bad in ["", "ann", "ann@", "@shop.example", "a b@shop.example"] {
            assert!(valid_address(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@shop.example", "a".repeat(250));
        assert!(valid_address(&long).is_err());
    }
}
