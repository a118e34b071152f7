//! Who is calling and what they may do: every credential but the visitor's is read here.
//!
//! - An agent login (`Authorization: Bearer <token>`, or the console's HttpOnly cookie holding
//!   the same token) is [`AuthAgent`]. A login may be scoped to one channel (a join link's):
//!   it then acts as a plain agent of that channel only, whatever the account's role.
//! - [`Admin`] is an unscoped login of an account with the admin role.
//! - A channel secret (`Authorization: Bearer <secret>`) reaches that channel's REST API and its
//!   conversations, nothing else: [`ChannelAccess`], [`ConversationAccess`], [`secret_or_login`].
//! - A request authenticated by the cookie that changes anything (or opens the agent socket)
//!   must come from the console's own origin: [`check_same_origin`] (CSRF and cross-site
//!   WebSocket hijacking). Bearer requests are not affected: browsers never add those on their own.
//!
//! - A metrics scraper holds the configured `metrics_token`: [`Scraper`]; the mail server
//!   handing over visitors' emailed replies, the `email_inbound_secret`: [`MailServer`].
//!
//! The visitor's credentials (visit ticket, session token) are in `sessions`.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use protocol::{ConversationSummary, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::now_ms;
use crate::state::AppState;
use crate::store::{AgentRecord, ChannelRecord};
use crate::tokens::{same_secret, sha256_hex};

