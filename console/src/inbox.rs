//! What the agent sees, as plain data: every conversation not closed (newest activity first)
//! and, for the ones opened, their messages by `seq`. Frames may repeat after a reconnect; each
//! message is held once because it is keyed by its `seq`.

use protocol::{
    AgentServerFrame, ChatMessage, ConversationStatus, ConversationSummary, InboxCursor,
};
use std::collections::{BTreeMap, HashMap};

use crate::words::t;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub conversation_id: String,
    pub client_id: String,
    pub text: String,
    /// The ids of the files it carries.
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inbox {
    pub conversations: Vec<ConversationSummary>,
    pub threads: HashMap<String, BTreeMap<i64, ChatMessage>>,
    /// Replies written but not yet acknowledged: resent (same client ids) after a reconnect.
    pub pending: Vec<Pending>,
    /// The last refusal, shown to the agent.
    pub error: Option<String>,
    /// Per conversation, the last `seq` this agent has seen.
    pub read_seq: HashMap<String, i64>,
    /// Where the gateway's next page of older conversations starts, if there is one.
    pub older: Option<InboxCursor>,
    /// The live co-browsing session of each conversation that has one.
    pub cobrowse: HashMap<String, protocol::CobrowseSession>,
}

/// The inbox's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Nobody has it yet.
    Waiting,
    /// Assigned to me.
    Mine,
    /// Everything not closed.
    All,
}

impl View {
    pub const ALL: [View; 3] = [View::Waiting, View::Mine, View::All];

    /// Its stable name (test ids, bundle keys).
    pub fn key(self) -> &'static str {
        match self {
            View::Waiting => "waiting",
            View::Mine => "mine",
            View::All => "all",
        }
    }

    pub fn label(self) -> String {
        t(&format!("tab_{}", self.key()))
    }

    fn shows(self, c: &ConversationSummary, me: &str) -> bool {
        match self {
            View::Waiting => c.status == ConversationStatus::Waiting,
            View::Mine => c.assigned_agent_id.as_deref() == Some(me),
            View::All => true,
        }
    }
}

impl Inbox {
    /// The conversation with this id, if the inbox holds it.
    pub fn conversation(&self, id: &str) -> Option<&ConversationSummary> {
        self.conversations.iter().find(|c| c.id == id)
    }

    /// The conversations a tab lists, newest activity first.
    pub fn listed(&self, view: View, me: &str) -> Vec<ConversationSummary> {
        self.conversations
            .iter()
            .filter(|c| view.shows(c, me))
            .cloned()
            .collect()
    }

    /// How many a tab lists.
    pub fn count(&self, view: View, me: &str) -> usize {
        self.conversations
            .iter()
            .filter(|c| view.shows(c, me))
            .count()
    }

    /// Messages this agent has not seen yet in the conversation.
    pub fn unread(&self, conversation: &ConversationSummary) -> i64 {
        let read = self.read_seq.get(&conversation.id).copied().unwrap_or(0);
        (conversation.last_seq - read).max(0)
    }

    /// Messages this agent has not seen in the conversations still going (the page title's
    /// count; a closed conversation's are not waiting for anyone).
    pub fn unread_total(&self) -> i64 {
        self.conversations
            .iter()
            .filter(|c| c.status != ConversationStatus::Closed)
            .map(|c| self.unread(c))
            .sum()
    }

    /// The agent has seen the conversation up to its latest message; returns that `seq` when
    /// it moved forward (for the gateway to keep).
    pub fn mark_read(&mut self, conversation_id: &str) -> Option<i64> {
        let latest = self
            .conversations
            .iter()
            .find(|c| c.id == conversation_id)
            .map_or(0, |c| c.last_seq)
            .max(self.last_seq(conversation_id));
        let held = self.read_seq.entry(conversation_id.to_owned()).or_default();
        (latest > *held).then(|| {
            *held = latest;
            latest
        })
    }

    pub fn last_seq(&self, conversation_id: &str) -> i64 {
        self.threads
            .get(conversation_id)
            .and_then(|t| t.keys().next_back().copied())
            .unwrap_or(0)
    }

