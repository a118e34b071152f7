-- What admins (and programs with a channel's secret) changed: who, when, and each field's
-- value before and after (JSON, secrets redacted). Kept when the channel is deleted.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    channel_id TEXT,
    target TEXT,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at, id);
