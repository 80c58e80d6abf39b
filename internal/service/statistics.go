package service

import (
	"context"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// PolicyStatistics is the hit count of one policy of a group: packets and
// bytes counted by every host's agent, summed, over the window from Since
// (the first report counted) to Until (the last); zero times when no host
// counted it.
type PolicyStatistics struct {
	Direction      policy.Direction
	PolicyIndex    int
	Packets, Bytes int64
	Hosts          int // hosts that counted it
	Since, Until   time.Time
}

// DescribeSecurityGroupPolicyStatistics returns the hit counts of every
// policy of one of the caller's groups, ingress then egress, in index
// order: the counters the hosts' agents reported (ReportHostStatus) for
// that direction and index, summed over hosts, instances and the agents'
// runs.
func (s *Service) DescribeSecurityGroupPolicyStatistics(ctx context.Context, c Caller, id string) ([]PolicyStatistics, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, err
	}
	var g store.Group
	var counters []store.CounterTotal
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		if g, err = s.loadGroup(ctx, tx, c, "SecurityGroupId", id); err != nil {
			return err
		}
		counters, err = tx.GroupCounters(ctx, id)
		return err
	})
	if err != nil {
		return nil, fromStore(err)
	}
	type key struct {
		d policy.Direction
		i int
	}
	type sum struct {
		stat  PolicyStatistics
		hosts map[string]bool
	}
	sums := map[key]*sum{}
	for _, ct := range counters {
		k := key{ct.Direction, ct.PolicyIndex}
		sm := sums[k]
		if sm == nil {
			sm = &sum{hosts: map[string]bool{}}
			sums[k] = sm
		}
		st := &sm.stat
		st.Packets += ct.Packets
		st.Bytes += ct.Bytes
		sm.hosts[ct.HostID] = true
		if st.Since.IsZero() || ct.Since.Before(st.Since) {
			st.Since = ct.Since
		}
		if ct.Updated.After(st.Until) {
			st.Until = ct.Updated
		}
	}
	var out []PolicyStatistics
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		for i := range g.Policies.List(d) {
			st := PolicyStatistics{Direction: d, PolicyIndex: i}
			if sm := sums[key{d, i}]; sm != nil {
				st = sm.stat
				st.Direction, st.PolicyIndex, st.Hosts = d, i, len(sm.hosts)
			}
			out = append(out, st)
		}
	}
	return out, nil
}
