//! A conversation's statistics, worked out when it closes from what it holds: its messages
//! (who wrote, when) and its events (transfers, the bot's hand-over). The store records them in
//! the closing transaction (see `store::statistics`); this module only defines them, so the
//! README's definitions and the tests read the same code.
//!
//! - **wait**: from the visitor's first message to the first reply by anyone of the site (an
//!   agent, the bot or the desk); none if nobody replied.
//! - **first response**: from the moment people could see it (the visitor's first message, or
//!   the bot's hand-over when the bot had it first) to the first reply of an agent or the desk
//!   after that; none if no person replied. A transfer does not restart it.
//! - **handle**: from that first reply by a person to the close.
//! - **duration**: from the conversation's creation to the close.
//! - the **messages** by side (system lines are not counted) and the **transfers**.
//! - the **outcome**, one of [`Outcome`].

use protocol::{AuthorKind, ConversationEventKind, ConversationFigures, Outcome};

/// Where a conversation stood when it closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtClose {
    /// An agent (or the desk, or the bot: see its handler) had it.
    Held,
    /// It waited for an agent to take it.
    Waiting,
}

/// What a closing conversation holds, in order.
#[derive(Debug, Clone)]
pub struct Timeline<'a> {
    pub created_at_ms: i64,
    pub closed_at_ms: i64,
    /// Left while nobody could chat.
    pub offline: bool,
    /// The bot had it at the close.
    pub bot_held: bool,
    pub at_close: AtClose,
    /// Each message's author and time, oldest first.
    pub messages: &'a [(AuthorKind, i64)],
    /// Each event and its time, oldest first.
    pub events: &'a [(ConversationEventKind, i64)],
}

fn by_a_person(kind: AuthorKind) -> bool {
    matches!(kind, AuthorKind::Agent | AuthorKind::Desk)
}

