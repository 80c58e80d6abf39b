// Package policyset holds the pure operations of the service's writes and
// reads of one direction of a group's policy set: insertion at an index,
// replacement and deletion by index or by content, the reordering of
// ReplaceSecurityGroupPolicies (UpdateType), and the filters of
// DescribeSecurityGroupPolicies. Edits return a typed *Error about the
// request's policy concerned; the service names its fields and chooses its
// kind. It does no I/O.
package policyset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
)

// ErrorKind says why an edit does not fit the list.
type ErrorKind uint8

// The kinds of edit error.
const (
	// OutOfRange: Index is not a position of the list (Len policies).
	OutOfRange ErrorKind = iota + 1
	// PastEnd: an insertion position beyond the list's end (Len).
	PastEnd
	// NoMatch: no policy of the list has the content Want.
	NoMatch
	// NotTheOne: the content Want, given for the policy at Index, is not
	// that policy's (Have).
	NotTheOne
	// Changed: a reorder that keeps contents was given the content Want
	// for the policy at Index, which differs from it (Have).
	Changed
)

// Error is an edit that does not fit the list, about the Input-th policy of
// the request: of the policies that name the moved ones when Original is
// set (a reorder's OriginalSecurityGroupPolicySet), else of the set given.
type Error struct {
	Kind     ErrorKind
	Original bool
	Input    int
	Index    int // the PolicyIndex concerned
	Len      int // the list's length
	Want     policy.Policy
	Have     policy.Policy
}

func (e *Error) Error() string {
	switch e.Kind {
	case OutOfRange:
		return fmt.Sprintf("policy %d: index %d out of range [0, %d)", e.Input, e.Index, e.Len)
	case PastEnd:
		return fmt.Sprintf("policy %d: index %d is beyond the %d policies", e.Input, e.Index, e.Len)
	case NoMatch:
		return fmt.Sprintf("policy %d: no policy with its content", e.Input)
	case NotTheOne:
		return fmt.Sprintf("policy %d: not the policy at index %d", e.Input, e.Index)
	case Changed:
		return fmt.Sprintf("policy %d: differs from the policy at index %d it moves", e.Input, e.Index)
	}
	return fmt.Sprintf("policy %d: edit error %d", e.Input, e.Kind)
}

// Insert returns list with pols inserted at *at (appended when at is nil)
// and the position of the first.
func Insert(list []policy.Policy, at *int, pols []policy.Policy) ([]policy.Policy, int, error) {
	pos := len(list)
	if at != nil {
		if *at > len(list) {
			return nil, 0, &Error{Kind: PastEnd, Index: *at, Len: len(list)}
		}
		pos = *at
	}
	return slices.Concat(list[:pos], pols, list[pos:]), pos, nil
}

// ReplaceAt returns a copy of list with the policy at indexes[i] replaced by
// pols[i].
func ReplaceAt(list []policy.Policy, indexes []int, pols []policy.Policy) ([]policy.Policy, error) {
	out := slices.Clone(list)
	for i, at := range indexes {
		if at < 0 || at >= len(out) {
			return nil, &Error{Kind: OutOfRange, Input: i, Index: at, Len: len(out)}
		}
		out[at] = pols[i]
	}
	return out, nil
}

// DeleteAt returns list without the policies at indexes.
func DeleteAt(list []policy.Policy, indexes []int) ([]policy.Policy, error) {
	drop := make(map[int]bool, len(indexes))
	for i, at := range indexes {
		if at < 0 || at >= len(list) {
			return nil, &Error{Kind: OutOfRange, Input: i, Index: at, Len: len(list)}
		}
		drop[at] = true
	}
	return without(list, drop), nil
}

// DeleteContent returns list without one policy for each of content: the
// first not yet deleted with its rule, preferring one whose description is
// also its own (two policies may differ only in their description).
func DeleteContent(list []policy.Policy, content []policy.Policy) ([]policy.Policy, error) {
	drop := make(map[int]bool, len(content))
	for i, want := range content {
		j := matchContent(list, drop, want)
		if j < 0 {
			return nil, &Error{Kind: NoMatch, Input: i, Len: len(list), Want: want}
		}
		drop[j] = true
	}
	return without(list, drop), nil
}

