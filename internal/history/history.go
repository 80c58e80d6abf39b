// Package history encodes the history of a security group's policy set:
// the diff a write records, the snapshots recorded every few versions, and
// the rebuilding of any retained version from those rows. It is pure: the
// service writes and reads the rows in its transactions.
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// SnapshotEvery is how often, in versions, a history row also carries the
// whole policy set (more often when the retention is shorter). Between
// snapshots a row holds only its diff, so a row costs about the size of the
// policies it changed; rebuilding a version applies at most SnapshotEvery-1
// diffs to a snapshot.
const SnapshotEvery = 100

// Operations of a Change.
const (
	OpInsert  = "insert"
	OpRemove  = "remove"
	OpReplace = "replace"
)

// Policy is a policy as history records it: its text fields and
// modify time.
type Policy struct {
	policy.Raw
	ModifyTime string `json:",omitempty"` // RFC 3339; absent in rows written before diffs
	Disabled   bool   `json:",omitempty"`
	ExpiresAt  string `json:",omitempty"` // RFC 3339; absent when the policy does not expire
}

// Change is one step of a diff, applied in order: at Index of
// Direction's list (as the earlier steps left it), insert Policy, remove Old
// or replace Old by Policy.
type Change struct {
	Direction policy.Direction
	Op        string
	Index     int
	Policy    *Policy `json:",omitempty"`
	Old       *Policy `json:",omitempty"`
}

// Diff is the Detail of a write to a policy set.
type Diff struct {
	Changes []Change
	// RestoredFrom is the version a RestoreSecurityGroupVersion re-applied;
	// zero on other writes.
	RestoredFrom uint64 `json:",omitempty"`
}

// snapshot is a whole policy set as history records it (the shape of
// Set, which rows written before diffs carry).
type snapshot struct {
	Version string
	Ingress []Policy
	Egress  []Policy
}

func toPolicy(p policy.Policy) Policy {
	hp := Policy{Raw: p.Raw()}
	if !p.ModifyTime.IsZero() {
		// The store keeps times to the microsecond: so does history, so
		// that a rebuilt version equals the stored one.
		hp.ModifyTime = p.ModifyTime.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	}
	hp.Disabled = p.Disabled
	if !p.ExpiresAt.IsZero() {
		hp.ExpiresAt = p.ExpiresAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	}
	return hp
}

func (hp Policy) policy() (policy.Policy, error) {
	p, err := policy.ParseRaw(hp.Raw)
	if err != nil {
		return policy.Policy{}, err
	}
	if hp.ModifyTime != "" {
		if p.ModifyTime, err = time.Parse(time.RFC3339Nano, hp.ModifyTime); err != nil {
			return policy.Policy{}, fmt.Errorf("ModifyTime: %w", err)
		}
	}
	p.Disabled = hp.Disabled
	if hp.ExpiresAt != "" {
		if p.ExpiresAt, err = time.Parse(time.RFC3339Nano, hp.ExpiresAt); err != nil {
			return policy.Policy{}, fmt.Errorf("ExpiresAt: %w", err)
		}
	}
	return p, nil
}

// samePolicy reports whether a and b are equal as stored: text, modify
// time, disabled flag and expiry.
func samePolicy(a, b policy.Policy) bool {
	return a.Raw() == b.Raw() && a.ModifyTime.Equal(b.ModifyTime) && a.Disabled == b.Disabled && a.ExpiresAt.Equal(b.ExpiresAt)
}

