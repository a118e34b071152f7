//! The channel's captcha, solved in the panel before a session opens. The provider's own script
//! renders the challenge (`captcha.js`); the gateway verifies the token it yields.

use protocol::{CaptchaChallenge, CAPTCHA_ACTION};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/captcha.js")]
extern "C" {
    /// Renders the channel's challenge with the provider's own script (loaded once) and resolves
    /// with the provider's response token. reCAPTCHA v2, hCaptcha and Turnstile share the
    /// explicit-render API (`render(container, {sitekey, callback})`); reCAPTCHA v3 is invisible
    /// and executed instead.
    #[wasm_bindgen(js_name = solveCaptcha)]
    fn solve_captcha(
        container: &web_sys::HtmlElement,
        provider: &str,
        site_key: &str,
        script_url: &str,
        action: &str,
    ) -> js_sys::Promise;
}

/// Shows the challenge in `container` and waits for the visitor to solve it.
pub async fn solve(
    container: &web_sys::HtmlElement,
    challenge: &CaptchaChallenge,
    texts: &crate::texts::Texts,
) -> Result<String, String> {
    container.set_inner_html("");
    let promise = solve_captcha(
        container,
        challenge.provider.as_str(),
        &challenge.site_key,
        &challenge.script_url,
        CAPTCHA_ACTION,
    );
    let token = JsFuture::from(promise)
        .await
        .map_err(|_| texts.get("captcha_not_shown"))?;
    container.set_inner_html("");
    token
        .as_string()
        .ok_or_else(|| texts.get("captcha_no_answer"))
}
