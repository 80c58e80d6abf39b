-- request_signatures remembers the signatures of accepted API requests
-- until they expire (microseconds since the epoch: when the server's clock
-- no longer accepts their X-TC-Timestamp), so that a request accepted by one
-- replica is refused as a replay by every other. These rows are not the
-- desired state: writing them commits no change to the feed.
CREATE TABLE request_signatures (
    signature TEXT PRIMARY KEY,
    action    TEXT NOT NULL,
    is_write  INTEGER NOT NULL,
    expires   BIGINT NOT NULL
);
CREATE INDEX request_signatures_expires ON request_signatures(expires);
