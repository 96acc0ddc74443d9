-- The audit search (SPEC.md section 11) stays fast on a million entries
-- (docs/BENCHMARKS.md). Keep in step with ../postgres/0005_audit_search.sql.

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
-- `action` last: an actor's entries of one action are counted from the index alone.
CREATE INDEX audit_log_actor ON audit_log (lower(actor), create_time, id, action);
CREATE INDEX audit_log_actor_id ON audit_log (actor_id, create_time, id);
CREATE INDEX audit_log_target ON audit_log (target_id, create_time, id);
CREATE INDEX audit_log_target_type ON audit_log (target_type, create_time, id);

-- How many entries each action, action prefix (`business.`), actor and target type has,
-- per business:
-- `business_key` is the business's id, -1 for entries of no business, and -2 for all
-- entries whatever their business (what the system administrator sees). Triggers keep
-- it, so the `total` of a page filtered by one of them alone, or not filtered, adds
-- up a few rows instead of counting a large part of the log.
CREATE TABLE audit_tally (
    kind         TEXT   NOT NULL CHECK (kind IN ('action', 'prefix', 'actor', 'target')),
    key          TEXT   NOT NULL,
    business_key BIGINT NOT NULL,
    entries      BIGINT NOT NULL,
    PRIMARY KEY (kind, key, business_key)
);
INSERT INTO audit_tally (kind, key, business_key, entries)
    SELECT kind, key, business_key, COUNT(*) FROM (
        SELECT 'action' AS kind, action AS key, COALESCE(business_id, -1) AS business_key FROM audit_log
        UNION ALL SELECT 'action', action, -2 FROM audit_log
        UNION ALL SELECT 'prefix', rtrim(action, 'abcdefghijklmnopqrstuvwxyz_'), COALESCE(business_id, -1) FROM audit_log
        UNION ALL SELECT 'prefix', rtrim(action, 'abcdefghijklmnopqrstuvwxyz_'), -2 FROM audit_log
        UNION ALL SELECT 'actor', lower(actor), COALESCE(business_id, -1) FROM audit_log
        UNION ALL SELECT 'actor', lower(actor), -2 FROM audit_log
        UNION ALL SELECT 'target', target_type, COALESCE(business_id, -1) FROM audit_log
        UNION ALL SELECT 'target', target_type, -2 FROM audit_log
    ) AS counted
    GROUP BY kind, key, business_key;

CREATE TRIGGER audit_tally_insert AFTER INSERT ON audit_log
BEGIN
    INSERT INTO audit_tally (kind, key, business_key, entries)
        SELECT kind, key, business_key, 1 FROM (
            SELECT 'action' AS kind, NEW.action AS key, COALESCE(NEW.business_id, -1) AS business_key
            UNION ALL SELECT 'action', NEW.action, -2
            UNION ALL SELECT 'prefix', rtrim(NEW.action, 'abcdefghijklmnopqrstuvwxyz_'), COALESCE(NEW.business_id, -1)
            UNION ALL SELECT 'prefix', rtrim(NEW.action, 'abcdefghijklmnopqrstuvwxyz_'), -2
            UNION ALL SELECT 'actor', lower(NEW.actor), COALESCE(NEW.business_id, -1)
            UNION ALL SELECT 'actor', lower(NEW.actor), -2
            UNION ALL SELECT 'target', NEW.target_type, COALESCE(NEW.business_id, -1)
            UNION ALL SELECT 'target', NEW.target_type, -2
        ) AS added
        WHERE true
        ON CONFLICT (kind, key, business_key) DO UPDATE SET entries = audit_tally.entries + 1;
END;
-- Entries are never changed or deleted through the API; should it happen by hand, the
-- tally follows.
CREATE TRIGGER audit_tally_delete AFTER DELETE ON audit_log
BEGIN
    UPDATE audit_tally SET entries = entries - 1
        WHERE business_key IN (COALESCE(OLD.business_id, -1), -2)
          AND ((kind = 'action' AND key = OLD.action)
            OR (kind = 'prefix' AND key = rtrim(OLD.action, 'abcdefghijklmnopqrstuvwxyz_'))
            OR (kind = 'actor' AND key = lower(OLD.actor))
            OR (kind = 'target' AND key = OLD.target_type));
END;
CREATE TRIGGER audit_tally_update AFTER UPDATE OF action, actor, target_type, business_id ON audit_log
BEGIN
    UPDATE audit_tally SET entries = entries - 1
        WHERE business_key IN (COALESCE(OLD.business_id, -1), -2)
          AND ((kind = 'action' AND key = OLD.action)
            OR (kind = 'prefix' AND key = rtrim(OLD.action, 'abcdefghijklmnopqrstuvwxyz_'))
            OR (kind = 'actor' AND key = lower(OLD.actor))
            OR (kind = 'target' AND key = OLD.target_type));
    INSERT INTO audit_tally (kind, key, business_key, entries)
        SELECT kind, key, business_key, 1 FROM (
            SELECT 'action' AS kind, NEW.action AS key, COALESCE(NEW.business_id, -1) AS business_key
            UNION ALL SELECT 'action', NEW.action, -2
            UNION ALL SELECT 'prefix', rtrim(NEW.action, 'abcdefghijklmnopqrstuvwxyz_'), COALESCE(NEW.business_id, -1)
            UNION ALL SELECT 'prefix', rtrim(NEW.action, 'abcdefghijklmnopqrstuvwxyz_'), -2
            UNION ALL SELECT 'actor', lower(NEW.actor), COALESCE(NEW.business_id, -1)
            UNION ALL SELECT 'actor', lower(NEW.actor), -2
            UNION ALL SELECT 'target', NEW.target_type, COALESCE(NEW.business_id, -1)
            UNION ALL SELECT 'target', NEW.target_type, -2
        ) AS added
        WHERE true
        ON CONFLICT (kind, key, business_key) DO UPDATE SET entries = audit_tally.entries + 1;
END;