    pub fn apply(&mut self, frame: AgentServerFrame) {
        match frame {
            AgentServerFrame::Inbox {
                conversations,
                read,
                older,
            } => {
                self.conversations = conversations;
                self.merge_reads(read);
                self.older = older;
                self.sort();
            }
            AgentServerFrame::InboxPage {
                conversations,
                read,
                older,
            } => {
                // A conversation that moved up meanwhile is already held, newer.
                for conversation in conversations {
                    if !self.conversations.iter().any(|c| c.id == conversation.id) {
                        self.conversations.push(conversation);
                    }
                }
                self.merge_reads(read);
                self.older = older;
                self.sort();
            }
            AgentServerFrame::Conversation { conversation } => {
                self.conversations.retain(|c| c.id != conversation.id);
                // The inbox holds what is not closed; a reopened one comes back.
                if conversation.status != ConversationStatus::Closed {
                    self.conversations.push(conversation);
                }
                self.sort();
            }
            AgentServerFrame::Message { message } => {
                self.pending.retain(|p| p.client_id != message.client_id);
                self.threads
                    .entry(message.conversation_id.clone())
                    .or_default()
                    .insert(message.seq, message);
            }
            AgentServerFrame::Ack { client_id, .. } => {
                self.pending.retain(|p| p.client_id != client_id);
            }
            AgentServerFrame::Error {
                client_id, message, ..
            } => {
                if let Some(id) = client_id {
                    self.pending.retain(|p| p.client_id != id);
                }
                self.error = Some(message);
            }
            AgentServerFrame::Cobrowse { session } => self.keep_cobrowse(session),
            // Ephemeral: the desk shows typing for a few seconds, and hands a page's mirror to
            // its pane; nothing to keep here.
            AgentServerFrame::Typing { .. } | AgentServerFrame::Mirror { .. } => {}
        }
    }

    /// A conversation's co-browsing session as it stands now: kept while live, gone once over.
    pub fn keep_cobrowse(&mut self, session: protocol::CobrowseSession) {
        if session.state.is_over() {
            self.cobrowse.remove(&session.conversation_id);
        } else {
            self.cobrowse
                .insert(session.conversation_id.clone(), session);
        }
    }

    /// What this agent read before (on any device) counts as read here too.
    fn merge_reads(&mut self, read: std::collections::BTreeMap<String, i64>) {
        for (id, seq) in read {
            let held = self.read_seq.entry(id).or_default();
            *held = (*held).max(seq);
        }
    }

    fn sort(&mut self) {
        self.conversations
            .sort_by_key(|c| std::cmp::Reverse(c.updated_at_ms));
    }
}

