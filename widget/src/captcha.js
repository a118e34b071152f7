// What this does is said where captcha.rs binds it (comments here cost the panel bytes).
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
