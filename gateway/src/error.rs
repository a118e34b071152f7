//! The gateway's one error type and its single mapping to HTTP responses.
//!
//! Every refusal a client can act on has a stable code from [`protocol::codes`]; server faults
//! are logged in full and answered with a bland 500 so internals never leak.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{codes, ErrorBody, ErrorDetail, Problem, Refusal};
use std::collections::BTreeMap;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("no channel has the key {0:?}")]
    ChannelNotFound(String),
    #[error("this channel is offline")]
    ChannelOffline,
    #[error("the origin {0:?} is not allowed for this channel")]
    OriginNotAllowed(String),
    #[error("the visit ticket is invalid")]
    InvalidVisitTicket,
    #[error("the visit ticket is too old to open a chat; renew it")]
    VisitTicketExpired,
    #[error("the visit ticket has already opened a chat; renew it")]
    VisitTicketUsed,
    #[error("the chat is hidden on this channel for now")]
    WidgetHidden,
    #[error("the chat is not open: {detail}")]
    RuleNotMet {
        rule: protocol::Rule,
        detail: String,
    },
    #[error("the session token is invalid")]
    InvalidSessionToken,
    #[error("the session has expired")]
    SessionExpired,
    #[error("this chat session has ended; open a new one")]
    SessionEnded,
    #[error("authentication required")]
    Unauthorized,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("no such conversation")]
    ConversationNotFound,
    #[error("the conversation is closed")]
    ConversationClosed,
    #[error("the conversation is not closed yet")]
    ConversationNotClosed,
    #[error("this channel does not ask for ratings")]
    RatingsOff,
    #[error("this channel does not allow co-browsing")]
    CobrowseOff,
    #[error("no co-browsing session of this conversation is running")]
    CobrowseNotActive,
    #[error("the visitor has not let the agent act on the page")]
    CobrowseNoControl,
    #[error("the page's mirror sent more than {bytes_per_sec} bytes a second; sharing stopped")]
    MirrorTooFast { bytes_per_sec: u32 },
    #[error("the site did not give the file: {0}")]
    AssetUnavailable(String),
    #[error("this contact has a conversation in progress; close it first")]
    ContactInConversation,
    #[error("another agent has taken this conversation")]
    ConversationTaken,
    #[error("the channel's desk does not handle this conversation")]
    ConversationNotAtDesk,
    #[error("a message cannot be empty")]
    MessageEmpty,
    #[error("a message can be at most {max} characters")]
    MessageTooLong { max: usize },
    #[error("this chat requires a captcha; solve it and try again")]
    CaptchaRequired,
    #[error("the captcha was not accepted: {0}")]
    CaptchaFailed(String),
    #[error("the captcha could not be checked right now; try again in a moment")]
    CaptchaUnavailable,
    #[error("this gateway holds all the connections it can; try again shortly")]
    OverCapacity,
    #[error("too many requests; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// From the SQLite writer's own connection (see `store::tx`).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("no such resource")]
    NotFound,
    #[error("only admins may do this")]
    Forbidden,
    #[error("some fields are invalid: {}", .0.keys().cloned().collect::<Vec<_>>().join(", "))]
    Validation(BTreeMap<String, Problem>),
    #[error("{} channel(s) still have open conversations; nothing was deleted", .0.len())]
    ChannelInUse(Vec<Refusal>),
    #[error("this channel does not take files from visitors")]
    UploadsDisabled,
    #[error("a file can be at most {max_bytes} bytes here")]
    FileTooLarge { max_bytes: u64 },
    #[error("files of this type ({0}) are not accepted here")]
    FileTypeNotAllowed(String),
    #[error("the image was refused: {0}")]
    ImageRefused(String),
    #[error("no such upload of yours to attach")]
    AttachmentNotFound,
    #[error("a message can carry at most {max} files")]
    TooManyAttachments { max: usize },
    #[error("this download link has expired")]
    LinkExpired,
    #[error("this reply address is not one of ours")]
    InvalidReplyToken,
    #[error("this email is too old to answer; continue in the chat")]
    ReplyTokenExpired,
    #[error("this chat does not send email")]
    EmailUnavailable,
    #[error("this chat is for signed-in customers of the site only")]
    IdentityRequired,
    #[error("the identity token was refused: {0}")]
    InvalidIdentity(String),
    #[error("this channel only receives conversations: agents cannot start one here")]
    ChannelReceptive,
    #[error("this visitor is no longer on the site")]
    VisitorGone,
    #[error("file storage: {0}")]
    Blobs(#[from] object_store::Error),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// `validation_failed` naming one field and what is wrong with it.
    pub fn field(name: &str, problem: Problem) -> Self {
        Error::Validation([(name.to_owned(), problem)].into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_)
            | Error::MessageEmpty
            | Error::MessageTooLong { .. }
            | Error::CaptchaRequired
            | Error::AttachmentNotFound
            | Error::TooManyAttachments { .. } => StatusCode::BAD_REQUEST,
            Error::UploadsDisabled => StatusCode::FORBIDDEN,
            Error::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::FileTypeNotAllowed(_) | Error::ImageRefused(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            Error::LinkExpired | Error::ReplyTokenExpired => StatusCode::GONE,
            Error::InvalidReplyToken => StatusCode::FORBIDDEN,
            Error::EmailUnavailable
            | Error::ChannelReceptive
            | Error::ConversationNotClosed
            | Error::RatingsOff
            | Error::CobrowseNotActive
            | Error::ContactInConversation => StatusCode::CONFLICT,
            Error::CobrowseOff | Error::CobrowseNoControl => StatusCode::FORBIDDEN,
            Error::MirrorTooFast { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::AssetUnavailable(_) => StatusCode::BAD_GATEWAY,
            Error::VisitorGone => StatusCode::NOT_FOUND,
            Error::ChannelNotFound(_) | Error::ConversationNotFound | Error::NotFound => {
                StatusCode::NOT_FOUND
            }
            Error::ChannelOffline => StatusCode::SERVICE_UNAVAILABLE,
            Error::OriginNotAllowed(_)
            | Error::CaptchaFailed(_)
            | Error::Forbidden
            | Error::WidgetHidden
            | Error::RuleNotMet { .. } => StatusCode::FORBIDDEN,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::ChannelInUse(_) => StatusCode::CONFLICT,
            Error::CaptchaUnavailable | Error::OverCapacity => StatusCode::SERVICE_UNAVAILABLE,
            Error::InvalidVisitTicket
            | Error::VisitTicketExpired
            | Error::VisitTicketUsed
            | Error::InvalidSessionToken
            | Error::SessionExpired
            | Error::SessionEnded
            | Error::Unauthorized
            | Error::IdentityRequired
            | Error::InvalidIdentity(_)
            | Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Error::ConversationClosed | Error::ConversationTaken | Error::ConversationNotAtDesk => {
                StatusCode::CONFLICT
            }
            Error::Config(_)
            | Error::Database(_)
            | Error::Sqlite(_)
            | Error::Migrate(_)
            | Error::Blobs(_)
            | Error::Io(_)
            | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => codes::BAD_REQUEST,
            Error::ChannelNotFound(_) => codes::CHANNEL_NOT_FOUND,
            Error::ChannelOffline => codes::CHANNEL_OFFLINE,
            Error::OriginNotAllowed(_) => codes::ORIGIN_NOT_ALLOWED,
            Error::InvalidVisitTicket => codes::INVALID_VISIT_TICKET,
            Error::VisitTicketExpired => codes::VISIT_TICKET_EXPIRED,
            Error::VisitTicketUsed => codes::VISIT_TICKET_USED,
            Error::WidgetHidden => codes::WIDGET_HIDDEN,
            Error::RuleNotMet { rule, .. } => rule.code(),
            Error::InvalidSessionToken => codes::INVALID_SESSION_TOKEN,
            Error::SessionExpired => codes::SESSION_EXPIRED,
            Error::SessionEnded => codes::SESSION_ENDED,
            Error::Unauthorized => codes::UNAUTHORIZED,
            Error::InvalidCredentials => codes::INVALID_CREDENTIALS,
            Error::ConversationNotFound => codes::CONVERSATION_NOT_FOUND,
            Error::NotFound => codes::NOT_FOUND,
            Error::Forbidden => codes::FORBIDDEN,
            Error::RateLimited { .. } => codes::RATE_LIMITED,
            Error::Validation(_) => codes::VALIDATION_FAILED,
            Error::ChannelInUse(_) => codes::CHANNEL_IN_USE,
            Error::ConversationClosed => codes::CONVERSATION_CLOSED,
            Error::ConversationNotClosed => codes::CONVERSATION_NOT_CLOSED,
            Error::RatingsOff => codes::RATINGS_OFF,
            Error::CobrowseOff => codes::COBROWSE_OFF,
            Error::CobrowseNotActive => codes::COBROWSE_NOT_ACTIVE,
            Error::CobrowseNoControl => codes::COBROWSE_NO_CONTROL,
            Error::MirrorTooFast { .. } => codes::MIRROR_TOO_FAST,
            Error::AssetUnavailable(_) => codes::ASSET_UNAVAILABLE,
            Error::ContactInConversation => codes::CONTACT_IN_CONVERSATION,
            Error::ConversationTaken => codes::CONVERSATION_TAKEN,
            Error::ConversationNotAtDesk => codes::CONVERSATION_NOT_AT_DESK,
            Error::MessageEmpty => codes::MESSAGE_EMPTY,
            Error::MessageTooLong { .. } => codes::MESSAGE_TOO_LONG,
            Error::CaptchaRequired => codes::CAPTCHA_REQUIRED,
            Error::CaptchaFailed(_) => codes::CAPTCHA_FAILED,
            Error::CaptchaUnavailable => codes::CAPTCHA_UNAVAILABLE,
            Error::OverCapacity => codes::OVER_CAPACITY,
            Error::UploadsDisabled => codes::UPLOADS_DISABLED,
            Error::FileTooLarge { .. } => codes::FILE_TOO_LARGE,
            Error::FileTypeNotAllowed(_) => codes::FILE_TYPE_NOT_ALLOWED,
            Error::ImageRefused(_) => codes::IMAGE_REFUSED,
            Error::AttachmentNotFound => codes::ATTACHMENT_NOT_FOUND,
            Error::TooManyAttachments { .. } => codes::TOO_MANY_ATTACHMENTS,
            Error::LinkExpired => codes::LINK_EXPIRED,
            Error::InvalidReplyToken => codes::INVALID_REPLY_TOKEN,
            Error::ReplyTokenExpired => codes::REPLY_TOKEN_EXPIRED,
            Error::EmailUnavailable => codes::EMAIL_UNAVAILABLE,
            Error::IdentityRequired => codes::IDENTITY_REQUIRED,
            Error::InvalidIdentity(_) => codes::INVALID_IDENTITY,
            Error::ChannelReceptive => codes::CHANNEL_RECEPTIVE,
            Error::VisitorGone => codes::VISITOR_GONE,
            Error::Config(_)
            | Error::Database(_)
            | Error::Sqlite(_)
            | Error::Migrate(_)
            | Error::Blobs(_)
            | Error::Io(_)
            | Error::Internal(_) => codes::INTERNAL,
        }
    }

    /// The body a client sees; server faults are not described to it.
    pub fn body(&self) -> ErrorBody {
        let message = if self.status().is_server_error() {
            "internal error; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                fields: match self {
                    Error::Validation(problems) => problems
                        .iter()
                        .map(|(field, problem)| (field.clone(), problem.to_string()))
                        .collect(),
                    _ => BTreeMap::new(),
                },
                problems: match self {
                    Error::Validation(problems) => problems.clone(),
                    _ => BTreeMap::new(),
                },
                refused: match self {
                    Error::ChannelInUse(refused) => refused.clone(),
                    _ => Vec::new(),
                },
            },
        }
    }
}

