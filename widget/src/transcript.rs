//! The visitor's view of the conversation as plain data: lines ordered by `seq`, the visitor's
//! own unacknowledged lines after them. Frames from the gateway are applied in whatever order
//! and multiplicity they arrive (an ack and the echo of the same message, a replay after a
//! reconnect); each message still shows exactly once.

use protocol::{Attachment, Author, ChatMessage, ConversationStatus, VisitorServerFrame};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Me,
    Agent(String),
    System,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Written, not yet acknowledged: resent on reconnect with the same client id.
    Sending,
    /// Committed by the gateway.
    Sent,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub client_id: String,
    pub seq: Option<i64>,
    pub who: Who,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub conversation_id: Option<String>,
    pub lines: Vec<Line>,
    /// An agent closed the conversation; the visitor's next message reopens it.
    pub closed: bool,
}

impl Transcript {
    /// The highest seq held, for `resume_after` on reconnect.
    pub fn last_seq(&self) -> i64 {
        self.lines.iter().filter_map(|l| l.seq).max().unwrap_or(0)
    }

    pub fn add_pending(&mut self, client_id: String, text: String, attachments: Vec<Attachment>) {
        self.lines.push(Line {
            client_id,
            seq: None,
            who: Who::Me,
            text,
            attachments,
            delivery: Delivery::Sending,
        });
    }

