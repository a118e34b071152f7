//! Channels: lookup by the public key in the snippet (the allowed-origins check every
//! visitor-facing request goes through is `auth::check_origin`); the admins' API to create and
//! configure them is in [`admin`].

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::ChannelRecord;

pub mod admin;

pub async fn by_key(state: &AppState, key: &str) -> Result<ChannelRecord> {
    state
        .store
        .channel_by_key(key)
        .await?
        .ok_or_else(|| Error::ChannelNotFound(key.to_owned()))
}