// Snapshot returns the JSON snapshot of s.
func Snapshot(s policy.PolicySet) (string, error) {
	out := snapshot{Version: strconv.FormatUint(s.Version, 10), Ingress: []Policy{}, Egress: []Policy{}}
	for _, p := range s.Ingress {
		out.Ingress = append(out.Ingress, toPolicy(p))
	}
	for _, p := range s.Egress {
		out.Egress = append(out.Egress, toPolicy(p))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	return string(b), nil
}

func parseSnapshot(s string) (policy.PolicySet, error) {
	var in snapshot
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return policy.PolicySet{}, fmt.Errorf("snapshot: %w", err)
	}
	v, err := strconv.ParseUint(in.Version, 10, 64)
	if err != nil {
		return policy.PolicySet{}, fmt.Errorf("snapshot: Version %q: %w", in.Version, err)
	}
	out := policy.PolicySet{Version: v}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		list := in.Ingress
		if d == policy.Egress {
			list = in.Egress
		}
		var ps []policy.Policy
		for i, hp := range list {
			p, err := hp.policy()
			if err != nil {
				return policy.PolicySet{}, fmt.Errorf("snapshot: %s policy %d: %w", d, i, err)
			}
			ps = append(ps, p)
		}
		out.SetList(d, ps)
	}
	return out, nil
}

// Changes returns the changes that turn before into after, direction by
// direction: the policies between the longest common head and tail are
// replaced one for one, and those left over inserted or removed. A write of
// one policy is one change.
func Changes(before, after policy.PolicySet) []Change {
	out := []Change{}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		b, a := before.List(d), after.List(d)
		head := 0
		for head < len(b) && head < len(a) && samePolicy(b[head], a[head]) {
			head++
		}
		tail := 0
		for tail < len(b)-head && tail < len(a)-head && samePolicy(b[len(b)-1-tail], a[len(a)-1-tail]) {
			tail++
		}
		mb, ma := b[head:len(b)-tail], a[head:len(a)-tail]
		n := min(len(mb), len(ma))
		for i := range n {
			if samePolicy(mb[i], ma[i]) {
				continue
			}
			old, p := toPolicy(mb[i]), toPolicy(ma[i])
			out = append(out, Change{Direction: d, Op: OpReplace, Index: head + i, Policy: &p, Old: &old})
		}
		for i := n; i < len(ma); i++ {
			p := toPolicy(ma[i])
			out = append(out, Change{Direction: d, Op: OpInsert, Index: head + i, Policy: &p})
		}
		for i := n; i < len(mb); i++ {
			old := toPolicy(mb[i])
			out = append(out, Change{Direction: d, Op: OpRemove, Index: head + n, Old: &old})
		}
	}
	return out
}

// Apply applies a diff to set. A change that does not fit set (an
// index out of range, a removed or replaced policy that is not the one at
// that index) is an error: the history does not describe set.
func Apply(set *policy.PolicySet, changes []Change) error {
	for i, ch := range changes {
		if !ch.Direction.Valid() {
			return fmt.Errorf("change %d: no direction", i)
		}
		list := set.List(ch.Direction)
		parse := func(hp *Policy, what string) (policy.Policy, error) {
			if hp == nil {
				return policy.Policy{}, fmt.Errorf("change %d (%s): no %s policy", i, ch.Op, what)
			}
			p, err := hp.policy()
			if err != nil {
				return policy.Policy{}, fmt.Errorf("change %d (%s): %s policy: %w", i, ch.Op, what, err)
			}
			return p, nil
		}
		checkOld := func() error {
			if ch.Index < 0 || ch.Index >= len(list) {
				return fmt.Errorf("change %d (%s): %s index %d out of range [0, %d)", i, ch.Op, ch.Direction, ch.Index, len(list))
			}
			old, err := parse(ch.Old, "old")
			if err != nil {
				return err
			}
			if !samePolicy(old, list[ch.Index]) {
				return fmt.Errorf("change %d (%s): %s policy %d is not the one recorded", i, ch.Op, ch.Direction, ch.Index)
			}
			return nil
		}
		switch ch.Op {
		case OpInsert:
			if ch.Index < 0 || ch.Index > len(list) {
				return fmt.Errorf("change %d (insert): %s index %d out of range [0, %d]", i, ch.Direction, ch.Index, len(list))
			}
			p, err := parse(ch.Policy, "new")
			if err != nil {
				return err
			}
			list = append(list[:ch.Index:ch.Index], append([]policy.Policy{p}, list[ch.Index:]...)...)
		case OpRemove:
			if err := checkOld(); err != nil {
				return err
			}
			list = append(list[:ch.Index:ch.Index], list[ch.Index+1:]...)
		case OpReplace:
			if err := checkOld(); err != nil {
				return err
			}
			p, err := parse(ch.Policy, "new")
			if err != nil {
				return err
			}
			list = append(list[:ch.Index:ch.Index], append([]policy.Policy{p}, list[ch.Index+1:]...)...)
		default:
			return fmt.Errorf("change %d: unknown operation %q", i, ch.Op)
		}
		if len(list) == 0 {
			list = nil
		}
		set.SetList(ch.Direction, list)
	}
	return nil
}

