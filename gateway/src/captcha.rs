//! Captcha verification, server-side: the widget hands over the provider's response token and
//! the gateway asks the provider's siteverify endpoint (secret, token, remote IP) with reqwest.
//! reCAPTCHA v2/v3, hCaptcha and Turnstile all speak this protocol. A provider that does not
//! answer in time, or answers nonsense, fails closed.

use protocol::{CaptchaProvider, CAPTCHA_ACTION};
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{CaptchaSettings, ChannelRecord};
use crate::telemetry;

/// reCAPTCHA v3's own suggestion when a channel sets no threshold.
const DEFAULT_MIN_SCORE: f64 = 0.5;

pub fn verify_url(provider: CaptchaProvider) -> &'static str {
    match provider {
        CaptchaProvider::RecaptchaV2 | CaptchaProvider::RecaptchaV3 => {
            "https://www.google.com/recaptcha/api/siteverify"
        }
        CaptchaProvider::Hcaptcha => "https://api.hcaptcha.com/siteverify",
        CaptchaProvider::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    }
}

/// The provider's script for explicit rendering (v3 renders nothing: it is executed).
pub fn script_url(provider: CaptchaProvider, site_key: &str) -> String {
    match provider {
        CaptchaProvider::RecaptchaV2 => {
            "https://www.google.com/recaptcha/api.js?render=explicit".into()
        }
        CaptchaProvider::RecaptchaV3 => {
            format!("https://www.google.com/recaptcha/api.js?render={site_key}")
        }
        CaptchaProvider::Hcaptcha => "https://js.hcaptcha.com/1/api.js?render=explicit".into(),
        CaptchaProvider::Turnstile => {
            "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit".into()
        }
    }
}

/// What the widget needs to show the channel's challenge.
pub fn challenge(state: &AppState, channel: &ChannelRecord) -> Option<protocol::CaptchaChallenge> {
    channel
        .captcha
        .as_ref()
        .map(|c| protocol::CaptchaChallenge {
            provider: c.provider,
            site_key: c.site_key.clone(),
            script_url: state
                .config
                .captcha_script_url
                .clone()
                .unwrap_or_else(|| script_url(c.provider, &c.site_key)),
        })
}

/// The provider's answer, as documented by all four providers.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteVerify {
    pub success: bool,
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default, rename = "error-codes")]
    pub error_codes: Vec<String>,
}

/// Checks the visitor's token with the provider. `origin` is the page's origin: the provider
/// must report the same host, so a token solved on another site is refused.
pub async fn verify(
    state: &AppState,
    channel: &ChannelRecord,
    token: Option<&str>,
    remote_ip: IpAddr,
    origin: Option<&str>,
) -> Result<()> {
    let Some(settings) = &channel.captcha else {
        return Ok(());
    };
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(Error::CaptchaRequired)?;
    let url = state
        .config
        .captcha_verify_url
        .as_deref()
        .unwrap_or(verify_url(settings.provider));
    let remote_ip = remote_ip.to_string();
    let form = [
        ("secret", settings.secret.as_str()),
        ("response", token),
        ("remoteip", remote_ip.as_str()),
    ];
    let answer = state
        .http
        .post(url)
        .form(&form)
        .timeout(Duration::from_millis(state.config.captcha_timeout_ms))
        .send()
        .await
        .and_then(|r| r.error_for_status());
    let answer: SiteVerify = match answer {
        Ok(response) => response.json().await.map_err(|e| unavailable(&e))?,
        Err(e) => return Err(unavailable(&e)),
    };
    if answer
        .error_codes
        .iter()
        .any(|c| SECRET_PROBLEMS.contains(&c.as_str()))
    {
        // The site's configuration is wrong, not the visitor: admins see it on the channel.
        state
            .store
            .set_channel_error(
                &channel.id,
                Some("the captcha provider rejects this channel's secret key"),
            )
            .await?;
        return Err(Error::CaptchaUnavailable);
    }
    let judged = judge(settings, &answer, origin.map(host_of));
    if matches!(judged, Err(Error::CaptchaFailed(_))) {
        telemetry::captcha_failed();
    }
    judged
}

/// Error codes by which providers say the secret itself is wrong.
const SECRET_PROBLEMS: &[&str] = &["invalid-input-secret", "missing-input-secret"];

