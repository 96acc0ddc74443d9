-- Events for the platform (SPEC.md section 10): webhook endpoints, the outbox of events
-- written in the transaction of each audited change, and one delivery per event and
-- endpoint. Keep in step with ../postgres/0004_webhooks.sql.

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    url         TEXT   NOT NULL,
    -- A JSON array of patterns: "*", an action ("user.audit") or a prefix ("business.*").
    events      TEXT   NOT NULL,
    description TEXT   NOT NULL,
    -- "whsec_" + base64 of 32 random bytes: the HMAC key must be kept as it is.
    secret      TEXT   NOT NULL,
    enabled     BIGINT NOT NULL DEFAULT 1,
    create_time BIGINT NOT NULL,
    update_time BIGINT NOT NULL
);

-- The outbox. Ids are handed out in commit order (writers take a lock for it), so a
-- larger id was committed later.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT   NOT NULL,
    -- The JSON body every endpoint receives.
    payload     TEXT   NOT NULL,
    create_time BIGINT NOT NULL
);

-- Times in milliseconds here: retries may be much shorter than a second in tests.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         BIGINT NOT NULL REFERENCES events (id),
    status           TEXT   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT,
    last_error       TEXT,
    next_attempt_ms  BIGINT NOT NULL,
    -- Until when a worker holds it (0: nobody): one sender at a time, on any replica.
    lease_until_ms   BIGINT NOT NULL DEFAULT 0,
    -- When retrying stops (a retry by hand starts the window again).
    give_up_ms       BIGINT NOT NULL,
    create_time      BIGINT NOT NULL
);
-- Each endpoint's oldest pending delivery is the next to send.
CREATE INDEX deliveries_pending ON deliveries (webhook_id, id) WHERE status = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, id);
