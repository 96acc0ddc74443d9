PRAGMA synchronous = OFF;
PRAGMA cache_size = -500000;
-- The bench seeds a throwaway copy: no need to survive a power loss; a big cache keeps
-- the random-order name index in memory while it grows.
-- A million approved users, inserted in one statement (a few seconds): names follow a
-- permutation of the ids (7919 is prime to 10^6), so name order is not id order.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO users (user_name, password_hash, phone, real_name, is_admin, status, create_time, update_time)
SELECT printf('user%07d', (i * 7919) % 1000000),
       '$argon2id$v=19$m=19456,t=2,p=1$IqtaQn2H1evtXbYU+9YQHQ$JSWL33uh9myLcWvTqF5mGkLCJ2OKsQGc6rOO9t6q928',
       printf('1%010d', i), printf('Bench User %d', i), 0, 1,
       1767225600 + i, 1767225600 + i
FROM n;
