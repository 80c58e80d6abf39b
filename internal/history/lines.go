package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// Kinds of a Line.
const (
	LineAdded   = "+" // a policy added, or a group created with it
	LineRemoved = "-" // a policy removed, or a group deleted with it
	LineChanged = "~" // an attribute of the group changed
)

// Line is one line of the readable diff of a history row. Policy lines read
// "+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh" (the policy in the compact
// form policy.ParsePolicy reads, at its index as the earlier lines of the
// row leave the list); a replaced policy is its "-" line then its "+" line.
// A disabled policy's line ends " [disabled]", an expiring one's
// " [expires 2026-03-01T10:00:00Z]". Attribute lines read
// `~ Name: "web" -> "web-2"` (values as JSON).
type Line struct {
	Kind string
	Text string
}

// String returns the line as the diff prints it: its kind, a space and
// its text.
func (l Line) String() string { return l.Kind + " " + l.Text }

// Lines returns the readable diff of a history row, from its Detail: the
// policy changes of a write (or the whole policy set of a creation or a
// deletion) and the attributes changed. A Detail that cannot be read is an
// error naming the row.
func Lines(h store.History) ([]Line, error) {
	out, err := lines(h.Detail)
	if err != nil {
		return nil, fmt.Errorf("history row %d (version %d): %w", h.Seq, h.Version, err)
	}
	return out, nil
}

func lines(detail string) ([]Line, error) {
	var d map[string]json.RawMessage
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return nil, fmt.Errorf("detail: %w", err)
	}
	out := []Line{}
	if raw, ok := d["Changes"]; ok {
		var changes []Change
		if err := json.Unmarshal(raw, &changes); err != nil {
			return nil, fmt.Errorf("changes: %w", err)
		}
		for i, ch := range changes {
			ls, err := changeLines(ch)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i, err)
			}
			out = append(out, ls...)
		}
		return out, nil
	}
	before, beforeSet, err := setOrAttrs(d["Before"])
	if err != nil {
		return nil, fmt.Errorf("Before: %w", err)
	}
	after, afterSet, err := setOrAttrs(d["After"])
	if err != nil {
		return nil, fmt.Errorf("After: %w", err)
	}
	switch {
	case beforeSet != nil && afterSet != nil:
		for i, ch := range Changes(*beforeSet, *afterSet) {
			ls, err := changeLines(ch)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i, err)
			}
			out = append(out, ls...)
		}
	case afterSet != nil:
		out = append(out, setLines(LineAdded, *afterSet)...)
	case beforeSet != nil:
		out = append(out, setLines(LineRemoved, *beforeSet)...)
	}
	for _, k := range slices.Sorted(maps.Keys(mapsUnion(before, after))) {
		b, a := before[k], after[k]
		if bytes.Equal(compact(b), compact(a)) {
			continue
		}
		out = append(out, Line{Kind: LineChanged, Text: fmt.Sprintf("%s: %s -> %s", k, orNull(b), orNull(a))})
	}
	return out, nil
}

// setOrAttrs reads the Before or After of a Detail: a policy set (it has
// Ingress or Egress) or a map of attributes.
func setOrAttrs(raw json.RawMessage) (map[string]json.RawMessage, *policy.PolicySet, error) {
	if len(raw) == 0 {
		return nil, nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, err
	}
	_, in := m["Ingress"]
	_, eg := m["Egress"]
	if !in && !eg {
		return m, nil, nil
	}
	var s Set
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, err
	}
	set := policy.PolicySet{}
	if s.Version != "" {
		v, err := strconv.ParseUint(s.Version, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("Version %q: %w", s.Version, err)
		}
		set.Version = v
	}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		list := s.Ingress
		if d == policy.Egress {
			list = s.Egress
		}
		var ps []policy.Policy
		for i, r := range list {
			p, err := policy.ParseRaw(r)
			if err != nil {
				return nil, nil, fmt.Errorf("%s policy %d: %w", d.Field(), i, err)
			}
			ps = append(ps, p)
		}
		set.SetList(d, ps)
	}
	return nil, &set, nil
}

func setLines(kind string, s policy.PolicySet) []Line {
	var out []Line
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		for i, p := range s.List(d) {
			out = append(out, policyLine(kind, d, i, p))
		}
	}
	return out
}

func changeLines(ch Change) ([]Line, error) {
	if !ch.Direction.Valid() {
		return nil, fmt.Errorf("no direction")
	}
	read := func(hp *Policy, what string) (policy.Policy, error) {
		if hp == nil {
			return policy.Policy{}, fmt.Errorf("%s: no %s policy", ch.Op, what)
		}
		p, err := hp.policy()
		if err != nil {
			return policy.Policy{}, fmt.Errorf("%s: %s policy: %w", ch.Op, what, err)
		}
		return p, nil
	}
	var out []Line
	if ch.Op == OpRemove || ch.Op == OpReplace {
		old, err := read(ch.Old, "old")
		if err != nil {
			return nil, err
		}
		out = append(out, policyLine(LineRemoved, ch.Direction, ch.Index, old))
	}
	if ch.Op == OpInsert || ch.Op == OpReplace {
		p, err := read(ch.Policy, "new")
		if err != nil {
			return nil, err
		}
		out = append(out, policyLine(LineAdded, ch.Direction, ch.Index, p))
	}
	if out == nil {
		return nil, fmt.Errorf("unknown operation %q", ch.Op)
	}
	return out, nil
}

func policyLine(kind string, d policy.Direction, i int, p policy.Policy) Line {
	text := fmt.Sprintf("%s %d: %s", d.Field(), i, p)
	if p.Disabled {
		text += " [disabled]"
	}
	if !p.ExpiresAt.IsZero() {
		text += " [expires " + p.ExpiresAt.UTC().Format(time.RFC3339) + "]"
	}
	return Line{Kind: kind, Text: text}
}

func mapsUnion(a, b map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if len(raw) == 0 || json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func orNull(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	return string(compact(raw))
}
