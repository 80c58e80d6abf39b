-- Palisade schema, version 2: the change feed.
-- Every committed write inserts one row, numbered by the next revision of
-- the whole store; id lists are comma-separated and sorted. account_id is
-- '' for a platform-wide change or one touching several accounts (listed in
-- account_ids).

CREATE TABLE changes (
    revision         BIGINT PRIMARY KEY,
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
CREATE INDEX changes_account ON changes(account_id, revision);

-- The per-account revision counter is replaced by the feed.
ALTER TABLE accounts DROP COLUMN revision;
