//! A conversation's transcript as a file to download, plain text or HTML, for agents
//! (`/v1/conversations/{id}/transcript`) and integrations
//! (`/v1/channels/{id}/conversations/{conversation_id}/transcript`): a heading with what the
//! conversation was, then every message as the transcript email writes them. People's words
//! are escaped in the HTML, and it is served as an attachment in a sandbox, so nothing in it
//! runs on the gateway's origin.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use protocol::{Author, ChatMessage, ConversationSummary, TranscriptFormat};
use serde::Deserialize;

use crate::attachments::links;
use crate::error::Result;
use crate::html::escape;
use crate::state::AppState;

/// The most messages a transcript holds (the first ones): a download stays a bounded file.
pub const MAX_TRANSCRIPT_MESSAGES: i64 = 10_000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// `text` (default) or `html`.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub format: TranscriptFormat,
}

/// The file: its type, its name and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub content_type: &'static str,
    pub file_name: String,
    pub body: String,
}

/// The transcript of `conversation`, whose visitor is called `visitor`.
pub fn write(
    conversation: &ConversationSummary,
    visitor: &str,
    messages: &[ChatMessage],
    format: TranscriptFormat,
) -> Transcript {
    let when = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let started = messages
        .first()
        .map_or(String::new(), |m| when(m.sent_at_ms));
    let mut facts = vec![
        ("Channel", conversation.channel_name.clone()),
        ("Conversation", conversation.id.clone()),
        ("Visitor", visitor.to_owned()),
        ("Started", started),
        ("Status", conversation.status.as_str().to_owned()),
    ];
    if let Some(rating) = &conversation.rating {
        let comment = rating
            .comment
            .as_ref()
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        facts.push(("Rating", format!("{} of 5{comment}", rating.score)));
    }
    let title = format!("Conversation on {}", conversation.channel_name);
    let mut text = format!("{title}\n\n");
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;line-height:1.4\"><h1>{}</h1><dl>",
        escape(&title),
        escape(&title)
    );
    for (name, value) in &facts {
        text.push_str(&format!("{name}: {value}\n"));
        html.push_str(&format!("<dt>{name}</dt><dd>{}</dd>", escape(value)));
    }
    text.push('\n');
    html.push_str("</dl><hr>");
    for message in messages {
        push_message(
            &mut text,
            &mut html,
            message,
            visitor,
            &conversation.channel_name,
        );
    }
    html.push_str("</body></html>");
    let (content_type, extension, body) = match format {
        TranscriptFormat::Text => ("text/plain; charset=utf-8", "txt", text),
        TranscriptFormat::Html => ("text/html; charset=utf-8", "html", html),
    };
    Transcript {
        content_type,
        file_name: format!("conversation-{}.{extension}", conversation.id),
        body,
    }
}

/// The download of `conversation`'s transcript, its files as signed links.
pub async fn download(
    state: &AppState,
    conversation: &ConversationSummary,
    format: TranscriptFormat,
) -> Result<Response> {
    let now = crate::now_ms();
    let messages: Vec<ChatMessage> = state
        .store
        .messages_after(&conversation.id, 0, MAX_TRANSCRIPT_MESSAGES)
        .await?
        .into_iter()
        .map(|message| links::with_links(state, message, now))
        .collect();
    let visitor = match conversation.contact_id.as_deref() {
        Some(id) => state.store.contact(id).await?.and_then(|contact| {
            protocol::person_name(
                contact.first_name.as_deref(),
                contact.last_name.as_deref(),
                contact.name.as_deref(),
            )
            .or(contact.email)
        }),
        None => None,
    }
    .unwrap_or_else(|| "Visitor".to_owned());
    let file = write(conversation, &visitor, &messages, format);
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        file.body,
    )
        .into_response())
}

/// Adds one message to both parts: who wrote it and when (UTC), its text, its files (as links
/// when they have one). `visitor` and `system` name those authors for the reader.
pub fn push_message(
    text: &mut String,
    html: &mut String,
    message: &ChatMessage,
    visitor: &str,
    system: &str,
) {
    let who = match &message.author {
        Author::Visitor => visitor,
        Author::Agent { name, .. } | Author::Bot { name } | Author::Desk { name } => name,
        Author::System => system,
    };
    let when = jiff::Timestamp::from_millisecond(message.sent_at_ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    text.push_str(&format!("{who} ({when}):\n{}\n", message.text));
    html.push_str(&format!(
        "<p><b>{}</b> <span style=\"color:#888\">{when}</span><br>{}",
        escape(who),
        escape(&message.text).replace('\n', "<br>")
    ));
    for file in &message.attachments {
        let name = format!("📎 {} ({})", file.name, protocol::human_size(file.size));
        match &file.url {
            Some(url) => {
                text.push_str(&format!("{name}: {url}\n"));
                html.push_str(&format!(
                    "<br><a href=\"{}\">{}</a>",
                    escape(url),
                    escape(&name)
                ));
            }
            None => {
                text.push_str(&format!("{name}\n"));
                html.push_str(&format!("<br>{}", escape(&name)));
            }
        }
    }
    text.push('\n');
    html.push_str("</p>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Author, ConversationStatus, Handler, Rating, RatingScale};

    fn conversation() -> ConversationSummary {
        ConversationSummary {
            id: "c1".into(),
            channel_key: "k".into(),
            channel_name: "Shop".into(),
            visitor_id: "v".into(),
            status: ConversationStatus::Closed,
            assigned_agent_id: None,
            last_seq: 2,
            last_text: String::new(),
            page_url: None,
            updated_at_ms: 0,
            contact_id: None,
            origin: None,
            visit: None,
            user_agent: None,
            handler: Handler::Agents,
            queue_id: None,
            offline: false,
            last_author: None,
            rating: Some(Rating {
                score: 4,
                scale: RatingScale::Stars,
                comment: Some("Fast <b>".into()),
                rated_at_ms: 0,
            }),
        }
    }

    fn message(seq: i64, author: Author, text: &str) -> ChatMessage {
        ChatMessage {
            conversation_id: "c1".into(),
            seq,
            author,
            text: text.into(),
            client_id: format!("m{seq}"),
            sent_at_ms: 1_767_225_600_000 + seq * 60_000,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_transcript_names_everyone_and_escapes_what_they_wrote() {
        let messages = [
            message(1, Author::Visitor, "<script>alert(1)</script>"),
            message(
                2,
                Author::Agent {
                    agent_id: "a".into(),
                    name: "Dana".into(),
                },
                "Hello Ada",
            ),
        ];
        let text = write(&conversation(), "Ada", &messages, TranscriptFormat::Text);
        assert_eq!(text.file_name, "conversation-c1.txt");
        assert!(
            text.body.contains("Rating: 4 of 5: Fast <b>\n"),
            "{}",
            text.body
        );
        assert!(text
            .body
            .contains("Ada (2026-01-01 00:01 UTC):\n<script>alert(1)</script>\n"));
        assert!(text
            .body
            .contains("Dana (2026-01-01 00:02 UTC):\nHello Ada\n"));
        let html = write(&conversation(), "Ada", &messages, TranscriptFormat::Html);
        assert_eq!(html.content_type, "text/html; charset=utf-8");
        assert!(!html.body.contains("<script>") && !html.body.contains("Fast <b>"));
        assert!(html.body.contains("Fast &lt;b&gt;"));
        assert!(html.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.body.contains("<b>Dana</b>"));
    }
}
