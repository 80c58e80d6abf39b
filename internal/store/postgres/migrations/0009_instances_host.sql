-- A host's agent reads the instances placed on it (HostInstances) on every
-- resolution of its desired state: an index, not a scan of every instance.
CREATE INDEX instances_host ON instances(host_id, seq);
