//! Visibility rules: does the widget show on this page view, and may a conversation open.
//! The gateway is the authority; the loader only follows the decision.

use protocol::Visibility;

use crate::error::{Error, Result};
use crate::store::ChannelRecord;

pub fn visibility(channel: &ChannelRecord) -> Visibility {
    if channel.online {
        Visibility::Visible
    } else {
        Visibility::Hidden {
            reason: "offline".into(),
        }
    }
}

/// The same rules, re-checked when a visitor asks to open a chat.
pub fn check_session_allowed(channel: &ChannelRecord) -> Result<()> {
    match visibility(channel) {
        Visibility::Visible => Ok(()),
        Visibility::Hidden { .. } => Err(Error::ChannelOffline),
    }
}
