//! Visit tickets: the signed record of each page view (who, which visit, since when) that the
//! loader carries from the bootstrap to the session request. The gateway decides every field,
//! so the browser cannot claim a longer dwell or a later visit.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::tokens::random_token;

const VISIT_TICKET: &str = "visit-ticket";

/// Who is viewing the page, which visit this is, and when the page view began: all decided by
/// the gateway and signed, so the browser cannot claim a longer dwell or a later visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitTicket {
    /// Each ticket opens at most one chat; renewing gives the page view a new id.
    #[serde(default)]
    pub id: String,
    pub channel_id: String,
    pub visitor_id: String,
    pub visit: u32,
    /// When this page view began.
    pub viewed_at_ms: i64,
    #[serde(default)]
    pub issued_at_ms: i64,
    /// When this visitor id was first given out: it is remembered for `visitor_memory_secs`
    /// from then, not from its latest use, so a copied ticket cannot be kept alive for ever.
    #[serde(default)]
    pub first_seen_ms: i64,
}

/// A ticket opens a chat only this long after it was issued (the widget renews older ones), so a
/// ticket copied out of a browser is soon worthless, and used ids need not be kept for longer.
pub const TICKET_TTL_MS: i64 = 60 * 60 * 1000;

/// The longest page URL kept; longer ones are dropped rather than cut.
const MAX_PAGE_URL: usize = 2048;

/// The page URL if it is one: not too long, no control characters (which no URL has, and
/// PostgreSQL would refuse as NUL), else none.
pub fn page_url_within_limit(url: Option<String>) -> Option<String> {
    url.filter(|u| u.len() <= MAX_PAGE_URL && !u.chars().any(char::is_control))
}

/// The ticket for a new page view: a returning visitor (first seen less than `visitor_memory`
/// ago) keeps its id, and its visit number goes up when the previous page view is older than
/// the visit gap.
pub fn next_visit_ticket(
    previous: Option<VisitTicket>,
    channel_id: &str,
    now_ms: i64,
    config: &Config,
) -> VisitTicket {
    let remembered = previous.filter(|prev| {
        now_ms.saturating_sub(prev.first_seen_ms) < crate::secs_to_ms(config.visitor_memory_secs)
    });
    let (visitor_id, visit, first_seen_ms) = match remembered {
        Some(prev) if now_ms - prev.viewed_at_ms >= crate::secs_to_ms(config.visit_gap_secs) => {
            (prev.visitor_id, prev.visit + 1, prev.first_seen_ms)
        }
        Some(prev) => (prev.visitor_id, prev.visit, prev.first_seen_ms),
        None => (uuid::Uuid::new_v4().to_string(), 1, now_ms),
    };
    VisitTicket {
        id: random_token(12),
        channel_id: channel_id.to_owned(),
        visitor_id,
        visit,
        viewed_at_ms: now_ms,
        issued_at_ms: now_ms,
        first_seen_ms,
    }
}

/// The same page view under a fresh ticket: for opening a chat again on a page where the first
/// ticket was used or grew old. Dwell time keeps counting from the page view's start. Only for
/// `page_view_max` after that start: a ticket copied out of a page is not a lasting credential.
pub fn renew_visit_ticket(
    ticket: VisitTicket,
    now_ms: i64,
    config: &Config,
) -> Result<VisitTicket> {
    if now_ms.saturating_sub(ticket.viewed_at_ms) >= crate::secs_to_ms(config.page_view_max_secs) {
        return Err(Error::VisitTicketExpired);
    }
    Ok(VisitTicket {
        id: random_token(12),
        issued_at_ms: now_ms,
        ..ticket
    })
}

pub fn sign_visit_ticket(state: &AppState, ticket: &VisitTicket) -> String {
    state.signer.sign(VISIT_TICKET, ticket)
}

/// The ticket's claims if it is genuine and belongs to this channel.
pub fn verify_visit_ticket(state: &AppState, token: &str, channel_id: &str) -> Option<VisitTicket> {
    state
        .signer
        .verify::<VisitTicket>(VISIT_TICKET, token)
        .filter(|t| t.channel_id == channel_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            visit_gap_secs: 1800,
            visitor_memory_secs: 10 * 24 * 3600,
            page_view_max_secs: 3600,
            ..Config::default()
        }
    }

    #[test]
    fn a_new_visitor_starts_at_visit_one() {
        let t = next_visit_ticket(None, "c", 1_000, &config());
        assert_eq!(
            (
                t.visit,
                t.viewed_at_ms,
                t.first_seen_ms,
                t.channel_id.as_str()
            ),
            (1, 1_000, 1_000, "c")
        );
    }

    #[test]
    fn the_visit_number_grows_only_after_the_gap() {
        let first = next_visit_ticket(None, "c", 0, &config());
        let same_visit = next_visit_ticket(Some(first.clone()), "c", 1_799_999, &config());
        assert_eq!(
            (same_visit.visit, &same_visit.visitor_id),
            (1, &first.visitor_id)
        );
        let next_visit = next_visit_ticket(
            Some(same_visit.clone()),
            "c",
            1_799_999 + 1_800_000,
            &config(),
        );
        assert_eq!(
            (next_visit.visit, &next_visit.visitor_id),
            (2, &first.visitor_id)
        );
    }

    #[test]
    fn a_visitor_is_remembered_from_its_first_page_view_not_its_last() {
        let day = 24 * 3600 * 1000;
        let mut ticket = next_visit_ticket(None, "c", 0, &config());
        let first_id = ticket.visitor_id.clone();
        // Used every day, it still runs out ten days after the first page view.
        for at in (1..10).map(|d| d * day) {
            ticket = next_visit_ticket(Some(ticket), "c", at, &config());
            assert_eq!(ticket.visitor_id, first_id);
        }
        let later = next_visit_ticket(Some(ticket), "c", 10 * day, &config());
        assert_ne!(later.visitor_id, first_id);
        assert_eq!((later.visit, later.first_seen_ms), (1, 10 * day));
    }

    #[test]
    fn a_page_view_renews_its_ticket_for_a_bounded_time_only() {
        let ticket = next_visit_ticket(None, "c", 0, &config());
        let renewed = renew_visit_ticket(ticket.clone(), 3_599_999, &config()).unwrap();
        assert_ne!(renewed.id, ticket.id);
        assert_eq!((renewed.viewed_at_ms, renewed.issued_at_ms), (0, 3_599_999));
        assert!(matches!(
            renew_visit_ticket(renewed, 3_600_000, &config()),
            Err(Error::VisitTicketExpired)
        ));
    }
}
