//! The demo's fixtures, seeded at start-up when `demo = true`: a channel with key `demo` that
//! allows only the demo site's origin, and one agent with a known password. Never enabled by
//! default: a known password has no place on a real deployment.

use protocol::{Appearance, LauncherPosition};

use crate::app::AppState;
use crate::error::Result;
use crate::store::ChannelRecord;
use crate::{agents, now_ms, tokens};

pub const CHANNEL_KEY: &str = "demo";
pub const AGENT_EMAIL: &str = "agent@demo.test";
pub const AGENT_PASSWORD: &str = "demo-password";
pub const AGENT_NAME: &str = "Dana (demo agent)";

pub async fn seed(state: &AppState) -> Result<()> {
    let existing = state.store.channel_by_key(CHANNEL_KEY).await?;
    let channel = ChannelRecord {
        id: existing
            .as_ref()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.id.clone()),
        key: CHANNEL_KEY.into(),
        name: "Demo site".into(),
        secret: existing.map_or_else(|| tokens::random_token(32), |c| c.secret),
        inactivity_timeout_secs: 600,
        allowed_origins: vec![state.config.demo_site_origin.clone()],
        online: true,
        receptive: false,
        captcha: None,
        last_error: None,
        rules: Default::default(),
        visibility_override: Default::default(),
        queue_id: crate::store::DEFAULT_QUEUE.into(),
        appearance: Appearance {
            title: "Chat with us".into(),
            greeting: "Hi! Ask us anything — we usually answer within a minute.".into(),
            accent_color: "#2563eb".into(),
            position: LauncherPosition::BottomRight,
        },
    };
    state.store.save_channel(&channel, now_ms()).await?;
    agents::ensure_agent(state, AGENT_EMAIL, AGENT_NAME, AGENT_PASSWORD, "admin").await?;
    tracing::info!(
        channel = CHANNEL_KEY,
        agent = AGENT_EMAIL,
        "demo channel and agent ready"
    );
    Ok(())
}
