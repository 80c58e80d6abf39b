-- Palisade schema, version 2: the change feed.
-- Every committed write inserts one row, numbered by the next revision of
-- the whole store; id lists are comma-separated and sorted. account_id is
-- '' for a platform-wide change or one touching several accounts (listed in
-- account_ids). revision is the rowid (INTEGER PRIMARY KEY), assigned by
-- the store, never by SQLite.

CREATE TABLE changes (
    revision         INTEGER PRIMARY KEY,
    time             BIGINT NOT NULL,
    account_id       TEXT NOT NULL,
    account_ids      TEXT NOT NULL,
    account_row      INTEGER NOT NULL,
    group_ids        TEXT NOT NULL,
    member_group_ids TEXT NOT NULL,
    instance_ids     TEXT NOT NULL,
    template_ids     TEXT NOT NULL,
    host_ids         TEXT NOT NULL,
    platform         INTEGER NOT NULL
);
-- No index on account_id: a reader asks for a range of revisions, which
-- the primary key orders, and filters it.

-- The per-account revision counter is replaced by the feed.
ALTER TABLE accounts DROP COLUMN revision;