impl Error {
    /// The body for the client, after logging a server fault in full: every path that answers
    /// an error (HTTP, socket error frames) goes through here, so "it has been logged" is true.
    pub fn reported(&self) -> ErrorBody {
        if self.status().is_server_error() {
            tracing::error!(error = %self, code = self.code(), "request failed");
        }
        self.body()
    }
}

/// An error and its causes, as one line ("error sending request: connection refused"): the
/// root cause is what the reader of a delivery log needs.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

const OVER_CAPACITY_RETRY_SECS: u64 = 5;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.reported())).into_response();
        let retry_after_secs = match self {
            Error::RateLimited { retry_after_secs } => Some(retry_after_secs),
            // Sockets come and go by the second; a little later there is room, or a retry lands
            // on another gateway.
            Error::OverCapacity => Some(OVER_CAPACITY_RETRY_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after_secs {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// A JSON request body whose refusal (unreadable, wrong shape, too large) is the crate's
/// `bad_request`, so handlers take the value itself.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_server_fault_is_logged_in_full_and_told_blandly() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let body = tracing::subscriber::with_default(subscriber, || {
            Error::Internal("disk on fire".into()).reported()
        });
        assert_eq!(body.error.message, "internal error; it has been logged");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("disk on fire"), "{log}");
        let quiet = Captured::default();
        let writer = quiet.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || Error::MessageEmpty.reported());
        assert!(
            quiet.0.lock().unwrap().is_empty(),
            "a client's mistake is not a fault"
        );
    }
}
