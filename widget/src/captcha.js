// Renders the channel's captcha challenge with the provider's own script and resolves with the
// provider's response token. reCAPTCHA v2, hCaptcha and Turnstile share the explicit-render API
// (render(container, {sitekey, callback})); reCAPTCHA v3 is invisible and executed instead.
export function solveCaptcha(container, provider, siteKey, scriptUrl, action) {
  const name = provider.startsWith('recaptcha') ? 'grecaptcha' : provider;
  return new Promise((resolve, reject) => {
    const run = () => {
      const api = window[name];
      if (!api) return reject(new Error('the captcha script did not load'));
      const go = () => provider === 'recaptcha_v3'
        ? api.execute(siteKey, { action }).then(resolve, reject)
        : api.render(container, { sitekey: siteKey, callback: resolve, 'error-callback': () => reject(new Error('captcha error')) });
      api.ready ? api.ready(go) : go();
    };
    if (window[name]) return run();
    const script = document.createElement('script');
    script.src = scriptUrl;
    script.async = true;
    script.onload = run;
    script.onerror = () => reject(new Error('the captcha script could not be loaded'));
    document.head.appendChild(script);
  });
}