func without(list []policy.Policy, drop map[int]bool) []policy.Policy {
	kept := make([]policy.Policy, 0, len(list))
	for j, p := range list {
		if !drop[j] {
			kept = append(kept, p)
		}
	}
	return kept
}

// matchContent returns the index of the first policy of list, not yet
// dropped, with want's rule, preferring one whose description is also
// want's (two policies may differ only in their description); -1 if none.
func matchContent(list []policy.Policy, drop map[int]bool, want policy.Policy) int {
	first := -1
	for j, p := range list {
		if drop[j] || !p.SameRule(want) {
			continue
		}
		if p.Description == want.Description {
			return j
		}
		if first < 0 {
			first = j
		}
	}
	return first
}

// SameContent reports whether two policies are the same rule with the same
// description.
func SameContent(p, q policy.Policy) bool { return p.SameRule(q) && p.Description == q.Description }

// UpdateType is what ReplaceSecurityGroupPolicies changes: the content of
// the policies at the indexes given (UpdatePolicy, the default), their
// positions only (UpdatePriority) or both (UpdateBoth). The zero value is
// invalid.
type UpdateType int

// Update types.
const (
	UpdatePolicy UpdateType = iota + 1
	UpdatePriority
	UpdateBoth
)

var updateTypeNames = [...]string{UpdatePolicy: "Policy", UpdatePriority: "Priority", UpdateBoth: "Both"}

// ParseUpdateType reads the wire name of an update type, in any case; ""
// is UpdatePolicy, the cloud's default.
func ParseUpdateType(s string) (UpdateType, error) {
	if s == "" {
		return UpdatePolicy, nil
	}
	for u, name := range updateTypeNames {
		if name != "" && strings.EqualFold(name, s) {
			return UpdateType(u), nil
		}
	}
	return 0, kernel.FieldError("UpdateType", s, policy.Malformed, "must be Policy, Priority or Both")
}

// String returns the wire name, or "UpdateType(n)" for an invalid value.
func (u UpdateType) String() string {
	if u > 0 && int(u) < len(updateTypeNames) {
		return updateTypeNames[u]
	}
	return "UpdateType(" + strconv.Itoa(int(u)) + ")"
}

// MarshalText returns the wire name.
func (u UpdateType) MarshalText() ([]byte, error) {
	if u <= 0 || int(u) >= len(updateTypeNames) {
		return nil, fmt.Errorf("marshal %v: not an update type", u)
	}
	return []byte(u.String()), nil
}

// Move is one policy a reorder moves: the policy at From ends at To.
type Move struct {
	From, To int
	// Claimed, when given, is the content the request names the policy at
	// From with: it must be that policy's (else NotTheOne).
	Claimed *policy.Policy
	// Kept, when given, is the content a reorder that keeps contents was
	// given for the moved policy: it must be that policy's (else Changed).
	Kept *policy.Policy
	// Content, when given, replaces the moved policy's content.
	Content *policy.Policy
}

// Reorder returns list with moves applied: the policy at each From ends at
// its To. Every other policy keeps its order and fills, in that order, the
// positions no moved policy takes: a single move is a removal and an
// insertion, a move among the positions the moved policies held leaves the
// others in place. The Froms, and the Tos, are distinct and non-negative.
// It returns also the positions that took a new Content.
func Reorder(list []policy.Policy, moves []Move) ([]policy.Policy, []int, error) {
	n := len(list)
	moving := make([]bool, n)
	for i, m := range moves {
		if m.From >= n {
			return nil, nil, &Error{Kind: OutOfRange, Original: true, Input: i, Index: m.From, Len: n}
		}
		if m.To >= n {
			return nil, nil, &Error{Kind: OutOfRange, Input: i, Index: m.To, Len: n}
		}
		p := list[m.From]
		if q := m.Claimed; q != nil && !SameContent(p, *q) {
			return nil, nil, &Error{Kind: NotTheOne, Original: true, Input: i, Index: m.From, Len: n, Want: *q, Have: p}
		}
		if q := m.Kept; q != nil && !SameContent(p, *q) {
			return nil, nil, &Error{Kind: Changed, Input: i, Index: m.From, Len: n, Want: *q, Have: p}
		}
		moving[m.From] = true
	}
	out := make([]policy.Policy, n)
	taken := make([]bool, n)
	var changed []int
	for _, m := range moves {
		p := list[m.From]
		if m.Content != nil {
			p = *m.Content
			changed = append(changed, m.To)
		}
		out[m.To], taken[m.To] = p, true
	}
	at := 0
	for j, p := range list {
		if moving[j] {
			continue
		}
		for taken[at] {
			at++
		}
		out[at], taken[at] = p, true
	}
	return out, changed, nil
}

