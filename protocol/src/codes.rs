//! Stable error codes. Clients match on these strings, so a code is never renamed once shipped;
//! the human message next to it may change freely.

pub const BAD_REQUEST: &str = "bad_request";
pub const CHANNEL_NOT_FOUND: &str = "channel_not_found";
pub const CHANNEL_OFFLINE: &str = "channel_offline";
pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";
pub const INVALID_VISIT_TICKET: &str = "invalid_visit_ticket";
/// The visit ticket is too old to open a chat; renew it (`GET /v1/widget/{key}/visibility`).
pub const VISIT_TICKET_EXPIRED: &str = "visit_ticket_expired";
/// The visit ticket already opened a chat; each opens one. Renew it as above.
pub const VISIT_TICKET_USED: &str = "visit_ticket_used";
/// An override hides the widget. Rules that keep the chat closed have codes `rule_…`
/// ([`crate::Rule::code`]).
pub const WIDGET_HIDDEN: &str = "widget_hidden";
pub const INVALID_SESSION_TOKEN: &str = "invalid_session_token";
pub const SESSION_EXPIRED: &str = "session_expired";
/// The gateway ended the session (see the `session_ended` frame's reason); open a new one.
pub const SESSION_ENDED: &str = "session_ended";
pub const UNAUTHORIZED: &str = "unauthorized";
pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
pub const CONVERSATION_NOT_FOUND: &str = "conversation_not_found";
pub const CONVERSATION_CLOSED: &str = "conversation_closed";
/// A rating was sent for a conversation still in progress: visitors rate closed ones.
pub const CONVERSATION_NOT_CLOSED: &str = "conversation_not_closed";
/// The channel does not ask visitors for ratings (its `rating_scale` is `off`).
pub const RATINGS_OFF: &str = "ratings_off";
/// The channel does not allow co-browsing (its `cobrowse.enabled` is off).
pub const COBROWSE_OFF: &str = "cobrowse_off";
/// No co-browsing session of this conversation is running (or waiting for the visitor).
pub const COBROWSE_NOT_ACTIVE: &str = "cobrowse_not_active";
/// The visitor has not let the agent act on the page (or the channel does not allow it).
pub const COBROWSE_NO_CONTROL: &str = "cobrowse_no_control";
/// The page's mirror went beyond its bytes per second: the session ended.
pub const MIRROR_TOO_FAST: &str = "mirror_too_fast";
/// The visitor's site did not give a file the co-browsing mirror needs (or not in time).
pub const ASSET_UNAVAILABLE: &str = "asset_unavailable";
/// A contact cannot be erased while one of their conversations is in progress: close it first.
pub const CONTACT_IN_CONVERSATION: &str = "contact_in_conversation";
/// Two agents accepted the same conversation at once; the other one has it.
pub const CONVERSATION_TAKEN: &str = "conversation_taken";
/// An external desk acted on a conversation it does not handle (a bot or the agents do).
pub const CONVERSATION_NOT_AT_DESK: &str = "conversation_not_at_desk";
pub const MESSAGE_EMPTY: &str = "message_empty";
pub const MESSAGE_TOO_LONG: &str = "message_too_long";
pub const FRAME_TOO_LARGE: &str = "frame_too_large";
pub const INVALID_FRAME: &str = "invalid_frame";
pub const RATE_LIMITED: &str = "rate_limited";
pub const CAPTCHA_REQUIRED: &str = "captcha_required";
pub const CAPTCHA_FAILED: &str = "captcha_failed";
pub const CAPTCHA_UNAVAILABLE: &str = "captcha_unavailable";
/// The gateway holds all the sockets it may (or is stopping): retry after `Retry-After`.
pub const OVER_CAPACITY: &str = "over_capacity";
pub const NOT_FOUND: &str = "not_found";
pub const FORBIDDEN: &str = "forbidden";
/// The body has invalid fields; `error.fields` says which and why.
pub const VALIDATION_FAILED: &str = "validation_failed";
/// A delete was refused; `error.refused` names the channels. Nothing was deleted.
pub const CHANNEL_IN_USE: &str = "channel_in_use";
/// The channel does not take files from visitors.
pub const UPLOADS_DISABLED: &str = "uploads_disabled";
/// The file is larger than the channel allows (413).
pub const FILE_TOO_LARGE: &str = "file_too_large";
/// The file's bytes are not of a kind the channel accepts (415).
pub const FILE_TYPE_NOT_ALLOWED: &str = "file_type_not_allowed";
/// An image with more pixels than the gateway decodes (a decompression bomb, or just huge), or
/// one that does not decode.
pub const IMAGE_REFUSED: &str = "image_refused";
/// A message names a file that is not the sender's own unsent upload in this channel.
pub const ATTACHMENT_NOT_FOUND: &str = "attachment_not_found";
/// A message names more files than it may carry.
pub const TOO_MANY_ATTACHMENTS: &str = "too_many_attachments";
/// A signed download link past its time (410).
pub const LINK_EXPIRED: &str = "link_expired";
/// An emailed reply whose reply address the gateway did not sign (or names no conversation).
pub const INVALID_REPLY_TOKEN: &str = "invalid_reply_token";
/// An emailed reply to an email older than `email_link_ttl_secs` (410).
pub const REPLY_TOKEN_EXPIRED: &str = "reply_token_expired";
/// The gateway sends no email (no `smtp_url`): nothing can be sent to an address.
pub const EMAIL_UNAVAILABLE: &str = "email_unavailable";
pub const INTERNAL: &str = "internal";
/// The channel requires visitors identified by the site (`LiveChat.identify`).
pub const IDENTITY_REQUIRED: &str = "identity_required";
/// The identity token is forged, expired, too long-lived, or for another channel.
pub const INVALID_IDENTITY: &str = "invalid_identity";
/// The channel is receptive: visitors start conversations, agents do not.
pub const CHANNEL_RECEPTIVE: &str = "channel_receptive";
/// The visitor is no longer on the site (nobody to start a conversation with).
pub const VISITOR_GONE: &str = "visitor_gone";
