-- Lists of a million users stay fast (docs/BENCHMARKS.md). Keep in step with
-- ../sqlite/0002_list_speed.sql.

-- The number of live users, kept by a trigger: the unfiltered user list's `total` reads
-- one row instead of counting every user.
CREATE TABLE live_user_count (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT  NOT NULL
);
INSERT INTO live_user_count (id, value) SELECT 1, COUNT(*) FROM users WHERE deleted_at IS NULL;

CREATE FUNCTION live_user_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NULL THEN
            UPDATE live_user_count SET value = value + 1;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.deleted_at IS NULL THEN
            UPDATE live_user_count SET value = value - 1;
        END IF;
    ELSIF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
        UPDATE live_user_count SET value = value + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER live_user_count AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON users
    FOR EACH ROW EXECUTE FUNCTION live_user_count_change();

-- Small indexes of live users, so a page's ids are found without reading whole rows:
-- in id order, and in id order per status (the pending queue).
CREATE INDEX users_live ON users (id) WHERE deleted_at IS NULL;
CREATE INDEX users_by_status ON users (status, id) WHERE deleted_at IS NULL;
