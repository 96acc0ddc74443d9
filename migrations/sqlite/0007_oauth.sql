-- The platform's identity provider (SPEC.md section 12). Keep in step with the other
-- dialect's 0007_oauth.sql.

-- RS256 signing keys (PKCS#8 PEM). The newest key without `retire_time` signs; a retired
-- key is published until every token it signed has expired.
CREATE TABLE oauth_keys (
    kid         TEXT   PRIMARY KEY,
    private_key TEXT   NOT NULL,
    create_time BIGINT NOT NULL,
    retire_time BIGINT
);

-- Applications (OpenID Connect clients). Only the SHA-256 digest of a secret is kept;
-- a public client has none. URI lists are JSON arrays. `id` names it in the audit log.
CREATE TABLE oauth_clients (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id                 TEXT   NOT NULL UNIQUE,
    name                      TEXT   NOT NULL,
    secret_digest             TEXT,
    redirect_uris             TEXT   NOT NULL,
    post_logout_redirect_uris TEXT   NOT NULL,
    enabled                   BIGINT NOT NULL DEFAULT 1,
    create_time               BIGINT NOT NULL,
    update_time               BIGINT NOT NULL
);

-- What a user allowed an application to learn, remembered until revoked.
CREATE TABLE oauth_consents (
    user_id     BIGINT NOT NULL REFERENCES users (id),
    client_id   TEXT   NOT NULL REFERENCES oauth_clients (client_id),
    scope       TEXT   NOT NULL,
    create_time BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- One sign-in of a user into an application: every access and refresh token it gave
-- names it, and ending it ends them all.
CREATE TABLE oauth_grants (
    id          TEXT   PRIMARY KEY,
    client_id   TEXT   NOT NULL REFERENCES oauth_clients (client_id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    session_id  TEXT   NOT NULL,
    scope       TEXT   NOT NULL,
    auth_time   BIGINT NOT NULL,
    amr         TEXT   NOT NULL,
    create_time BIGINT NOT NULL
);
CREATE INDEX oauth_grants_by_user ON oauth_grants (user_id);
CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id);
CREATE INDEX oauth_grants_by_session ON oauth_grants (session_id);

-- Authorization codes by digest, good once: `used` turns 1 at the exchange, and a second
-- exchange ends the grant the first made (`grant_id`).
CREATE TABLE oauth_codes (
    digest         TEXT   PRIMARY KEY,
    grant_id       TEXT   NOT NULL,
    client_id      TEXT   NOT NULL,
    user_id        BIGINT NOT NULL,
    session_id     TEXT   NOT NULL,
    redirect_uri   TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      BIGINT NOT NULL,
    amr            TEXT   NOT NULL,
    expire_time    BIGINT NOT NULL,
    used           BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oauth_codes_by_user ON oauth_codes (user_id);
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expire_time);

-- Refresh tokens by digest, rotated at each use; a used one presented again ends its grant.
CREATE TABLE oauth_refresh_tokens (
    digest      TEXT   PRIMARY KEY,
    grant_id    TEXT   NOT NULL,
    used        BIGINT NOT NULL DEFAULT 0,
    expire_time BIGINT NOT NULL
);
CREATE INDEX oauth_refresh_tokens_by_grant ON oauth_refresh_tokens (grant_id);
CREATE INDEX oauth_refresh_tokens_by_expiry ON oauth_refresh_tokens (expire_time);

-- Whether a session's sign-in took a one-time code (the ID token's `amr`).
ALTER TABLE sessions ADD COLUMN second_factor BIGINT NOT NULL DEFAULT 0;
