package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// What hosts' agents report: their status and their counters. These writes
// go through report, not exec: they are not changes of the desired state
// and commit no feed entry.

// report runs a write that the change feed does not record.
func (t *tx) report(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	if st := t.db.prepared[t.pool][q]; st != nil {
		return t.q.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.q.ExecContext(ctx, t.db.rebind(q), args...)
}

// The statements of every host's report, prepared on the pool reports run
// on.
const (
	upsertHostStatusQuery = `INSERT INTO host_status (host_id, applied_revision, agent_start, reported, errors) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (host_id) DO UPDATE SET applied_revision = excluded.applied_revision, agent_start = excluded.agent_start, reported = excluded.reported, errors = excluded.errors`
	counterQuery        = `SELECT agent_start, packets, bytes FROM host_counters WHERE ` + counterKeyWhere
	insertCounterQuery  = `INSERT INTO host_counters (host_id, instance_id, direction, group_id, platform, policy_index, agent_start, packets, bytes, base_packets, base_bytes, first_seen, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)`
	updateCounterQuery  = `UPDATE host_counters SET packets = ?, bytes = ?, updated = ? WHERE ` + counterKeyWhere
	restartCounterQuery = `UPDATE host_counters SET base_packets = base_packets + packets, base_bytes = base_bytes + bytes, agent_start = ?, packets = ?, bytes = ?, updated = ? WHERE ` + counterKeyWhere
)

func reportQueries() []string {
	return []string{upsertHostStatusQuery, counterQuery, insertCounterQuery, updateCounterQuery, restartCounterQuery, rememberSignatureQuery, signatureQuery}
}

// storedHostError is a host error as the errors column holds it.
type storedHostError struct {
	InstanceID string `json:"ins,omitempty"`
	Message    string `json:"msg"`
}

func (t *tx) SetHostStatus(ctx context.Context, s store.HostStatus) error {
	errs := make([]storedHostError, len(s.Errors))
	for i, e := range s.Errors {
		errs[i] = storedHostError{InstanceID: e.InstanceID, Message: e.Message}
	}
	b, err := json.Marshal(errs)
	if err != nil {
		return fmt.Errorf("status of host %s: %w", s.HostID, err)
	}
	if _, err := t.report(ctx, upsertHostStatusQuery,
		s.HostID, s.AppliedRevision, toMicros(s.AgentStart), toMicros(s.Reported), string(b)); err != nil {
		return fmt.Errorf("status of host %s: %w", s.HostID, err)
	}
	return nil
}

const hostStatusColumns = `host_id, applied_revision, agent_start, reported, errors`

func (t *tx) GetHostStatus(ctx context.Context, hostID string) (store.HostStatus, error) {
	list, err := t.ListHostStatus(ctx, []string{hostID})
	if err != nil {
		return store.HostStatus{}, err
	}
	if len(list) == 0 {
		return store.HostStatus{}, fmt.Errorf("status of host %s: %w", hostID, store.ErrNotFound)
	}
	return list[0], nil
}

func (t *tx) ListHostStatus(ctx context.Context, hostIDs []string) ([]store.HostStatus, error) {
	if len(hostIDs) == 0 {
		return nil, nil
	}
	rows, err := t.query(ctx, `SELECT `+hostStatusColumns+` FROM host_status WHERE host_id IN `+placeholders(len(hostIDs)), anys(hostIDs)...)
	if err != nil {
		return nil, fmt.Errorf("status of hosts: %w", err)
	}
	defer rows.Close()
	byID := map[string]store.HostStatus{}
	for rows.Next() {
		var s store.HostStatus
		var start, reported int64
		var errs string
		if err := rows.Scan(&s.HostID, &s.AppliedRevision, &start, &reported, &errs); err != nil {
			return nil, fmt.Errorf("status of hosts: %w", err)
		}
		var stored []storedHostError
		if err := json.Unmarshal([]byte(errs), &stored); err != nil {
			return nil, fmt.Errorf("status of host %s: errors %q: %w", s.HostID, errs, err)
		}
		for _, e := range stored {
			s.Errors = append(s.Errors, store.HostError{InstanceID: e.InstanceID, Message: e.Message})
		}
		s.AgentStart, s.Reported = fromMicros(start), fromMicros(reported)
		byID[s.HostID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("status of hosts: %w", err)
	}
	out := make([]store.HostStatus, 0, len(byID))
	for _, id := range hostIDs {
		if s, ok := byID[id]; ok {
			out = append(out, s)
			delete(byID, id)
		}
	}
	return out, nil
}

const counterKeyWhere = `host_id = ? AND instance_id = ? AND direction = ? AND group_id = ? AND platform = ? AND policy_index = ?`

func counterKeyArgs(k store.CounterKey) []any {
	return []any{k.HostID, k.InstanceID, k.Direction.String(), k.GroupID, k.Platform, k.PolicyIndex}
}

func (t *tx) AddHostCounters(ctx context.Context, hostID string, agentStart, at time.Time, counters []store.HostCounter) error {
	start, now := toMicros(agentStart), toMicros(at)
	for _, c := range counters {
		c.HostID = hostID
		if !c.Direction.Valid() {
			return fmt.Errorf("counter of host %s instance %s: invalid direction %d", hostID, c.InstanceID, c.Direction)
		}
		key := counterKeyArgs(c.CounterKey)
		var runStart, packets, bytes int64
		err := t.row(ctx, counterQuery, key...).Scan(&runStart, &packets, &bytes)
		switch {
		case err == sql.ErrNoRows:
			_, err = t.report(ctx, insertCounterQuery,
				append(key, start, c.Packets, c.Bytes, now, now)...)
		case err != nil:
		case start < runStart:
			// A late report of an earlier run: its values are in the
			// base already, or lost with it.
			continue
		case start == runStart && c.Packets >= packets && c.Bytes >= bytes:
			_, err = t.report(ctx, updateCounterQuery,
				append([]any{c.Packets, c.Bytes, now}, key...)...)
		default:
			// A new run, or the counters of this one started again:
			// the values counted so far join the base.
			_, err = t.report(ctx, restartCounterQuery,
				append([]any{start, c.Packets, c.Bytes, now}, key...)...)
		}
		if err != nil {
			return fmt.Errorf("counter of host %s instance %s %v %s%s %d: %w", hostID, c.InstanceID, c.Direction, c.GroupID, c.Platform, c.PolicyIndex, err)
		}
	}
	return nil
}

func (t *tx) GroupCounters(ctx context.Context, groupID string) ([]store.CounterTotal, error) {
	rows, err := t.query(ctx, `SELECT host_id, instance_id, direction, group_id, platform, policy_index, base_packets + packets, base_bytes + bytes, first_seen, updated
		FROM host_counters WHERE group_id = ? ORDER BY host_id, instance_id, direction, policy_index`, groupID)
	if err != nil {
		return nil, fmt.Errorf("counters of group %s: %w", groupID, err)
	}
	defer rows.Close()
	var out []store.CounterTotal
	for rows.Next() {
		var c store.CounterTotal
		var dir string
		var since, updated int64
		if err := rows.Scan(&c.HostID, &c.InstanceID, &dir, &c.GroupID, &c.Platform, &c.PolicyIndex, &c.Packets, &c.Bytes, &since, &updated); err != nil {
			return nil, fmt.Errorf("counters of group %s: %w", groupID, err)
		}
		if c.Direction, err = policy.ParseDirection(dir); err != nil {
			return nil, fmt.Errorf("counters of group %s: stored direction %q: %w", groupID, dir, err)
		}
		c.Since, c.Updated = fromMicros(since), fromMicros(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}
