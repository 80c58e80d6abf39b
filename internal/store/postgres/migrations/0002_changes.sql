-- Palisade schema, version 2 (PostgreSQL): the change feed.
-- Every committed write inserts one row, numbered by the next revision of
-- the whole store (assigned by the store as MAX(revision) + 1). account_id
-- is '' for a platform-wide change or one touching several accounts or
-- none; readers filter on it. flags: 1 an account row written, 2 the
-- platform addresses changed. ids lists what the write touched as six
-- ';'-separated sections of sorted ','-separated ids:
-- accounts;groups;groups whose members changed;instances;templates;hosts.

CREATE TABLE changes (
    revision   BIGINT PRIMARY KEY,
    time       BIGINT NOT NULL,
    account_id TEXT NOT NULL,
    flags      INTEGER NOT NULL,
    ids        TEXT NOT NULL
);
-- No index on account_id: a reader asks for a range of revisions, which
-- the primary key orders, and filters it.

-- The writer lock. Every write transaction first locks this one row
-- (SELECT … FOR UPDATE) and holds the lock until it commits or rolls back,
-- so writers of every process are serialised as SQLite's are. The
-- revision a writer takes is therefore one more than that of the last
-- committed change, and it commits before the next writer can read the
-- head: a follower that has read every change up to R never sees a change
-- commit later with a revision of R or less.
CREATE TABLE writer_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO writer_lock (id) VALUES (1);

-- The per-account revision counter is replaced by the feed.
ALTER TABLE accounts DROP COLUMN revision;
