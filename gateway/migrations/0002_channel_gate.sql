-- Per-channel gate settings. Captcha: no secret = no captcha. min_score applies to reCAPTCHA v3.
ALTER TABLE channels ADD COLUMN receptive BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN captcha_provider TEXT;
ALTER TABLE channels ADD COLUMN captcha_site_key TEXT;
ALTER TABLE channels ADD COLUMN captcha_secret TEXT;
ALTER TABLE channels ADD COLUMN captcha_min_score DOUBLE PRECISION;
-- Why an online channel does not work (shown to admins as state `error`); cleared on edit.
ALTER TABLE channels ADD COLUMN last_error TEXT;

-- Visitor sessions the gateway ended (inactivity): their tokens open no socket again, on any
-- gateway sharing this database. Rows are only needed until the token would expire anyway.
CREATE TABLE ended_sessions (
    session_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    ended_at BIGINT NOT NULL
);
