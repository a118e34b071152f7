//! What the gateway's own integration tests share: a real store on a temporary SQLite file,
//! seeded with the demo channel and agent.

use gateway::config::Config;
use gateway::state::AppState;
use gateway::store::ChannelRecord;

/// The gateway's state on a fresh database in `dir`, and its demo channel.
pub async fn demo_state(dir: &tempfile::TempDir) -> (AppState, ChannelRecord) {
    let config = Config {
        database_url: format!("sqlite://{}?mode=rwc", dir.path().join("db").display()),
        demo: true,
        ..Config::default()
    };
    let state = gateway::prepare(config).await.expect("state");
    let channel = state
        .store
        .channel_by_key(gateway::demo::CHANNEL_KEY)
        .await
        .expect("the store answers")
        .expect("demo channel");
    (state, channel)
}
