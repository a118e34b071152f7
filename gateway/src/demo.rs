//! The demo's fixtures, seeded at start-up when `demo = true`: a channel with key `demo` that
//! allows only the demo site's origin, and one agent with a known password. Never enabled by
//! default: a known password has no place on a real deployment.

use protocol::Appearance;

use crate::error::Result;
use crate::state::AppState;
use crate::store::ChannelRecord;
use crate::{agents, now_ms};

pub const CHANNEL_KEY: &str = "demo";
pub const AGENT_EMAIL: &str = "agent@demo.test";
pub const AGENT_PASSWORD: &str = "demo-password";
pub const AGENT_NAME: &str = "Dana (demo agent)";

pub async fn seed(state: &AppState) -> Result<()> {
    let existing = state.store.channel_by_key(CHANNEL_KEY).await?;
    let fresh = ChannelRecord::new("Demo site", 600);
    let channel = ChannelRecord {
        id: existing.as_ref().map_or(fresh.id.clone(), |c| c.id.clone()),
        key: CHANNEL_KEY.into(),
        secret: existing.map_or(fresh.secret.clone(), |c| c.secret),
        allowed_origins: vec![state.config.demo_site_origin.clone()],
        appearance: Appearance {
            greeting: "Hi! Ask us anything — we usually answer within a minute.".into(),
            ..fresh.appearance.clone()
        },
        // Shown in the demo: agents may ask to see the page (and to act on it); the demo
        // page's card number goes as an empty box.
        cobrowse: protocol::CobrowseSettings {
            enabled: true,
            control: true,
            mask: Vec::new(),
            block: vec![".card-number".into()],
        },
        ..fresh
    };
    state.store.save_channel(&channel, now_ms()).await?;
    agents::ensure_agent(
        state,
        AGENT_EMAIL,
        AGENT_NAME,
        AGENT_PASSWORD,
        protocol::Role::Admin,
    )
    .await?;
    tracing::info!(
        channel = CHANNEL_KEY,
        agent = AGENT_EMAIL,
        "demo channel and agent ready"
    );
    Ok(())
}
