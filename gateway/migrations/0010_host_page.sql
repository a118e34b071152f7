-- The host page in charge: visitors the site identifies, who is on the site now, and
-- conversations an agent starts.

-- The key the site's back end signs identity tokens with (HS256); NULL until an admin creates
-- one. Apart from the channel secret: it is copied into the site's own servers, and rotating it
-- must not break the REST API (nor rotating that one break logins).
ALTER TABLE channels ADD COLUMN identity_secret TEXT;
-- `optional`, or `required`: anonymous visitors cannot open a chat.
ALTER TABLE channels ADD COLUMN identity TEXT NOT NULL DEFAULT 'optional';
-- The proactive greeting (JSON: text, seconds on the page, page patterns); NULL: none.
ALTER TABLE channels ADD COLUMN proactive TEXT;

-- A contact the site vouched for with a signed token: found by its `external_id` from any
-- device. Its visitor id is its own (never a browser's), so a browser that is no longer
-- identified reads none of its history.
ALTER TABLE contacts ADD COLUMN verified_at BIGINT;
-- What the host page said of the visitor through `LiveChat.setAttributes` (JSON object of
-- strings): shown to agents as unverified, never copied into the fields above.
ALTER TABLE contacts ADD COLUMN attributes TEXT;
CREATE UNIQUE INDEX contacts_verified_by_external_id
    ON contacts (channel_id, external_id) WHERE verified_at IS NOT NULL;

-- Who is on a page of the channel now: one row per browser (the visit ticket's visitor id),
-- written by the loader's page-view calls and swept once they stop.
CREATE TABLE live_visitors (
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL,
    page_url TEXT,
    viewed_at BIGINT NOT NULL,
    visit BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    -- From the identity token the page passed, verified.
    external_id TEXT,
    name TEXT,
    email TEXT,
    -- An agent started a conversation with this browser: the next page-view call opens the chat.
    invited_at BIGINT,
    PRIMARY KEY (channel_id, visitor_id)
);
CREATE INDEX live_visitors_by_seen ON live_visitors (channel_id, seen_at);
