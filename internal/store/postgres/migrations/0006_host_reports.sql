-- What hosts' agents report. These rows are not the desired state: writing
-- them commits no change to the feed.

-- host_status is each host's last report: the revision of the desired state
-- its agent has applied, when the agent started and reported (microseconds
-- since the epoch), and the errors it met as a JSON list.
CREATE TABLE host_status (
    host_id          TEXT PRIMARY KEY REFERENCES hosts(id),
    applied_revision BIGINT NOT NULL,
    agent_start      BIGINT NOT NULL,
    reported         BIGINT NOT NULL,
    errors           TEXT NOT NULL
);

-- host_counters keeps, per counted rule of an instance on a host, the last
-- cumulative values of the agent's current run (packets, bytes, counted
-- since agent_start) and the sum of its earlier runs (base_packets,
-- base_bytes): the total is their sum, whatever the agent's restarts and
-- counter resets. group_id is '' and policy_index -1 for a platform rule,
-- platform '' for a group's policy.
CREATE TABLE host_counters (
    host_id      TEXT NOT NULL,
    instance_id  TEXT NOT NULL,
    direction    TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    platform     TEXT NOT NULL,
    policy_index INTEGER NOT NULL,
    agent_start  BIGINT NOT NULL,
    packets      BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    base_packets BIGINT NOT NULL,
    base_bytes   BIGINT NOT NULL,
    first_seen   BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    PRIMARY KEY (host_id, instance_id, direction, group_id, platform, policy_index)
);
CREATE INDEX host_counters_group ON host_counters(group_id);