impl Timeline<'_> {
    pub fn statistics(&self) -> ConversationFigures {
        let count = |wanted: AuthorKind| {
            self.messages
                .iter()
                .filter(|(kind, _)| *kind == wanted)
                .count() as i64
        };
        let first_visitor = self
            .messages
            .iter()
            .find(|(kind, _)| *kind == AuthorKind::Visitor)
            .map(|&(_, at)| at);
        let first_reply_after = |from: i64, answers: fn(AuthorKind) -> bool| {
            self.messages
                .iter()
                .find(|&&(kind, at)| answers(kind) && at >= from)
                .map(|&(_, at)| at)
        };
        let wait_ms = first_visitor.and_then(|asked| {
            first_reply_after(asked, |kind| {
                !matches!(kind, AuthorKind::Visitor | AuthorKind::System)
            })
            .map(|replied| replied - asked)
        });
        let handed_over = self
            .events
            .iter()
            .find(|(kind, _)| *kind == ConversationEventKind::HandedOver)
            .map(|&(_, at)| at);
        let visible_from = match (first_visitor, handed_over) {
            (Some(asked), Some(handed)) => Some(asked.max(handed)),
            (asked, handed) => asked.or(handed),
        };
        let first_response_ms = visible_from
            .and_then(|from| first_reply_after(from, by_a_person).map(|replied| replied - from));
        let first_by_a_person = self
            .messages
            .iter()
            .find(|(kind, _)| by_a_person(*kind))
            .map(|&(_, at)| at);
        let outcome = if first_by_a_person.is_some() {
            Outcome::Answered
        } else if self.bot_held {
            Outcome::Bot
        } else if self.offline {
            Outcome::Offline
        } else if self.at_close == AtClose::Waiting || handed_over.is_some() {
            Outcome::Abandoned
        } else {
            Outcome::Missed
        };
        ConversationFigures {
            wait_ms,
            first_response_ms,
            handle_ms: first_by_a_person.map(|replied| self.closed_at_ms - replied),
            duration_ms: self.closed_at_ms - self.created_at_ms,
            visitor_messages: count(AuthorKind::Visitor),
            agent_messages: count(AuthorKind::Agent),
            bot_messages: count(AuthorKind::Bot),
            desk_messages: count(AuthorKind::Desk),
            transfers: self
                .events
                .iter()
                .filter(|(kind, _)| {
                    matches!(
                        kind,
                        ConversationEventKind::TransferredToAgent
                            | ConversationEventKind::TransferredToQueue
                    )
                })
                .count() as i64,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthorKind::*;

    const S: i64 = 1000;

    fn timeline<'a>(
        messages: &'a [(AuthorKind, i64)],
        events: &'a [(ConversationEventKind, i64)],
    ) -> Timeline<'a> {
        Timeline {
            created_at_ms: 0,
            closed_at_ms: 600 * S,
            offline: false,
            bot_held: false,
            at_close: AtClose::Held,
            messages,
            events,
        }
    }

    #[test]
    fn an_agent_answering_sets_every_time() {
        let messages = [
            (Visitor, 10 * S),
            (System, 11 * S),
            (Visitor, 20 * S),
            (Agent, 40 * S),
            (Visitor, 50 * S),
            (Agent, 70 * S),
        ];
        let stats = timeline(&messages, &[]).statistics();
        assert_eq!(
            stats,
            ConversationFigures {
                wait_ms: Some(30 * S),
                first_response_ms: Some(30 * S),
                handle_ms: Some(560 * S),
                duration_ms: 600 * S,
                visitor_messages: 3,
                agent_messages: 2,
                bot_messages: 0,
                desk_messages: 0,
                transfers: 0,
                outcome: Outcome::Answered,
            }
        );
    }

    #[test]
    fn a_bot_answering_first_is_the_wait_and_people_count_from_its_hand_over() {
        let messages = [
            (Visitor, 10 * S),
            (Bot, 12 * S),
            (Visitor, 30 * S),
            (Agent, 100 * S),
        ];
        let events = [(ConversationEventKind::HandedOver, 40 * S)];
        let stats = timeline(&messages, &events).statistics();
        assert_eq!(stats.wait_ms, Some(2 * S));
        assert_eq!(stats.first_response_ms, Some(60 * S));
        assert_eq!(stats.handle_ms, Some(500 * S));
        assert_eq!((stats.bot_messages, stats.agent_messages), (1, 1));
        assert_eq!(stats.outcome, Outcome::Answered);
    }

    #[test]
    fn a_transfer_is_counted_and_does_not_restart_the_first_response() {
        let messages = [(Visitor, 0), (Agent, 20 * S), (Agent, 200 * S)];
        let events = [
            (ConversationEventKind::TransferredToQueue, 100 * S),
            (ConversationEventKind::TransferredToAgent, 150 * S),
        ];
        let stats = timeline(&messages, &events).statistics();
        assert_eq!(stats.transfers, 2);
        assert_eq!(stats.first_response_ms, Some(20 * S));
    }

    #[test]
    fn an_unanswered_conversation_is_missed_abandoned_offline_or_the_bots() {
        let asked = [(Visitor, 10 * S)];
        let unanswered = |change: fn(&mut Timeline)| {
            let mut line = timeline(&asked, &[]);
            change(&mut line);
            line.statistics()
        };
        let missed = unanswered(|_| {});
        assert_eq!(missed.outcome, Outcome::Missed);
        assert_eq!(
            (missed.wait_ms, missed.first_response_ms, missed.handle_ms),
            (None, None, None)
        );
        assert_eq!(
            unanswered(|l| l.at_close = AtClose::Waiting).outcome,
            Outcome::Abandoned
        );
        assert_eq!(unanswered(|l| l.offline = true).outcome, Outcome::Offline);
        let bot_only = [(Visitor, 10 * S), (Bot, 11 * S)];
        let mut line = timeline(&bot_only, &[]);
        line.bot_held = true;
        let stats = line.statistics();
        assert_eq!((stats.outcome, stats.wait_ms), (Outcome::Bot, Some(S)));
        assert_eq!(stats.first_response_ms, None);
        // Handed over by the bot and never answered: left waiting for people.
        let events = [(ConversationEventKind::HandedOver, 20 * S)];
        assert_eq!(
            timeline(&bot_only, &events).statistics().outcome,
            Outcome::Abandoned
        );
    }

    #[test]
    fn an_agent_writing_first_answers_a_visitor_who_never_wrote() {
        let stats = timeline(&[(Agent, 5 * S)], &[]).statistics();
        assert_eq!(stats.outcome, Outcome::Answered);
        assert_eq!((stats.wait_ms, stats.first_response_ms), (None, None));
        assert_eq!(stats.handle_ms, Some(595 * S));
    }
}