fn unavailable(e: &reqwest::Error) -> Error {
    // The URL is logged without its form body: the secret never reaches the logs.
    tracing::warn!(url = ?e.url().map(|u| u.as_str()), timeout = e.is_timeout(), "captcha provider unavailable");
    Error::CaptchaUnavailable
}

/// The host of an origin (`https://shop.example:8443` → `shop.example`).
fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    rest.rsplit_once(':').map_or(rest, |(host, _)| host)
}

/// Decides on a provider's answer.
pub fn judge(
    settings: &CaptchaSettings,
    answer: &SiteVerify,
    page_host: Option<&str>,
) -> Result<()> {
    if !answer.success {
        let reasons = if answer.error_codes.is_empty() {
            "rejected".to_owned()
        } else {
            answer.error_codes.join(", ")
        };
        return Err(Error::CaptchaFailed(reasons));
    }
    if let (Some(expected), Some(reported)) = (page_host, answer.hostname.as_deref()) {
        if !expected.eq_ignore_ascii_case(reported) {
            return Err(Error::CaptchaFailed(format!(
                "solved on {reported}, not on {expected}"
            )));
        }
    }
    if settings.provider == CaptchaProvider::RecaptchaV3 {
        let min = settings.min_score.unwrap_or(DEFAULT_MIN_SCORE);
        match answer.score {
            Some(score) if score >= min => {}
            Some(score) => {
                return Err(Error::CaptchaFailed(format!(
                    "score {score} is below {min}"
                )))
            }
            None => return Err(Error::CaptchaFailed("the provider gave no score".into())),
        }
        if answer
            .action
            .as_deref()
            .is_some_and(|a| a != CAPTCHA_ACTION)
        {
            return Err(Error::CaptchaFailed(
                "the token was made for another action".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: CaptchaProvider, min_score: Option<f64>) -> CaptchaSettings {
        CaptchaSettings {
            provider,
            site_key: "site".into(),
            secret: "secret".into(),
            min_score,
        }
    }

    fn ok(score: Option<f64>, hostname: &str) -> SiteVerify {
        SiteVerify {
            success: true,
            score,
            action: Some(CAPTCHA_ACTION.into()),
            hostname: Some(hostname.into()),
            error_codes: vec![],
        }
    }

    #[test]
    fn success_on_the_right_host_passes() {
        assert!(judge(
            &settings(CaptchaProvider::Turnstile, None),
            &ok(None, "shop.example"),
            Some("shop.example")
        )
        .is_ok());
    }

    #[test]
    fn failures_name_their_reason() {
        let answer = SiteVerify {
            error_codes: vec!["invalid-input-response".into()],
            ..Default::default()
        };
        let err = judge(&settings(CaptchaProvider::Hcaptcha, None), &answer, None).unwrap_err();
        assert_eq!(err.code(), "captcha_failed");
        assert!(err.to_string().contains("invalid-input-response"));
    }

    #[test]
    fn a_token_solved_on_another_host_is_refused() {
        let err = judge(
            &settings(CaptchaProvider::RecaptchaV2, None),
            &ok(None, "evil.example"),
            Some("shop.example"),
        )
        .unwrap_err();
        assert_eq!(err.code(), "captcha_failed");
    }

    #[test]
    fn v3_checks_the_score_against_the_channel_threshold_and_the_action() {
        let v3 = settings(CaptchaProvider::RecaptchaV3, Some(0.7));
        assert!(judge(&v3, &ok(Some(0.7), "h"), Some("h")).is_ok());
        assert!(judge(&v3, &ok(Some(0.6), "h"), Some("h")).is_err());
        assert!(judge(
            &settings(CaptchaProvider::RecaptchaV3, None),
            &ok(Some(0.4), "h"),
            None
        )
        .is_err());
        assert!(judge(&v3, &ok(None, "h"), None).is_err());
        let other_action = SiteVerify {
            action: Some("login".into()),
            ..ok(Some(0.9), "h")
        };
        assert!(judge(&v3, &other_action, None).is_err());
    }

    #[test]
    fn hosts_are_taken_from_origins() {
        assert_eq!(host_of("https://shop.example:8443"), "shop.example");
        assert_eq!(host_of("http://127.0.0.1:8081"), "127.0.0.1");
        assert_eq!(host_of("https://shop.example"), "shop.example");
    }
}
