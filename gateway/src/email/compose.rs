//! What an email to a visitor says: a plain-text part and an HTML part with the same content.
//! Every text from a person is escaped in the HTML; nothing from the chat becomes markup.

use protocol::{Author, ChatMessage, EmailKind};

use crate::html::escape;
use crate::transcripts::push_message;

/// Where a visitor's emailed answer should end: mail programs quote everything below it, and
/// the inbound endpoint keeps only what is above.
pub const REPLY_ABOVE: &str = "##- Please type your reply above this line -##";

/// The most messages an email quotes (the newest): a long chat's email stays readable.
pub const MAX_QUOTED: usize = 100;

/// An email's words, before it gets its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What the email is about.
pub struct About<'a> {
    pub kind: EmailKind,
    /// The channel's name as visitors know it (its widget's title, or the sender name).
    pub channel_title: &'a str,
    /// The conversation, oldest first.
    pub messages: &'a [ChatMessage],
    /// Replies: the messages after this one are the news.
    pub after_seq: i64,
    /// Continues the chat in the browser.
    pub chat_link: &'a str,
    /// Whether an answer by email reaches the chat.
    pub replies_by_email: bool,
}

/// The email, or None when there is nothing new to tell (a replies email whose replies the
/// visitor read in the chat meanwhile).
pub fn write(about: &About<'_>) -> Option<Written> {
    let (news, earlier): (Vec<&ChatMessage>, Vec<&ChatMessage>) = match about.kind {
        EmailKind::Replies => about
            .messages
            .iter()
            .partition(|m| m.seq > about.after_seq && m.author != Author::Visitor),
        EmailKind::Transcript => (Vec::new(), about.messages.iter().collect()),
    };
    if about.kind == EmailKind::Replies && news.is_empty() {
        return None;
    }
    let title = about.channel_title;
    let subject = match about.kind {
        EmailKind::Replies => format!("New reply from {title}"),
        EmailKind::Transcript => format!("Your conversation with {title}"),
    };
    let mut text = String::new();
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.4\">",
    );
    if about.replies_by_email {
        text.push_str(REPLY_ABOVE);
        text.push_str("\n\n");
        html.push_str(&format!(
            "<p style=\"color:#888;font-size:12px\">{}</p>",
            escape(REPLY_ABOVE)
        ));
    }
    if !news.is_empty() {
        for message in &news {
            push_message(&mut text, &mut html, message, "You", title);
        }
    }
    let continue_line = if about.replies_by_email {
        "Answer this email, or continue the chat"
    } else {
        "Continue the chat"
    };
    text.push_str(&format!("{continue_line}: {}\n", about.chat_link));
    html.push_str(&format!(
        "<p><a href=\"{}\">{continue_line}</a></p>",
        escape(about.chat_link)
    ));
    let shown = earlier.len().saturating_sub(MAX_QUOTED);
    if !earlier.is_empty() {
        let heading = match about.kind {
            EmailKind::Replies => "The conversation so far",
            EmailKind::Transcript => "The conversation",
        };
        text.push_str(&format!("\n{heading}:\n\n"));
        html.push_str(&format!("<hr><h3>{heading}</h3>"));
        if shown > 0 {
            text.push_str(&format!("({shown} earlier messages are in the chat)\n\n"));
        }
        for message in &earlier[shown..] {
            push_message(&mut text, &mut html, message, "You", title);
        }
    }
    html.push_str("</body></html>");
    Some(Written {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: i64, author: Author, text: &str) -> ChatMessage {
        ChatMessage {
            conversation_id: "c".into(),
            seq,
            author,
            text: text.into(),
            client_id: format!("m{seq}"),
            sent_at_ms: 1_765_000_000_000 + seq * 60_000,
            attachments: vec![],
        }
    }

    fn agent(name: &str) -> Author {
        Author::Agent {
            agent_id: "a".into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_replies_email_leads_with_what_is_new_and_quotes_the_rest() {
        let messages = [
            message(1, Author::Visitor, "Is <b>this</b> in stock?"),
            message(2, agent("Ada"), "Let me check."),
            message(3, agent("Ada"), "Yes, 3 left & ready to ship."),
        ];
        let written = write(&About {
            kind: EmailKind::Replies,
            channel_title: "Acme",
            messages: &messages,
            after_seq: 2,
            chat_link: "https://gw/chat/k#livechat=t",
            replies_by_email: true,
        })
        .unwrap();
        assert_eq!(written.subject, "New reply from Acme");
        assert!(written.text.starts_with(REPLY_ABOVE));
        let news = written.text.find("3 left").unwrap();
        let history = written.text.find("The conversation so far").unwrap();
        assert!(news < history, "{}", written.text);
        assert!(written.text[history..].contains("Is <b>this</b> in stock?"));
        assert!(written
            .html
            .contains("Is &lt;b&gt;this&lt;/b&gt; in stock?"));
        assert!(written.html.contains("3 left &amp; ready"));
        assert!(written
            .html
            .contains("href=\"https://gw/chat/k#livechat=t\""));
    }

    #[test]
    fn replies_already_read_leave_nothing_to_send() {
        let messages = [
            message(1, Author::Visitor, "hi"),
            message(2, agent("Ada"), "hello"),
        ];
        let about = About {
            kind: EmailKind::Replies,
            channel_title: "Acme",
            messages: &messages,
            after_seq: 2,
            chat_link: "l",
            replies_by_email: false,
        };
        assert_eq!(write(&about), None);
    }

    #[test]
    fn a_transcript_has_every_message_and_no_reply_marker_without_replies_by_email() {
        let messages = [
            message(1, Author::Visitor, "hi"),
            message(2, agent("Ada"), "hello"),
        ];
        let written = write(&About {
            kind: EmailKind::Transcript,
            channel_title: "Acme",
            messages: &messages,
            after_seq: 0,
            chat_link: "l",
            replies_by_email: false,
        })
        .unwrap();
        assert_eq!(written.subject, "Your conversation with Acme");
        assert!(!written.text.contains(REPLY_ABOVE));
        assert!(written.text.contains("You (") && written.text.contains("Ada ("));
    }
}
