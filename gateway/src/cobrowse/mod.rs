//! Co-browsing (see `protocol::cobrowse`): an agent asks to see a conversation's page; the
//! visitor's panel asks them; once they accept, their co-browse module mirrors the page over
//! their socket, and the gateway relays the mirror to the consoles watching, within a byte
//! budget per second, never storing it. Either side stops it; closing the conversation does too.
//!
//! Who may do what: agents who may see the conversation ask, watch, point and stop (a join
//! link's login only in its channel); only when the channel enables co-browsing; an agent acts
//! on the page only when the channel allows control and the visitor granted it. The visitor's
//! socket answers, grants and stops only the sessions of its own conversation.

pub mod assets;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use protocol::{CobrowseAct, CobrowseInvite, CobrowseSession, CobrowseState, ConversationSummary};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AgentConversation, AuthAgent};
use crate::error::{Error, Result};
use crate::hub::{HubEvent, MirrorSignal, Topic};
use crate::now_ms;
use crate::state::AppState;
use crate::store::ChannelRecord;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ask, current, stop))
        .merge(assets::router())
}

/// The visitor's view of a session, with what their module needs from the channel.
pub fn invite(session: &CobrowseSession, channel: &ChannelRecord) -> CobrowseInvite {
    let settings = &channel.cobrowse;
    CobrowseInvite {
        session_id: session.id.clone(),
        agent_name: session.agent_name.clone(),
        state: session.state,
        control_allowed: settings.control,
        control: session.control,
        mask: settings.mask.clone(),
        block: settings.block.clone(),
    }
}

fn visitor_topic(conversation: &ConversationSummary) -> Topic {
    Topic::Visitor {
        channel_key: conversation.channel_key.clone(),
        visitor_id: conversation.visitor_id.clone(),
    }
}

/// Tells the agents following the conversation and the visitor's tabs how the session stands.
fn announce(
    state: &AppState,
    conversation: &ConversationSummary,
    channel: &ChannelRecord,
    session: &CobrowseSession,
) {
    state.hub.publish(
        Topic::Conversation(conversation.id.clone()),
        HubEvent::Cobrowse(session.clone()),
    );
    state.hub.publish(
        visitor_topic(conversation),
        HubEvent::CobrowseInvite(invite(session, channel)),
    );
}

async fn channel_of(state: &AppState, conversation: &ConversationSummary) -> Result<ChannelRecord> {
    state
        .store
        .channel_by_key(&conversation.channel_key)
        .await?
        .ok_or(Error::ConversationNotFound)
}

/// An agent asks to see the conversation's page; the live session if there is one already.
pub async fn request(
    state: &AppState,
    auth: &AuthAgent,
    conversation: &ConversationSummary,
) -> Result<(CobrowseSession, bool)> {
    let channel = channel_of(state, conversation).await?;
    if !channel.cobrowse.enabled {
        return Err(Error::CobrowseOff);
    }
    if conversation.status == protocol::ConversationStatus::Closed {
        return Err(Error::ConversationClosed);
    }
    let (session, new) = state
        .store
        .request_cobrowse(&conversation.id, &auth.agent, now_ms())
        .await?;
    if new {
        announce(state, conversation, &channel, &session);
    }
    Ok((session, new))
}

/// Moves the conversation's session `id` (the live one, with None) from one of `from` to `to`
/// and announces it; `cobrowse_not_active` if no such session is live in those states.
async fn transition(
    state: &AppState,
    conversation: &ConversationSummary,
    id: Option<&str>,
    from: &[CobrowseState],
    to: CobrowseState,
    control: impl FnOnce(&CobrowseSession) -> bool,
) -> Result<CobrowseSession> {
    let live = state
        .store
        .live_cobrowse(&conversation.id, now_ms())
        .await?
        .filter(|live| id.is_none_or(|id| live.id == id))
        .ok_or(Error::CobrowseNotActive)?;
    let session = state
        .store
        .move_cobrowse(
            &live.id,
            &conversation.id,
            from,
            to,
            control(&live),
            now_ms(),
        )
        .await?
        .ok_or(Error::CobrowseNotActive)?;
    let channel = channel_of(state, conversation).await?;
    announce(state, conversation, &channel, &session);
    Ok(session)
}

const LIVE: [CobrowseState; 2] = [CobrowseState::Requested, CobrowseState::Active];

/// Ends the conversation's live session, if any (an agent stops it, the conversation closed).
pub async fn end(state: &AppState, conversation: &ConversationSummary) -> Result<()> {
    match transition(
        state,
        conversation,
        None,
        &LIVE,
        CobrowseState::Ended,
        |_| false,
    )
    .await
    {
        Ok(_) | Err(Error::CobrowseNotActive) => Ok(()),
        Err(e) => Err(e),
    }
}

/// What the visitor did with session `id` of their conversation.
pub enum VisitorAnswer {
    Accept,
    Decline,
    Grant(bool),
    Stop,
}

/// The visitor's answer; the session as it is now (accepting an active session again resumes
/// it, unchanged).
pub async fn answer(
    state: &AppState,
    conversation: &ConversationSummary,
    id: &str,
    answer: VisitorAnswer,
) -> Result<CobrowseSession> {
    use CobrowseState::{Active, Declined, Ended, Requested};
    match answer {
        VisitorAnswer::Accept => {
            transition(state, conversation, Some(id), &LIVE, Active, |s| s.control).await
        }
        VisitorAnswer::Decline => {
            transition(
                state,
                conversation,
                Some(id),
                &[Requested],
                Declined,
                |_| false,
            )
            .await
        }
        VisitorAnswer::Grant(granted) => {
            let channel = channel_of(state, conversation).await?;
            if granted && !channel.cobrowse.control {
                return Err(Error::CobrowseNoControl);
            }
            transition(state, conversation, Some(id), &[Active], Active, |_| {
                granted
            })
            .await
        }
        VisitorAnswer::Stop => {
            transition(state, conversation, Some(id), &LIVE, Ended, |_| false).await
        }
    }
}

