-- Palisade schema, version 1 (SQLite).
-- Times are Unix microseconds (BIGINT); booleans are INTEGER 0/1.

CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    port25_unblocked INTEGER NOT NULL DEFAULT 0,
    port25_by        TEXT NOT NULL DEFAULT '',
    port25_at        BIGINT NOT NULL DEFAULT 0,
    revision         BIGINT NOT NULL DEFAULT 0,
    created          BIGINT NOT NULL
);

CREATE TABLE account_events (
    seq        INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    time       BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    secret_id  TEXT NOT NULL,
    request_id TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX account_events_account ON account_events(account_id, seq);

CREATE TABLE quotas (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL,
    value      BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE hosts (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE credentials (
    secret_id  TEXT PRIMARY KEY,
    secret_key TEXT NOT NULL,
    account_id TEXT REFERENCES accounts(id),
    role       TEXT NOT NULL,
    host_id    TEXT REFERENCES hosts(id),
    created    BIGINT NOT NULL
);
CREATE INDEX credentials_account ON credentials(account_id);

CREATE TABLE platform_addresses (
    prefix  TEXT PRIMARY KEY,
    created BIGINT NOT NULL
);

CREATE TABLE security_groups (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    region      TEXT NOT NULL,
    project_id  BIGINT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    is_default  INTEGER NOT NULL,
    version     BIGINT NOT NULL,
    ingress     TEXT NOT NULL,
    egress      TEXT NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL
);
-- Names are unique per account and region; default groups (one per
-- project, all named "default") are exempt and unique per project instead.
CREATE UNIQUE INDEX security_groups_name ON security_groups(account_id, region, name) WHERE is_default = 0;
CREATE UNIQUE INDEX security_groups_default ON security_groups(account_id, region, project_id) WHERE is_default = 1;
CREATE INDEX security_groups_project ON security_groups(account_id, region, project_id);

CREATE TABLE group_tags (
    group_id TEXT NOT NULL REFERENCES security_groups(id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (group_id, key)
);
CREATE INDEX group_tags_key ON group_tags(key, value);

-- refs indexes references from a group's policies or a template group's
-- members (from_id) to groups and templates (to_id).
CREATE TABLE refs (
    from_id TEXT NOT NULL,
    to_id   TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX refs_to ON refs(to_id);

CREATE TABLE group_history (
    seq        INTEGER PRIMARY KEY,
    group_id   TEXT NOT NULL,
    account_id TEXT NOT NULL,
    version    BIGINT NOT NULL,
    time       BIGINT NOT NULL,
    secret_id  TEXT NOT NULL,
    request_id TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX group_history_group ON group_history(group_id, seq);

CREATE TABLE instances (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    region      TEXT NOT NULL,
    zone        TEXT NOT NULL,
    project_id  BIGINT NOT NULL,
    name        TEXT NOT NULL,
    os_type     TEXT NOT NULL,
    private_ips TEXT NOT NULL,
    ipv6s       TEXT NOT NULL,
    public_ip   TEXT NOT NULL,
    host_id     TEXT NOT NULL,
    interface   TEXT NOT NULL,
    state       TEXT NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL
);
CREATE INDEX instances_account ON instances(account_id, region);

CREATE TABLE bindings (
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES security_groups(id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (instance_id, group_id)
);
CREATE INDEX bindings_group ON bindings(group_id);

CREATE TABLE templates (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    region     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    entries    TEXT NOT NULL,
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL
);
CREATE INDEX templates_account ON templates(account_id, region, kind);
