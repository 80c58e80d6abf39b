-- History rows carry a diff; some also a snapshot of the whole policy set,
-- from which later versions are rebuilt. Rows written before this version
-- hold the whole set after each change in detail's "After" (JSON): they
-- become snapshots as they are, their detail unchanged. Rows whose "After"
-- is not a policy set (attribute changes) stay without one. A detail that
-- is not JSON fails the migration rather than be skipped.

ALTER TABLE group_history ADD COLUMN snapshot TEXT NOT NULL DEFAULT '';

UPDATE group_history SET snapshot = (detail::json -> 'After')::text
WHERE json_typeof(detail::json -> 'After' -> 'Ingress') = 'array'
  AND json_typeof(detail::json -> 'After' -> 'Egress') = 'array';

-- Pruning finds the newest snapshot at or before a version.
CREATE INDEX group_history_version ON group_history(group_id, version);