    /// The visitor's lines still waiting for an ack, to resend after a reconnect.
    pub fn pending(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.delivery == Delivery::Sending)
    }

    pub fn apply(&mut self, frame: VisitorServerFrame) {
        match frame {
            VisitorServerFrame::Ready {
                conversation_id,
                status,
                ..
            } => {
                self.closed = status == Some(ConversationStatus::Closed);
                if conversation_id.is_some() && conversation_id != self.conversation_id {
                    // Another conversation than the one shown: keep only what is unsent.
                    self.lines.retain(|l| l.seq.is_none());
                }
                self.conversation_id = conversation_id;
            }
            VisitorServerFrame::Message { message } => self.add_message(message),
            VisitorServerFrame::Status {
                conversation_id,
                status,
            } => {
                if self.conversation_id.as_deref() == Some(conversation_id.as_str()) {
                    self.closed = status == ConversationStatus::Closed;
                }
            }
            VisitorServerFrame::Ack {
                client_id,
                conversation_id,
                seq,
            } => {
                self.conversation_id.get_or_insert(conversation_id);
                self.closed = false;
                if let Some(line) = self.lines.iter_mut().find(|l| l.client_id == client_id) {
                    line.seq = Some(seq);
                    line.delivery = Delivery::Sent;
                }
                self.sort();
            }
            VisitorServerFrame::Error {
                client_id: Some(client_id),
                code,
                ..
            } => {
                if let Some(line) = self.lines.iter_mut().find(|l| l.client_id == client_id) {
                    line.delivery = Delivery::Failed(code);
                }
            }
            VisitorServerFrame::Error {
                client_id: None, ..
            }
            | VisitorServerFrame::SessionEnded { .. }
            | VisitorServerFrame::EmailSaved { .. }
            | VisitorServerFrame::Typing { .. }
            // Co-browsing is the panel's and its module's, not the transcript's.
            | VisitorServerFrame::Cobrowse { .. }
            | VisitorServerFrame::CobrowsePoint { .. }
            | VisitorServerFrame::CobrowseAct { .. }
            | VisitorServerFrame::CobrowseResync => {}
        }
    }

    fn add_message(&mut self, message: ChatMessage) {
        if self.conversation_id.as_deref() != Some(message.conversation_id.as_str()) {
            self.conversation_id = Some(message.conversation_id.clone());
        }
        // Shown already (acked, or replayed before): the files' links are the stored message's,
        // fresh (an upload's answer has none, and a replay renews them).
        if let Some(shown) = self.lines.iter_mut().find(|l| l.seq == Some(message.seq)) {
            shown.attachments = message.attachments;
            return;
        }
        let who = match message.author {
            Author::Visitor => Who::Me,
            Author::Agent { name, .. } | Author::Bot { name } | Author::Desk { name } => {
                Who::Agent(name)
            }
            Author::System => Who::System,
        };
        match self
            .lines
            .iter_mut()
            .find(|l| l.client_id == message.client_id && l.who == who)
        {
            Some(mine) => {
                mine.seq = Some(message.seq);
                mine.delivery = Delivery::Sent;
                mine.attachments = message.attachments;
            }
            None => self.lines.push(Line {
                client_id: message.client_id,
                seq: Some(message.seq),
                who,
                text: message.text,
                attachments: message.attachments,
                delivery: Delivery::Sent,
            }),
        }
        self.sort();
    }

    /// Committed lines by seq, unsent ones after them in the order written. An insertion sort,
    /// stable like std's: the lines are in order but for the one just added or acked, and it
    /// is a few hundred bytes of WASM where std's general sort is 4 KB.
    fn sort(&mut self) {
        let key = |line: &Line| line.seq.unwrap_or(i64::MAX);
        for i in 1..self.lines.len() {
            let mut j = i;
            while j > 0 && key(&self.lines[j - 1]) > key(&self.lines[j]) {
                self.lines.swap(j - 1, j);
                j -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn message(seq: i64, client_id: &str, author: Author, text: &str) -> VisitorServerFrame {
        VisitorServerFrame::Message {
            message: ChatMessage {
                conversation_id: "c1".into(),
                seq,
                author,
                text: text.into(),
                client_id: client_id.into(),
                sent_at_ms: 0,
                attachments: Vec::new(),
            },
        }
    }

    fn agent() -> Author {
        Author::Agent {
            agent_id: "a".into(),
            name: "Dana".into(),
        }
    }

    #[wasm_bindgen_test]
    fn ack_and_echo_of_the_same_message_show_it_once() {
        let mut t = Transcript::default();
        t.add_pending("m1".into(), "hi".into(), Vec::new());
        let pending: Vec<_> = t.pending().map(|l| l.client_id.as_str()).collect();
        assert_eq!(pending, ["m1"]);
        t.apply(VisitorServerFrame::Ack {
            client_id: "m1".into(),
            conversation_id: "c1".into(),
            seq: 1,
        });
        t.apply(message(1, "m1", Author::Visitor, "hi"));
        assert_eq!(t.lines.len(), 1);
        assert_eq!(
            (t.lines[0].seq, &t.lines[0].delivery),
            (Some(1), &Delivery::Sent)
        );
        assert_eq!(t.pending().count(), 0);
    }

    fn file(url: Option<&str>) -> protocol::Attachment {
        protocol::Attachment {
            id: "f1".into(),
            name: "photo.png".into(),
            content_type: "image/png".into(),
            size: 10,
            width: Some(4),
            height: Some(3),
            url: url.map(Into::into),
        }
    }

    #[wasm_bindgen_test]
    fn a_sent_file_gets_its_link_from_the_echo_and_a_fresh_one_from_each_replay() {
        let mut t = Transcript::default();
        t.add_pending("m1".into(), String::new(), vec![file(None)]);
        t.apply(VisitorServerFrame::Ack {
            client_id: "m1".into(),
            conversation_id: "c1".into(),
            seq: 1,
        });
        let with_files = |url: &str| {
            let VisitorServerFrame::Message { mut message } = message(1, "m1", Author::Visitor, "")
            else {
                unreachable!()
            };
            message.attachments = vec![file(Some(url))];
            VisitorServerFrame::Message { message }
        };
        t.apply(with_files("https://gw/f1?link=a"));
        t.apply(with_files("https://gw/f1?link=b"));
        assert_eq!(t.lines.len(), 1);
        assert_eq!(
            t.lines[0].attachments,
            vec![file(Some("https://gw/f1?link=b"))]
        );
    }

    #[wasm_bindgen_test]
    fn a_replay_after_reconnect_adds_nothing_twice_and_keeps_order() {
        let mut t = Transcript::default();
        t.apply(message(2, "a2", agent(), "second"));
        t.apply(message(1, "m1", Author::Visitor, "first"));
        t.add_pending("m3".into(), "unsent".into(), Vec::new());
        t.apply(message(1, "m1", Author::Visitor, "first"));
        t.apply(message(2, "a2", agent(), "second"));
        let texts: Vec<_> = t.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, vec!["first", "second", "unsent"]);
        assert_eq!(t.last_seq(), 2);
        assert_eq!(t.lines[1].who, Who::Agent("Dana".into()));
    }

    #[wasm_bindgen_test]
    fn a_refused_message_is_marked_failed_with_the_refusals_code() {
        let mut t = Transcript::default();
        t.add_pending("m1".into(), "x".into(), Vec::new());
        t.apply(VisitorServerFrame::Error {
            code: "message_too_long".into(),
            message: "too long".into(),
            client_id: Some("m1".into()),
        });
        assert_eq!(
            t.lines[0].delivery,
            Delivery::Failed("message_too_long".into()),
            "the code: the panel says it in the visitor's language"
        );
        assert_eq!(t.pending().count(), 0);
    }

    #[wasm_bindgen_test]
    fn ready_for_another_conversation_clears_the_old_one_but_not_unsent_lines() {
        let mut t = Transcript::default();
        t.apply(VisitorServerFrame::Ready {
            conversation_id: Some("c1".into()),
            status: None,
            rated: false,
            cobrowse: None,
        });
        t.apply(message(1, "m1", Author::Visitor, "old"));
        t.add_pending("m2".into(), "new".into(), Vec::new());
        t.apply(VisitorServerFrame::Ready {
            conversation_id: Some("c2".into()),
            status: None,
            rated: false,
            cobrowse: None,
        });
        assert_eq!(t.lines.len(), 1);
        assert_eq!(t.lines[0].text, "new");
    }
}
