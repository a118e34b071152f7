//! The gateway's way out to SMTP (`lettre`), when `smtp_url` is configured: what emails go
//! out through. What they say and when is the [`crate::email`] module's.

use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};

/// An SMTP exchange that has not finished by then has failed.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
}

impl Mailer {
    /// None without `smtp_url`: the gateway sends no email and the widget offers none.
    pub fn from_config(config: &Config) -> Result<Option<Self>> {
        let Some(url) = config.smtp_url.as_deref() else {
            return Ok(None);
        };
        // The URL holds the SMTP password: it is never repeated in an error.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| {
                Error::Config(
                    "smtp_url is not an SMTP URL (smtp://host:port, smtps://user:password@host, \
                     smtp://…?tls=required)"
                        .into(),
                )
            })?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = config
            .email_from
            .as_deref()
            .unwrap_or_default()
            .parse::<Address>()
            .map_err(|e| Error::Config(format!("email_from: {e}")))?;
        if let Some(reply_to) = &config.email_reply_to {
            reply_to
                .parse::<Address>()
                .map_err(|e| Error::Config(format!("email_reply_to: {e}")))?;
        }
        Ok(Some(Self { transport, from }))
    }

    /// The address emails come from.
    pub fn from(&self) -> &Address {
        &self.from
    }

    /// Sends the email; the SMTP error and its causes if it was not accepted ("connection
    /// refused" is what the log reader needs).
    pub async fn send(&self, message: Message) -> std::result::Result<(), String> {
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| crate::error::with_causes(&e))
    }
}