pub const LOGIN_COOKIE: &str = "livechat_agent";

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The value of the cookie `name`, among every `Cookie` header.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Origin` header, if the client sent one.
pub fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// The origin of the page a widget request comes from: its `Origin` header, or `own_origin`
/// for a request the browser marks same-origin (`Sec-Fetch-Site`), as it leaves `Origin` off
/// same-origin GETs: those of the gateway's own chat page (`/chat/{key}`).
pub fn page_origin<'a>(headers: &'a HeaderMap, own_origin: &'a str) -> Option<&'a str> {
    request_origin(headers).or_else(|| {
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        (site == Some("same-origin")).then_some(own_origin)
    })
}

/// A browser request must come from the console's origin: `Origin` equal to the public URL's
/// origin (or to this request's own host, for a gateway reached under several names, such as
/// `localhost` and `127.0.0.1`), else, without `Origin`, `Sec-Fetch-Site` saying same-origin or
/// a typed address. A request with neither header is not from a browser page and passes.
pub fn check_same_origin(headers: &HeaderMap, config: &Config) -> Result<()> {
    let refuse = |origin: &str| Err(Error::OriginNotAllowed(origin.to_owned()));
    match request_origin(headers) {
        Some(origin) => {
            let public = config.public_origin();
            let scheme = public.split("://").next().unwrap_or("http");
            let own_host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(|host| format!("{scheme}://{}", host.to_ascii_lowercase()));
            if origin == public || own_host.as_deref() == Some(origin) {
                Ok(())
            } else {
                refuse(origin)
            }
        }
        None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
            None | Some("same-origin" | "none") => Ok(()),
            Some(site) => refuse(site),
        },
    }
}

/// Requests a cross-site page could make harmful use of: those that change something, and
/// socket upgrades (a socket acts as the agent).
fn needs_same_origin(parts: &Parts) -> bool {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    !safe || parts.headers.contains_key(header::UPGRADE)
}

/// The purpose a visitor session token is signed for.
pub const SESSION_TOKEN: &str = "session-token";

/// What a session token grants: this visitor, on this channel, from this origin, until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Identifies this session, so the gateway can end it before the token expires.
    pub session_id: String,
    pub channel_id: String,
    pub visitor_id: String,
    pub origin: Option<String>,
    pub page_url: Option<String>,
    /// From the visit ticket, for agents.
    #[serde(default)]
    pub visit: Option<u32>,
    /// The browser's `User-Agent`, cut short, for agents.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Opened while nobody could chat, on a channel that takes messages meanwhile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
    /// The channel's proactive greeting the visitor opened the chat from: their first message
    /// starts the conversation with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    pub expires_at_ms: i64,
}

/// Checks signature, expiry and origin binding.
pub fn verify_session_token(
    state: &AppState,
    token: &str,
    origin: Option<&str>,
    now_ms: i64,
) -> Result<SessionClaims> {
    let claims: SessionClaims = state
        .signer
        .verify(SESSION_TOKEN, token)
        .ok_or(Error::InvalidSessionToken)?;
    if claims.expires_at_ms <= now_ms {
        return Err(Error::SessionExpired);
    }
    if claims.origin.as_deref() != origin {
        return Err(Error::OriginNotAllowed(origin.unwrap_or("").to_owned()));
    }
    Ok(claims)
}

/// A visitor's chat session, from `Authorization: Bearer <session token>` on a request from
/// the page the session was opened on (the token is bound to that origin, and the channel must
/// still allow it): the widget's own HTTP calls (files) beside its socket.
pub struct AuthVisitor {
    pub claims: SessionClaims,
    pub channel: ChannelRecord,
}

impl FromRequestParts<AppState> for AuthVisitor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(&parts.headers).ok_or(Error::InvalidSessionToken)?;
        let own = state.config.public_origin();
        AuthVisitor::of_token(state, token, page_origin(&parts.headers, &own)).await
    }
}

impl AuthVisitor {
    /// The session `token` stands for, presented from `origin`: signed, unexpired, not ended,
    /// bound to that origin, on a channel that still allows it.
    pub async fn of_token(state: &AppState, token: &str, origin: Option<&str>) -> Result<Self> {
        let claims = verify_session_token(state, token, origin, now_ms())?;
        if state.store.session_ended(&claims.session_id).await? {
            return Err(Error::SessionEnded);
        }
        let channel = state
            .store
            .channel_by_id(&claims.channel_id)
            .await?
            .ok_or(Error::InvalidSessionToken)?;
        check_origin(&channel, origin, &state.config.public_origin())?;
        Ok(AuthVisitor { claims, channel })
    }
}

/// An empty allow-list admits any origin; otherwise the origin must equal one entry exactly
/// (scheme, host and port as the browser serialises them). A request without an `Origin` header
/// is refused by a restricted channel: browsers always send it on the widget's cross-origin
/// calls, so its absence means a client outside a browser page. The gateway's own origin is
/// always allowed: it serves each channel's hosted chat page (`/chat/{key}`).
pub fn check_origin(channel: &ChannelRecord, origin: Option<&str>, own_origin: &str) -> Result<()> {
    if channel.allowed_origins.is_empty() || origin == Some(own_origin) {
        return Ok(());
    }
    match origin {
        Some(origin)
            if channel
                .allowed_origins
                .iter()
                .any(|allowed| allowed == origin) =>
        {
            Ok(())
        }
        other => Err(Error::OriginNotAllowed(other.unwrap_or("").to_owned())),
    }
}

/// An authenticated agent login, from `Authorization: Bearer …` or the login cookie.
pub struct AuthAgent {
    pub agent: AgentRecord,
    pub token: String,
    /// Set for a join link's login: the key of its one channel, where it acts as a plain agent.
    pub scope: Option<String>,
}

impl AuthAgent {
    /// What this login may do: the account's role, at most an agent's when scoped.
    pub fn role(&self) -> Role {
        match self.scope {
            Some(_) => Role::Agent,
            None => self.agent.role,
        }
    }

    /// Whose figures this login may read in reports: an admin's, anyone's (`asked`, or all);
    /// an agent's (or a scoped login's), only their own.
    pub fn report_agent(&self, asked: Option<String>) -> Result<Option<String>> {
        match (self.role(), asked) {
            (Role::Admin, asked) => Ok(asked),
            (Role::Agent, Some(asked)) if asked != self.agent.id => Err(Error::Forbidden),
            (Role::Agent, _) => Ok(Some(self.agent.id.clone())),
        }
    }

    /// Whether this login may see the channel's conversations.
    pub fn sees_channel(&self, channel_key: &str) -> bool {
        self.scope.as_ref().is_none_or(|scope| scope == channel_key)
    }

    /// Whether this login may write in the conversation: any unscoped login may (the store then
    /// says whether it exists, without a lookup of its own on the send path); a scoped one only
    /// in its channel.
    pub async fn may_write(&self, state: &AppState, id: &str) -> Result<()> {
        match self.scope {
            None => Ok(()),
            Some(_) => self.conversation(state, id).await.map(drop),
        }
    }

    /// The conversation, if it exists and this login may see it; `conversation_not_found`
    /// otherwise, so a scoped login learns nothing of other channels.
    pub async fn conversation(&self, state: &AppState, id: &str) -> Result<ConversationSummary> {
        state
            .store
            .conversation(id)
            .await?
            .filter(|c| self.sees_channel(&c.channel_key))
            .ok_or(Error::ConversationNotFound)
    }
}

impl FromRequestParts<AppState> for AuthAgent {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = match bearer(&parts.headers) {
            Some(token) => token,
            None => {
                let token =
                    cookie_value(&parts.headers, LOGIN_COOKIE).ok_or(Error::Unauthorized)?;
                if needs_same_origin(parts) {
                    check_same_origin(&parts.headers, &state.config)?;
                }
                token
            }
        };
        let (agent, scope) = state
            .store
            .agent_by_session(&sha256_hex(token), now_ms())
            .await?
            .ok_or(Error::Unauthorized)?;
        Ok(AuthAgent {
            agent,
            token: token.to_owned(),
            scope,
        })
    }
}

/// An unscoped login of an admin account.
pub struct Admin(pub AgentRecord);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let auth = AuthAgent::from_request_parts(parts, state).await?;
        match auth.role() {
            Role::Admin => Ok(Admin(auth.agent)),
            Role::Agent => Err(Error::Forbidden),
        }
    }
}

/// The `{id}` of the request's path.
pub async fn path_id(parts: &mut Parts, state: &AppState) -> Result<String> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|e| Error::BadRequest(e.body_text()))?;
    params.get("id").cloned().ok_or(Error::NotFound)
}

/// Who besides the holder of a channel's secret may call an endpoint of that channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Admin,
    AnyAgent,
}

/// Lets in the holder of the channel's secret (`Authorization: Bearer <secret>`) or a login of
/// the kind `also` (returned with the channel). A missing channel, or one a scoped login may not
/// see, reads as a wrong secret, so callers learn nothing of other channels.
pub async fn secret_or_login(
    parts: &mut Parts,
    state: &AppState,
    channel: Option<ChannelRecord>,
    also: Login,
) -> Result<(ChannelRecord, Option<AgentRecord>)> {
    if let (Some(channel), Some(secret)) = (&channel, bearer(&parts.headers)) {
        if same_secret(secret, &channel.secret) {
            return Ok((channel.clone(), None));
        }
    }
    // Not the channel's secret: it must be a login (which says 401, or 403 for a plain agent
    // where an admin is needed).
    let agent = match also {
        Login::Admin => Admin::from_request_parts(parts, state).await?.0,
        Login::AnyAgent => {
            let auth = AuthAgent::from_request_parts(parts, state).await?;
            match &channel {
                Some(channel) if !auth.sees_channel(&channel.key) => return Err(Error::NotFound),
                _ => auth.agent,
            }
        }
    };
    Ok((channel.ok_or(Error::NotFound)?, Some(agent)))
}

/// A metrics scraper: `Authorization: Bearer <metrics_token>`. Without a token configured no
/// one is (the page tells the state of every channel, so it is never public).
pub struct Scraper;

impl FromRequestParts<AppState> for Scraper {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        configured_bearer(parts, state.config.metrics_token.as_deref()).map(|()| Scraper)
    }
}

/// The mail server (or a provider's inbound webhook) handing over visitors' emailed replies:
/// `Authorization: Bearer <email_inbound_secret>`. Without a secret configured no one is.
pub struct MailServer;

impl FromRequestParts<AppState> for MailServer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        configured_bearer(parts, state.config.email_inbound_secret.as_deref()).map(|()| MailServer)
    }
}

/// Whether the request's bearer token is the configured one (never, when none is).
fn configured_bearer(parts: &Parts, expected: Option<&str>) -> Result<()> {
    match (bearer(&parts.headers), expected.filter(|t| !t.is_empty())) {
        (Some(presented), Some(expected)) if same_secret(presented, expected) => Ok(()),
        _ => Err(Error::Unauthorized),
    }
}

/// A caller of a channel's REST API (`/v1/channels/{id}/…`): a program holding the channel
/// secret, or an admin login (the console).
pub struct ChannelAccess {
    pub channel: ChannelRecord,
    /// The admin calling, None for the holder of the secret.
    pub admin: Option<AgentRecord>,
}

impl FromRequestParts<AppState> for ChannelAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let id = path_id(parts, state).await?;
        let channel = state.store.channel_by_id(&id).await?;
        let (channel, admin) = secret_or_login(parts, state, channel, Login::Admin).await?;
        Ok(ChannelAccess { channel, admin })
    }
}

/// A caller acting in a channel's conversations: a program holding the channel secret (the
/// desk, the bot), or any agent login that sees the channel (the console).
pub struct ChannelMember {
    pub channel: ChannelRecord,
    /// The agent calling, None for the holder of the secret.
    pub agent: Option<AgentRecord>,
}

impl FromRequestParts<AppState> for ChannelMember {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let id = path_id(parts, state).await?;
        let channel = state.store.channel_by_id(&id).await?;
        let (channel, agent) = secret_or_login(parts, state, channel, Login::AnyAgent).await?;
        Ok(ChannelMember { channel, agent })
    }
}

/// A conversation, for a caller holding its channel's secret or an admin login.
pub struct ConversationAccess {
    pub conversation_id: String,
}

impl FromRequestParts<AppState> for ConversationAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let id = path_id(parts, state).await?;
        let channel = match state.store.conversation(&id).await? {
            Some(c) => state.store.channel_by_key(&c.channel_key).await?,
            None => None,
        };
        secret_or_login(parts, state, channel, Login::Admin).await?;
        Ok(ConversationAccess {
            conversation_id: id,
        })
    }
}

/// A conversation `{id}` that the calling agent login may see.
pub struct AgentConversation {
    pub auth: AuthAgent,
    pub conversation: ConversationSummary,
}

impl FromRequestParts<AppState> for AgentConversation {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let auth = AuthAgent::from_request_parts(parts, state).await?;
        let id = path_id(parts, state).await?;
        let conversation = auth.conversation(state, &id).await?;
        Ok(AgentConversation { auth, conversation })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(public_url: &str) -> Config {
        Config {
            public_url: Some(public_url.into()),
            ..Config::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn the_login_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; livechat_agent=tok; b=2")]);
        assert_eq!(cookie_value(&h, LOGIN_COOKIE), Some("tok"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn browser_requests_must_come_from_the_console_origin() {
        let c = config("https://chat.example.com/");
        let ok = [
            headers(&[]),
            headers(&[("origin", "https://chat.example.com")]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("sec-fetch-site", "none")]),
            // A proxy that rewrites Host changes nothing: the public URL is what counts.
            headers(&[
                ("origin", "https://chat.example.com"),
                ("host", "10.0.0.5:8080"),
            ]),
            headers(&[
                ("origin", "https://other-name.example"),
                ("host", "other-name.example"),
            ]),
        ];
        for h in ok {
            assert!(check_same_origin(&h, &c).is_ok(), "{h:?}");
        }
        let refused = [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "https://chat.example.com.evil.example")]),
            headers(&[("origin", "http://chat.example.com")]),
            headers(&[("origin", "https://chat.example.com:8443")]),
            headers(&[
                ("origin", "https://evil.example"),
                ("host", "chat.example.com"),
            ]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("sec-fetch-site", "cross-site")]),
        ];
        for h in refused {
            assert!(check_same_origin(&h, &c).is_err(), "{h:?}");
        }
    }

    mod origins {
        use super::super::check_origin;
        use crate::store::ChannelRecord;

        const OWN: &str = "https://chat.gateway.example";

        fn channel(origins: &[&str]) -> ChannelRecord {
            ChannelRecord {
                allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
                ..ChannelRecord::new("n", 60)
            }
        }

        #[test]
        fn empty_allow_list_admits_any_origin_even_none() {
            assert!(check_origin(&channel(&[]), Some("https://a.example"), OWN).is_ok());
            assert!(check_origin(&channel(&[]), None, OWN).is_ok());
        }

        #[test]
        fn origins_compare_exactly() {
            let c = channel(&["https://shop.example"]);
            assert!(check_origin(&c, Some("https://shop.example"), OWN).is_ok());
            for wrong in [
                "https://shop.example/",
                "https://SHOP.example",
                "http://shop.example",
                "https://shop.example:8443",
                "https://shop.example.evil",
                "null",
            ] {
                assert!(
                    check_origin(&c, Some(wrong), OWN).is_err(),
                    "{wrong} must be refused"
                );
            }
            assert!(check_origin(&c, None, OWN).is_err());
            assert!(
                check_origin(&c, Some(OWN), OWN).is_ok(),
                "the hosted chat page is the channel's own"
            );
        }
    }
}
