-- Accounts (SPEC.md section 9): sessions, personal access tokens, two-factor. Keep in
-- step with ../postgres/0003_accounts.sql.

-- A session begins at each password login; its JWTs carry its id (`sid`) through
-- refreshes. Deleting the row ends every token of the session at once.
CREATE TABLE sessions (
    id             TEXT   PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    create_time    BIGINT NOT NULL,
    last_seen_time BIGINT NOT NULL,
    user_agent     TEXT   NOT NULL,
    ip             TEXT   NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, create_time);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_time);

-- Personal access tokens: only the SHA-256 digest of the token is kept.
CREATE TABLE personal_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT NOT NULL REFERENCES users (id),
    name           TEXT   NOT NULL,
    scope          TEXT   NOT NULL CHECK (scope IN ('read', 'write')),
    digest         TEXT   NOT NULL,
    create_time    BIGINT NOT NULL,
    expire_time    BIGINT NOT NULL,
    last_used_time BIGINT
);
CREATE UNIQUE INDEX personal_tokens_digest ON personal_tokens (digest);
CREATE INDEX personal_tokens_by_user ON personal_tokens (user_id, id);
CREATE INDEX personal_tokens_by_expiry ON personal_tokens (expire_time);

-- A TOTP secret, active once confirmed with a code. `last_step` is the newest time step
-- whose code was accepted: a code is taken once.
CREATE TABLE totp (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id),
    secret      TEXT   NOT NULL,
    active      BIGINT NOT NULL DEFAULT 0,
    last_step   BIGINT NOT NULL DEFAULT 0,
    create_time BIGINT NOT NULL
);

-- Single-use recovery codes, by SHA-256 digest (each code has 80 random bits).
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users (id),
    digest  TEXT   NOT NULL,
    PRIMARY KEY (user_id, digest)
);
