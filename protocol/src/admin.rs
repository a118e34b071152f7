//! Bodies of the admin REST API (`/v1/admin/…`).

use serde::{Deserialize, Serialize};

use crate::{Appearance, CaptchaProvider};

/// A channel as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelView {
    pub id: String,
    /// Public: goes in the snippet.
    pub key: String,
    /// Server-to-server credential for this channel's REST API. Rotatable.
    pub secret: String,
    pub name: String,
    pub inactivity_timeout_secs: i64,
    /// Exact origins; empty means any origin.
    pub allowed_origins: Vec<String>,
    pub online: bool,
    pub receptive: bool,
    pub state: ChannelState,
    /// Why the state is `error`.
    pub error: Option<String>,
    pub captcha: Option<CaptchaView>,
    pub appearance: Appearance,
    /// The `<script>` tag to paste into the site's pages.
    pub snippet: String,
    /// A page on the gateway with the chat on it, to share as a link (emails, QR codes).
    pub chat_url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelState {
    Online,
    Offline,
    /// Online, but something keeps it from working (say, a captcha secret the provider rejects).
    Error,
}

/// A channel's captcha as admins see it: the secret is write-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptchaView {
    pub provider: CaptchaProvider,
    pub site_key: String,
    pub min_score: Option<f64>,
}

/// `POST /v1/admin/channels/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteChannels {
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelsDeleted {
    pub deleted: Vec<String>,
}