// Filter builds the predicate of DescribeSecurityGroupPolicies'
// filters: different filters ANDed, values ORed.
func Filter(filters []kernel.Filter) (func(policy.Direction, policy.Policy) bool, error) {
	if err := kernel.CheckFilters(filters); err != nil {
		return nil, err
	}
	type pred func(policy.Direction, policy.Policy, string) bool
	var preds []func(policy.Direction, policy.Policy) bool
	for _, f := range filters {
		var p pred
		switch f.Name {
		case "security-group-id":
			p = func(_ policy.Direction, x policy.Policy, v string) bool {
				return x.Peer.Kind == policy.PeerSecurityGroup && x.Peer.ID == v
			}
		case "ip":
			p = func(_ policy.Direction, x policy.Policy, v string) bool {
				return (x.Peer.Kind == policy.PeerCIDR || x.Peer.Kind == policy.PeerCIDR6) && strings.Contains(x.Peer.String(), v)
			}
		case "address-module":
			p = func(_ policy.Direction, x policy.Policy, v string) bool {
				return (x.Peer.Kind == policy.PeerAddressTemplate || x.Peer.Kind == policy.PeerAddressTemplateGroup) && x.Peer.ID == v
			}
		case "service-module":
			p = func(_ policy.Direction, x policy.Policy, v string) bool { return x.ServiceID != "" && x.ServiceID == v }
		case "protocol-type":
			p = func(_ policy.Direction, x policy.Policy, v string) bool {
				return x.ServiceID == "" && strings.EqualFold(x.Protocol.String(), v)
			}
		case "port":
			p = func(_ policy.Direction, x policy.Policy, v string) bool {
				if x.ServiceID != "" {
					return false
				}
				if strings.EqualFold(v, "ALL") {
					return x.Ports.All()
				}
				if n, err := strconv.ParseUint(v, 10, 16); err == nil && !x.Ports.All() && x.Ports.Contains(uint16(n)) {
					return true
				}
				return strings.Contains(x.Ports.String(), v)
			}
		case "poly":
			p = func(_ policy.Direction, x policy.Policy, v string) bool {
				return strings.EqualFold(v, "ALL") || strings.EqualFold(x.Action.String(), v)
			}
		case "direction":
			p = func(d policy.Direction, _ policy.Policy, v string) bool {
				switch strings.ToUpper(v) {
				case "ALL":
					return true
				case "INBOUND", "INGRESS":
					return d == policy.Ingress
				case "OUTBOUND", "EGRESS":
					return d == policy.Egress
				}
				return false
			}
		case "description":
			p = func(_ policy.Direction, x policy.Policy, v string) bool { return strings.Contains(x.Description, v) }
		default:
			return nil, kernel.FieldError("Filters.Name", f.Name, policy.Malformed, "is not a filter of DescribeSecurityGroupPolicies")
		}
		values := f.Values
		preds = append(preds, func(d policy.Direction, x policy.Policy) bool {
			for _, v := range values {
				if p(d, x, v) {
					return true
				}
			}
			return false
		})
	}
	return func(d policy.Direction, x policy.Policy) bool {
		for _, p := range preds {
			if !p(d, x) {
				return false
			}
		}
		return true
	}, nil
}
