-- Nothing for SQLite: its index on lower(user_name) carries the rowid (the id), so the user
-- list by name already reads only that index. ../postgres/0006_list_by_name.sql adds the
-- covering index PostgreSQL needs; the numbers stay in step.
SELECT 1;
