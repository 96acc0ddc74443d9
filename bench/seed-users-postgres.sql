-- The million users of bench/seed-users.sql, for PostgreSQL (./x bench --postgres): the same
-- names (a permutation of the ids: 7919 is prime to 10^6), phones and times. The trigger
-- that keeps the count of live users is off while they go in (a million updates of its
-- one row otherwise) and the count is set once after.
ALTER TABLE users DISABLE TRIGGER live_user_count;
INSERT INTO users (user_name, password_hash, phone, real_name, is_admin, status, create_time, update_time)
SELECT 'user' || lpad(((i * 7919) % 1000000)::text, 7, '0'),
       '$argon2id$v=19$m=19456,t=2,p=1$IqtaQn2H1evtXbYU+9YQHQ$JSWL33uh9myLcWvTqF5mGkLCJ2OKsQGc6rOO9t6q928',
       '1' || lpad(i::text, 10, '0'), 'Bench User ' || i, 0, 1,
       1767225600 + i, 1767225600 + i
FROM generate_series(1::bigint, 1000000) AS i;
ALTER TABLE users ENABLE TRIGGER live_user_count;
UPDATE live_user_count SET value = (SELECT COUNT(*) FROM users WHERE deleted_at IS NULL);
VACUUM ANALYZE users;
