package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
)

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
	return 0, fieldError("UpdateType", s, policy.Malformed, "must be Policy, Priority or Both")
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

// ReplacePoliciesInput is ReplaceSecurityGroupPolicies' request. Original
// (OriginalSecurityGroupPolicySet) is informative for UpdatePolicy and
// required for the other update types: its i-th policy is the one moved to
// the i-th PolicyIndex of Set.
type ReplacePoliciesInput struct {
	PoliciesInput
	Original   *PolicySetInput
	UpdateType UpdateType
}

const originalField = "OriginalSecurityGroupPolicySet"

// reorder moves policies of one direction: Original's i-th PolicyIndex
// names a policy, which ends at Set's i-th PolicyIndex. Every other policy
// keeps its order and fills, in that order, the positions no moved policy
// takes: a single move is a removal and an insertion, a move among the
// positions the moved policies held leaves the others in place. With
// UpdatePriority the policies keep their content (a content given in Set
// must be theirs); with UpdateBoth each moved policy takes Set's i-th
// content. An Original content given must be that of the policy it names.
func (s *Service) reorder(ctx context.Context, c Caller, in ReplacePoliciesInput) (WriteResult, error) {
	if in.Original == nil {
		return WriteResult{}, fieldError(originalField, "", policy.Missing, "is required when UpdateType is %s: it names the policies to move", in.UpdateType)
	}
	d, targets, version, err := oneDirection(in.Set)
	if err != nil {
		return WriteResult{}, err
	}
	od, sources, _, err := oneDirection(*in.Original)
	if err != nil {
		return WriteResult{}, relabelSet(err)
	}
	if od != d {
		return WriteResult{}, fieldError(originalField+"."+od.Field(), "", policy.Malformed, "names %s policies but SecurityGroupPolicySet names %s ones", od.Field(), d.Field())
	}
	if len(sources) != len(targets) {
		return WriteResult{}, fieldError(originalField+"."+d.Field(), strconv.Itoa(len(sources)), policy.Malformed,
			"has %d policies; SecurityGroupPolicySet.%s has %d and each names where one of them goes", len(sources), d.Field(), len(targets))
	}
	from, err := distinctIndexes(originalField+"."+d.Field(), sources)
	if err != nil {
		return WriteResult{}, err
	}
	to, err := distinctIndexes(dirField(d), targets)
	if err != nil {
		return WriteResult{}, err
	}
	// Contents given in Set (all of them for UpdateBoth) and in Original.
	var contents []policy.Policy
	if in.UpdateType == UpdateBoth {
		if contents, err = s.parseInputs(ctx, c, d, targets); err != nil {
			return WriteResult{}, err
		}
	}
	given := make([]*policy.Policy, len(targets))
	claimed := make([]*policy.Policy, len(sources))
	for i := range targets {
		if in.UpdateType == UpdatePriority && !rawEmpty(targets[i].Raw) {
			p, err := policy.ParseRaw(targets[i].Raw)
			if err != nil {
				return WriteResult{}, kernel.Relabel(fmt.Sprintf("%s.%d", dirField(d), i), err)
			}
			given[i] = &p
		}
		if !rawEmpty(sources[i].Raw) {
			p, err := policy.ParseRaw(sources[i].Raw)
			if err != nil {
				return WriteResult{}, kernel.Relabel(fmt.Sprintf("%s.%s.%d", originalField, d.Field(), i), err)
			}
			claimed[i] = &p
		}
	}
	return s.writePolicies(ctx, c, in.SecurityGroupID, "ReplaceSecurityGroupPolicies", version, func(set *policy.PolicySet) ([]written, error) {
		list := set.List(d)
		n := len(list)
		moving := make([]bool, n)
		for i := range from {
			if from[i] >= n {
				return nil, fieldError(fmt.Sprintf("%s.%s.%d.PolicyIndex", originalField, d.Field(), i), strconv.Itoa(from[i]), policy.OutOfRange, "there are %d %s policies", n, d.Field())
			}
			if to[i] >= n {
				return nil, fieldError(indexField(d, i), strconv.Itoa(to[i]), policy.OutOfRange, "there are %d %s policies", n, d.Field())
			}
			p := list[from[i]]
			if q := claimed[i]; q != nil && !sameContent(p, *q) {
				return nil, fieldError(fmt.Sprintf("%s.%s.%d", originalField, d.Field(), i), q.Describe(d), policy.Malformed,
					"is not the %s policy at index %d, which is %s", d.Field(), from[i], p.Describe(d))
			}
			if q := given[i]; q != nil && !sameContent(p, *q) {
				return nil, &Error{Kind: KindUnsupported, Resource: ResourceSecurityGroup, ID: in.SecurityGroupID, Field: fmt.Sprintf("%s.%d", dirField(d), i),
					Message: fmt.Sprintf("UpdateType Priority changes only the order, but %s.%d (%s) differs from the policy it moves (%s): use UpdateType Both to change both",
						dirField(d), i, q.Describe(d), p.Describe(d))}
			}
			moving[from[i]] = true
		}
		out := make([]policy.Policy, n)
		taken := make([]bool, n)
		var ws []written
		for i := range from {
			p := list[from[i]]
			if in.UpdateType == UpdateBoth {
				p = contents[i]
				ws = append(ws, written{d, to[i]})
			}
			out[to[i]], taken[to[i]] = p, true
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
		set.SetList(d, out)
		return ws, nil
	})
}

// distinctIndexes returns the PolicyIndex of each input, each required,
// non-negative and given once.
func distinctIndexes(field string, inputs []PolicyInput) ([]int, error) {
	out := make([]int, len(inputs))
	seen := map[int]bool{}
	for i, pi := range inputs {
		f := fmt.Sprintf("%s.%d.PolicyIndex", field, i)
		switch {
		case pi.Index == nil:
			return nil, fieldError(f, "", policy.Missing, "is required: it names a policy's position")
		case *pi.Index < 0:
			return nil, fieldError(f, strconv.Itoa(*pi.Index), policy.OutOfRange, "must not be negative")
		case seen[*pi.Index]:
			return nil, fieldError(f, strconv.Itoa(*pi.Index), policy.Malformed, "names the same position twice")
		}
		seen[*pi.Index] = true
		out[i] = *pi.Index
	}
	return out, nil
}

// sameContent reports whether two policies are the same rule with the same
// description.
func sameContent(p, q policy.Policy) bool { return p.SameRule(q) && p.Description == q.Description }

// relabelSet renames the fields of an error about a SecurityGroupPolicySet
// to OriginalSecurityGroupPolicySet.
func relabelSet(err error) error {
	fes := policy.FieldErrors(err)
	if len(fes) == 0 {
		return err
	}
	for _, fe := range fes {
		if rest, ok := strings.CutPrefix(fe.Field, setField); ok {
			fe.Field = originalField + rest
		}
	}
	return err
}
