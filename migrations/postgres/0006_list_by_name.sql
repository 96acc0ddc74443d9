-- The user list by name reads only an index on PostgreSQL too (bench/README.md, issue 15).
-- PostgreSQL's index-only scans need every column a query names in the index, and for an
-- expression index also the column the expression is made of: `users_name_key` (unique,
-- on lower(user_name)) made each skipped row of a page a heap read (4 ms for page 100 of
-- a million). This one carries the id and the name. SQLite's indexes carry the rowid
-- already (../sqlite/0006_list_by_name.sql does nothing).
CREATE INDEX users_by_name_live ON users (lower(user_name)) INCLUDE (id, user_name) WHERE deleted_at IS NULL;
