-- pending_confirmations holds the policy writes made with ConfirmWithin
-- that are not confirmed yet, one per group: the version written, the
-- version to restore unless it is confirmed by the deadline (microseconds
-- since the epoch), and the credential and request that wrote it. A row
-- is state of the control plane, not desired state: writing it commits no
-- feed entry. A deleted group's row is removed by the sweeper.
CREATE TABLE pending_confirmations (
    group_id        TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    version         BIGINT NOT NULL,
    restore_version BIGINT NOT NULL,
    deadline        BIGINT NOT NULL,
    secret_id       TEXT NOT NULL,
    request_id      TEXT NOT NULL
);
CREATE INDEX pending_confirmations_deadline ON pending_confirmations(deadline);
