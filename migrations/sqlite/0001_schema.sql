-- OTE Portal schema, SQLite dialect. Times are Unix seconds; flags are 0 or 1 (BIGINT in
-- both dialects, since sqlx's Any driver reads no SQLite BOOLEAN). Keep in step with
-- ../postgres/0001_schema.sql: same tables, columns and index names.

CREATE TABLE businesses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    user_id     BIGINT  NOT NULL,
    status      BIGINT  NOT NULL DEFAULT 0,
    comment     TEXT    NOT NULL DEFAULT '',
    introduce   TEXT    NOT NULL,
    objective   TEXT    NOT NULL,
    scale       TEXT    NOT NULL,
    create_time BIGINT  NOT NULL,
    update_time BIGINT  NOT NULL
);
-- Names and owners are unique among live (pending or approved) businesses only.
CREATE UNIQUE INDEX businesses_name_key ON businesses (name) WHERE status IN (0, 1);
CREATE UNIQUE INDEX businesses_owner_key ON businesses (user_id) WHERE status IN (0, 1);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name        TEXT    NOT NULL,
    password_hash    TEXT    NOT NULL,
    phone            TEXT    NOT NULL,
    real_name        TEXT    NOT NULL,
    is_admin         BIGINT  NOT NULL,
    is_system_admin  BIGINT  NOT NULL DEFAULT 0,
    has_repo_account BIGINT  NOT NULL DEFAULT 0,
    status           BIGINT  NOT NULL DEFAULT 0,
    business_id      BIGINT  REFERENCES businesses (id),
    -- Raised to end every token issued before (password change, reset, audit to 2 or 3).
    token_version    BIGINT  NOT NULL DEFAULT 0,
    create_time      BIGINT  NOT NULL,
    update_time      BIGINT  NOT NULL,
    -- Deleted users keep their row for the audit log; their name and phone become free.
    deleted_at       BIGINT
);
CREATE UNIQUE INDEX users_name_key ON users (lower(user_name)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_one_system_admin ON users (is_system_admin) WHERE is_system_admin = 1;
CREATE INDEX users_business ON users (business_id, id) WHERE deleted_at IS NULL;

-- Single tokens ended before their expiry (logout, refresh); rows go once expired.
CREATE TABLE revoked_tokens (
    jti        TEXT   PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

-- Failed logins by lower-cased user name, for the throttle of SPEC.md section 5.
CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key  TEXT   NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (user_key, failed_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    BIGINT,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    target_type TEXT   NOT NULL,
    target_id   BIGINT NOT NULL,
    detail      TEXT   NOT NULL,
    -- The business the entry concerns, so a business admin sees its own entries.
    business_id BIGINT,
    create_time BIGINT NOT NULL
);
CREATE INDEX audit_log_business ON audit_log (business_id, id);

-- Shared settings every replica must agree on (the generated JWT secret).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
