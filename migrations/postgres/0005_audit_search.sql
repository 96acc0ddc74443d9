-- The audit search (SPEC.md section 11) stays fast on a million entries
-- (docs/BENCHMARKS.md). Keep in step with ../sqlite/0005_audit_search.sql.

-- The log is read newest first, by (create_time, id). Each filter has an index that
-- starts with it and continues in that order, so a page of one filter, with or without a
-- time range, is one walk down one index. `rtrim(action, ...)` is the action's prefix up
-- to its last dot (`business.`), for `action=business.*`; the server writes the same
-- expression (api/audit.rs, `action_prefix`).
DROP INDEX audit_log_business;
CREATE INDEX audit_log_business ON audit_log (business_id, create_time, id);
CREATE INDEX audit_log_time ON audit_log (create_time, id);
CREATE INDEX audit_log_action ON audit_log (action, create_time, id);
CREATE INDEX audit_log_action_prefix ON audit_log (rtrim(action, 'abcdefghijklmnopqrstuvwxyz_'), create_time, id);
CREATE INDEX audit_log_actor ON audit_log (lower(actor), create_time, id);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id, create_time, id);
CREATE INDEX audit_log_target ON audit_log (target_id, create_time, id);
CREATE INDEX audit_log_target_type ON audit_log (target_type, create_time, id);

-- How many entries each action and each actor has, per business (-1: none), kept by a
-- trigger: the `total` of a page filtered by action or by actor alone adds up a few rows
-- instead of counting a large part of the log.
CREATE TABLE audit_tally (
    kind         TEXT   NOT NULL CHECK (kind IN ('action', 'actor')),
    key          TEXT   NOT NULL,
    business_key BIGINT NOT NULL,
    entries      BIGINT NOT NULL,
    PRIMARY KEY (kind, key, business_key)
);
INSERT INTO audit_tally (kind, key, business_key, entries)
    SELECT 'action', action, COALESCE(business_id, -1), COUNT(*) FROM audit_log
    GROUP BY action, COALESCE(business_id, -1);
INSERT INTO audit_tally (kind, key, business_key, entries)
    SELECT 'actor', lower(actor), COALESCE(business_id, -1), COUNT(*) FROM audit_log
    GROUP BY lower(actor), COALESCE(business_id, -1);

-- Entries are never changed or deleted through the API; should it happen by hand, the
-- tally follows.
CREATE FUNCTION audit_tally_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE audit_tally SET entries = entries - 1
            WHERE kind = 'action' AND key = OLD.action AND business_key = COALESCE(OLD.business_id, -1);
        UPDATE audit_tally SET entries = entries - 1
            WHERE kind = 'actor' AND key = lower(OLD.actor) AND business_key = COALESCE(OLD.business_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO audit_tally (kind, key, business_key, entries)
            VALUES ('action', NEW.action, COALESCE(NEW.business_id, -1), 1)
            ON CONFLICT (kind, key, business_key) DO UPDATE SET entries = audit_tally.entries + 1;
        INSERT INTO audit_tally (kind, key, business_key, entries)
            VALUES ('actor', lower(NEW.actor), COALESCE(NEW.business_id, -1), 1)
            ON CONFLICT (kind, key, business_key) DO UPDATE SET entries = audit_tally.entries + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_tally AFTER INSERT OR DELETE OR UPDATE OF action, actor, business_id ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_tally_change();