// ErrVersionNotRetained: the history holds no snapshot at or before the
// version asked for.
var ErrVersionNotRetained = errors.New("version not retained")

// Rebuild returns the policy set of a group at version from its
// history rows (ListHistory's, in order): the newest snapshot at or before
// version, with the diffs of the later versions up to version applied.
// Rows that do not change the policy set (attribute changes, deletion) are
// passed over. A version older than the oldest snapshot, or newer than the
// newest row, is an error, and so is a row that cannot be read or does not
// follow from the one before: history that cannot be rebuilt exactly is
// never rebuilt approximately.
func Rebuild(rows []store.History, version uint64) (policy.PolicySet, error) {
	base := -1
	for i, h := range rows {
		if h.Snapshot != "" && h.Version <= version {
			base = i
		}
	}
	if base < 0 {
		return policy.PolicySet{}, fmt.Errorf("version %d: %w (no snapshot at or before it)", version, ErrVersionNotRetained)
	}
	set, err := parseSnapshot(rows[base].Snapshot)
	if err != nil {
		return policy.PolicySet{}, fmt.Errorf("history row %d (version %d): %w", rows[base].Seq, rows[base].Version, err)
	}
	if set.Version != rows[base].Version {
		return policy.PolicySet{}, fmt.Errorf("history row %d: snapshot of version %d on a row of version %d", rows[base].Seq, set.Version, rows[base].Version)
	}
	for _, h := range rows[base+1:] {
		if h.Version > version {
			break
		}
		var detail map[string]json.RawMessage
		if err := json.Unmarshal([]byte(h.Detail), &detail); err != nil {
			return policy.PolicySet{}, fmt.Errorf("history row %d (version %d): detail: %w", h.Seq, h.Version, err)
		}
		raw, ok := detail["Changes"]
		if !ok {
			if h.Version != set.Version {
				return policy.PolicySet{}, fmt.Errorf("history row %d: version %d follows %d without a diff", h.Seq, h.Version, set.Version)
			}
			continue
		}
		if h.Version != set.Version+1 {
			return policy.PolicySet{}, fmt.Errorf("history row %d: version %d follows %d", h.Seq, h.Version, set.Version)
		}
		var changes []Change
		if err := json.Unmarshal(raw, &changes); err != nil {
			return policy.PolicySet{}, fmt.Errorf("history row %d (version %d): changes: %w", h.Seq, h.Version, err)
		}
		if err := Apply(&set, changes); err != nil {
			return policy.PolicySet{}, fmt.Errorf("history row %d (version %d): %w", h.Seq, h.Version, err)
		}
		set.Version = h.Version
	}
	if set.Version != version {
		return policy.PolicySet{}, fmt.Errorf("version %d: %w (the newest is %d)", version, ErrVersionNotRetained, set.Version)
	}
	return set, nil
}

// Set is a whole policy set as the Before and After of a history row's
// Detail carry it (and as snapshots were written before diffs): the
// Version and the text fields of each direction's policies.
type Set struct {
	Version string
	Ingress []policy.Raw
	Egress  []policy.Raw
}

// SetOf returns s as a Set.
func SetOf(s policy.PolicySet) Set {
	out := Set{Version: strconv.FormatUint(s.Version, 10), Ingress: []policy.Raw{}, Egress: []policy.Raw{}}
	for _, p := range s.Ingress {
		out.Ingress = append(out.Ingress, p.Raw())
	}
	for _, p := range s.Egress {
		out.Egress = append(out.Egress, p.Raw())
	}
	return out
}
