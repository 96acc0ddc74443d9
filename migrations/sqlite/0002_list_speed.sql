-- Lists of a million users stay fast (docs/BENCHMARKS.md). Keep in step with
-- ../postgres/0002_list_speed.sql.

-- The number of live users, kept by triggers: the unfiltered user list's `total` reads
-- one row instead of counting every user.
CREATE TABLE live_user_count (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT  NOT NULL
);
INSERT INTO live_user_count (id, value) SELECT 1, COUNT(*) FROM users WHERE deleted_at IS NULL;

CREATE TRIGGER live_user_count_insert AFTER INSERT ON users WHEN NEW.deleted_at IS NULL
BEGIN
    UPDATE live_user_count SET value = value + 1;
END;
CREATE TRIGGER live_user_count_delete AFTER DELETE ON users WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE live_user_count SET value = value - 1;
END;
CREATE TRIGGER live_user_count_update AFTER UPDATE OF deleted_at ON users
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE live_user_count SET value = value + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END);
END;

-- Small indexes of live users, so a page's ids are found without reading whole rows:
-- in id order, and in id order per status (the pending queue).
CREATE INDEX users_live ON users (id) WHERE deleted_at IS NULL;
CREATE INDEX users_by_status ON users (status, id) WHERE deleted_at IS NULL;