/// The conversation `by` places from `current` in the list shown (arrow keys): the first one
/// when none is chosen; at either end it stays.
pub fn step(listed: &[String], current: Option<&str>, by: isize) -> Option<String> {
    let at = current.and_then(|id| listed.iter().position(|l| l == id));
    let next = match at {
        None => 0,
        Some(at) => at
            .saturating_add_signed(by)
            .min(listed.len().saturating_sub(1)),
    };
    listed.get(next).cloned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use protocol::{Author, ConversationStatus, Handler};
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A waiting conversation of the demo channel, as the inbox gets it.
    pub(crate) fn summary(id: &str, updated: i64) -> ConversationSummary {
        ConversationSummary {
            id: id.into(),
            channel_key: "demo".into(),
            channel_name: "Demo".into(),
            visitor_id: "v".into(),
            status: ConversationStatus::Waiting,
            assigned_agent_id: None,
            last_seq: 1,
            last_text: "hi".into(),
            page_url: None,
            updated_at_ms: updated,
            contact_id: None,
            origin: None,
            visit: None,
            user_agent: None,
            handler: Handler::Agents,
            queue_id: None,
            offline: false,
            last_author: None,
            rating: None,
        }
    }

    fn message(seq: i64, client_id: &str) -> AgentServerFrame {
        AgentServerFrame::Message {
            message: ChatMessage {
                conversation_id: "c".into(),
                seq,
                author: Author::Visitor,
                text: format!("m{seq}"),
                client_id: client_id.into(),
                sent_at_ms: 0,
                attachments: Vec::new(),
            },
        }
    }

    #[wasm_bindgen_test]
    fn updates_replace_a_conversation_and_keep_newest_first() {
        let mut inbox = Inbox::default();
        inbox.apply(AgentServerFrame::Inbox {
            conversations: vec![summary("a", 1), summary("b", 2)],
            read: Default::default(),
            older: None,
        });
        assert_eq!(inbox.conversations[0].id, "b");
        inbox.apply(AgentServerFrame::Conversation {
            conversation: summary("a", 3),
        });
        let ids: Vec<_> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b"]);
        assert_eq!(inbox.conversation("a").map(|c| c.updated_at_ms), Some(3));
        assert!(inbox.conversation("gone").is_none());
    }

    #[wasm_bindgen_test]
    fn older_pages_add_below_without_repeating_a_conversation() {
        let mut inbox = Inbox::default();
        let cursor = InboxCursor {
            updated_at_ms: 5,
            id: "b".into(),
        };
        inbox.apply(AgentServerFrame::Inbox {
            conversations: vec![summary("a", 6), summary("b", 5)],
            read: Default::default(),
            older: Some(cursor),
        });
        assert!(inbox.older.is_some());
        inbox.apply(AgentServerFrame::InboxPage {
            conversations: vec![summary("a", 4), summary("c", 3)],
            read: [("c".to_owned(), 1)].into(),
            older: None,
        });
        let ids: Vec<_> = inbox.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(
            inbox.conversations[0].updated_at_ms, 6,
            "the newer copy stays"
        );
        assert_eq!(inbox.older, None);
        assert_eq!(inbox.read_seq["c"], 1);
    }

    #[wasm_bindgen_test]
    fn tabs_list_waiting_mine_and_all_and_closed_ones_leave() {
        let mut inbox = Inbox::default();
        let mut mine = summary("m", 3);
        mine.status = ConversationStatus::Open;
        mine.assigned_agent_id = Some("me".into());
        let mut theirs = summary("t", 2);
        theirs.status = ConversationStatus::Open;
        theirs.assigned_agent_id = Some("colleague".into());
        inbox.apply(AgentServerFrame::Inbox {
            conversations: vec![summary("w", 1), mine.clone(), theirs],
            read: Default::default(),
            older: None,
        });
        let ids =
            |view| -> Vec<String> { inbox.listed(view, "me").into_iter().map(|c| c.id).collect() };
        assert_eq!(ids(View::Waiting), ["w"]);
        assert_eq!(ids(View::Mine), ["m"]);
        assert_eq!(ids(View::All), ["m", "t", "w"]);
        mine.status = ConversationStatus::Closed;
        inbox.apply(AgentServerFrame::Conversation { conversation: mine });
        assert_eq!(inbox.count(View::Mine, "me"), 0);
        assert_eq!(inbox.count(View::All, "me"), 2);
    }

    #[wasm_bindgen_test]
    fn unread_counts_what_came_after_the_agent_last_looked() {
        let mut inbox = Inbox::default();
        let mut c = summary("c", 1);
        c.last_seq = 3;
        inbox.apply(AgentServerFrame::Inbox {
            conversations: vec![c.clone()],
            read: [("c".to_owned(), 1)].into(),
            older: None,
        });
        assert_eq!(inbox.unread(&c), 2, "read up to 1 in an earlier console");
        assert_eq!(inbox.mark_read("c"), Some(3));
        assert_eq!(inbox.mark_read("c"), None, "nothing new to keep");
        assert_eq!(inbox.unread(&c), 0);
        c.last_seq = 5;
        inbox.apply(AgentServerFrame::Conversation {
            conversation: c.clone(),
        });
        assert_eq!(inbox.unread(&inbox.conversations[0]), 2);
        assert_eq!(inbox.unread_total(), 2);
        c.status = ConversationStatus::Closed;
        inbox.apply(AgentServerFrame::Conversation { conversation: c });
        assert_eq!(
            inbox.unread_total(),
            0,
            "a closed conversation waits for no one"
        );
    }

    #[wasm_bindgen_test]
    fn replayed_messages_are_held_once_and_acks_clear_pending() {
        let mut inbox = Inbox::default();
        inbox.pending.push(Pending {
            conversation_id: "c".into(),
            client_id: "r1".into(),
            text: "x".into(),
            attachments: Vec::new(),
        });
        inbox.apply(message(2, "v2"));
        inbox.apply(message(1, "v1"));
        inbox.apply(message(2, "v2"));
        assert_eq!(inbox.threads["c"].len(), 2);
        assert_eq!(inbox.last_seq("c"), 2);
        inbox.apply(AgentServerFrame::Ack {
            client_id: "r1".into(),
            conversation_id: "c".into(),
            seq: 3,
        });
        assert!(inbox.pending.is_empty());
    }

    #[wasm_bindgen_test]
    fn arrow_keys_walk_the_list_and_stop_at_its_ends() {
        let listed: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(step(&listed, None, 1).as_deref(), Some("a"));
        assert_eq!(step(&listed, Some("a"), 1).as_deref(), Some("b"));
        assert_eq!(step(&listed, Some("c"), 1).as_deref(), Some("c"));
        assert_eq!(step(&listed, Some("a"), -1).as_deref(), Some("a"));
        assert_eq!(step(&listed, Some("gone"), -1).as_deref(), Some("a"));
        assert_eq!(step(&[], None, 1), None);
    }
}