/// An agent's signal to the module on the visitor's page: a pointer and a resync while the
/// session runs; an act only with the control the visitor granted.
pub async fn signal(
    state: &AppState,
    auth: &AuthAgent,
    conversation_id: &str,
    signal: MirrorSignal,
) -> Result<()> {
    let conversation = auth.conversation(state, conversation_id).await?;
    let session = state
        .store
        .live_cobrowse(conversation_id, now_ms())
        .await?
        .filter(|s| s.state == CobrowseState::Active)
        .ok_or(Error::CobrowseNotActive)?;
    if let MirrorSignal::Act(act) = &signal {
        let channel = channel_of(state, &conversation).await?;
        if !(session.control && channel.cobrowse.control) {
            return Err(Error::CobrowseNoControl);
        }
        check_act(act)?;
    }
    state.hub.publish(
        visitor_topic(&conversation),
        HubEvent::ToMirror {
            conversation_id: conversation.id.clone(),
            signal,
        },
    );
    Ok(())
}

fn check_act(act: &CobrowseAct) -> Result<()> {
    match act {
        CobrowseAct::Type { text, .. }
            if text.chars().count() > protocol::MAX_COBROWSE_TYPED_CHARS =>
        {
            Err(Error::field(
                "text",
                protocol::Problem::AtMostCharacters {
                    max: protocol::MAX_COBROWSE_TYPED_CHARS as u64,
                },
            ))
        }
        _ => Ok(()),
    }
}

/// Ask to see the visitor's page.
///
/// The visitor's panel asks them; nothing of the page is sent unless they accept. If a
/// session is live already (asked, or running), that one is answered with `200`.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/cobrowse",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses(
        (status = 201, description = "Asked.", body = CobrowseSession),
        (status = 200, description = "A session was live already.", body = CobrowseSession),
        (status = 403, description = "`cobrowse_off`: the channel does not allow co-browsing."),
        (status = 409, description = "`conversation_closed`."),
    )
)]
async fn ask(
    State(state): State<AppState>,
    AgentConversation { auth, conversation }: AgentConversation,
) -> Result<(StatusCode, Json<CobrowseSession>)> {
    let (session, new) = request(&state, &auth, &conversation).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(session)))
}

/// The conversation's live co-browsing session (asked, or running).
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/cobrowse",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses(
        (status = 200, description = "The live session.", body = CobrowseSession),
        (status = 404, description = "`not_found`: none is live."),
    )
)]
async fn current(
    State(state): State<AppState>,
    AgentConversation { conversation, .. }: AgentConversation,
) -> Result<Json<CobrowseSession>> {
    state
        .store
        .live_cobrowse(&conversation.id, now_ms())
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

/// Stop co-browsing (or take the request back).
#[utoipa::path(
    delete,
    path = "/v1/conversations/{id}/cobrowse",
    tag = "Agents",
    security(("agentToken" = []), ("agentCookie" = [])),
    responses((status = 204, description = "Stopped, or nothing was live."))
)]
async fn stop(
    State(state): State<AppState>,
    AgentConversation { conversation, .. }: AgentConversation,
) -> Result<StatusCode> {
    end(&state, &conversation).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The mirror's bytes a visitor's socket may still send: a bucket of
/// [`protocol::MIRROR_BURST_BYTES`] refilled at [`protocol::MIRROR_BYTES_PER_SEC`]. The module
/// paces itself within it; a socket that goes beyond it ends its session.
#[derive(Debug)]
pub struct MirrorBudget {
    available: f64,
    at: std::time::Instant,
}

impl MirrorBudget {
    pub fn new(now: std::time::Instant) -> Self {
        Self {
            available: f64::from(protocol::MIRROR_BURST_BYTES),
            at: now,
        }
    }

    /// Takes `bytes` from the budget; false (taking nothing) if it does not hold them.
    pub fn take(&mut self, bytes: usize, now: std::time::Instant) -> bool {
        let refill =
            now.duration_since(self.at).as_secs_f64() * f64::from(protocol::MIRROR_BYTES_PER_SEC);
        self.available = (self.available + refill).min(f64::from(protocol::MIRROR_BURST_BYTES));
        self.at = now;
        let bytes = bytes as f64;
        if bytes > self.available {
            return false;
        }
        self.available -= bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_mirror_budget_holds_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut budget = MirrorBudget::new(start);
        let burst = protocol::MIRROR_BURST_BYTES as usize;
        let rate = protocol::MIRROR_BYTES_PER_SEC as usize;
        assert!(budget.take(burst, start), "a whole first snapshot");
        assert!(!budget.take(1024, start), "then nothing at once");
        let later = start + Duration::from_millis(500);
        assert!(budget.take(rate / 2, later), "half a second's worth");
        assert!(!budget.take(1024, later));
        let much_later = later + Duration::from_secs(3600);
        assert!(budget.take(burst, much_later), "refilled up to the burst");
        assert!(!budget.take(1, much_later), "and not beyond it");
    }
}
