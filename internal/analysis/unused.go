package analysis

import (
	"fmt"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Hits are the packets the agents counted for one policy of a group
// (summed over instances and hosts).
type Hits struct {
	Direction   policy.Direction
	PolicyIndex int
	Packets     int64
}

// Unused returns an UNUSED finding for each active policy of set that no
// agent counted a packet for, when the counters cover at least min of
// time (observed: from the later of their first report and the group's
// last policy write, up to their last report). Policies are counted by
// index, so counts from before the last write do not count; with no
// counters, or too short a period, it says nothing: nothing is known.
func Unused(groupID string, set policy.PolicySet, hits []Hits, observed, min time.Duration, now time.Time) []Finding {
	if len(hits) == 0 || observed < min {
		return nil
	}
	type key struct {
		d policy.Direction
		i int
	}
	packets := make(map[key]int64, len(hits))
	for _, h := range hits {
		packets[key{h.Direction, h.PolicyIndex}] += h.Packets
	}
	var out []Finding
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		for i, p := range set.List(d) {
			if !p.Active(now) || packets[key{d, i}] > 0 {
				continue
			}
			out = append(out, Finding{
				Kind: KindUnused, Severity: SeverityInfo, SecurityGroupID: groupID, Direction: d, PolicyIndex: i,
				Message: fmt.Sprintf("%s policy %d (%s) matched no packet on any host over the last %s the agents counted: remove it if nothing needs it",
					d.Field(), i, p.Describe(d), observed.Round(time.Second)),
				Policies: []PolicyRef{{SecurityGroupID: groupID, PolicyIndex: i, Action: p.Action}},
			})
		}
	}
	return out
}
