-- Palisade schema, version 2: the change feed.
-- Every committed write inserts one row, numbered by the next revision of
-- the whole store (revision is SQLite's rowid, assigned by the store, never
-- by SQLite). account_id is '' for a platform-wide change or one touching
-- several accounts or none; readers filter on it. flags: 1 an account row
-- written, 2 the platform addresses changed. ids lists what the write
-- touched as six ';'-separated sections of sorted ','-separated ids:
-- accounts;groups;groups whose members changed;instances;templates;hosts.

CREATE TABLE changes (
    revision   INTEGER PRIMARY KEY,
    time       BIGINT NOT NULL,
    account_id TEXT NOT NULL,
    flags      INTEGER NOT NULL,
    ids        TEXT NOT NULL
);
-- No index on account_id: a reader asks for a range of revisions, which
-- the primary key orders, and filters it.

-- The per-account revision counter is replaced by the feed.
ALTER TABLE accounts DROP COLUMN revision;
