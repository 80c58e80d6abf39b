package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/service/policyset"
)

// UpdateType is what ReplaceSecurityGroupPolicies changes (see
// policyset.UpdateType).
type UpdateType = policyset.UpdateType

// Update types.
const (
	UpdatePolicy   = policyset.UpdatePolicy
	UpdatePriority = policyset.UpdatePriority
	UpdateBoth     = policyset.UpdateBoth
)

// ParseUpdateType reads the wire name of an update type, in any case; ""
// is UpdatePolicy, the cloud's default.
func ParseUpdateType(s string) (UpdateType, error) { return policyset.ParseUpdateType(s) }

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
		return WriteResult{}, kernel.FieldError(originalField, "", policy.Missing, "is required when UpdateType is %s: it names the policies to move", in.UpdateType)
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
		return WriteResult{}, kernel.FieldError(originalField+"."+od.Field(), "", policy.Malformed, "names %s policies but SecurityGroupPolicySet names %s ones", od.Field(), d.Field())
	}
	if len(sources) != len(targets) {
		return WriteResult{}, kernel.FieldError(originalField+"."+d.Field(), strconv.Itoa(len(sources)), policy.Malformed,
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
	moves := make([]policyset.Move, len(targets))
	for i := range targets {
		moves[i] = policyset.Move{From: from[i], To: to[i]}
		if in.UpdateType == UpdateBoth {
			moves[i].Content = &contents[i]
		}
		if in.UpdateType == UpdatePriority && !rawEmpty(targets[i].Raw) {
			p, err := policy.ParseRaw(targets[i].Raw)
			if err != nil {
				return WriteResult{}, kernel.Relabel(fmt.Sprintf("%s.%d", dirField(d), i), err)
			}
			moves[i].Kept = &p
		}
		if !rawEmpty(sources[i].Raw) {
			p, err := policy.ParseRaw(sources[i].Raw)
			if err != nil {
				return WriteResult{}, kernel.Relabel(fmt.Sprintf("%s.%s.%d", originalField, d.Field(), i), err)
			}
			moves[i].Claimed = &p
		}
	}
	return s.writePolicies(ctx, c, in.SecurityGroupID, "ReplaceSecurityGroupPolicies", version, func(set *policy.PolicySet) ([]written, error) {
		out, changed, err := policyset.Reorder(set.List(d), moves)
		if err != nil {
			return nil, editError(d, in.SecurityGroupID, err)
		}
		var ws []written
		for _, at := range changed {
			ws = append(ws, written{d, at})
		}
		set.SetList(d, out)
		return ws, nil
	})
}

// editError names the fields of a policyset edit error about direction d of
// group groupID's policies, and chooses its kind: the one place that maps
// them.
func editError(d policy.Direction, groupID string, err error) error {
	var e *policyset.Error
	if !errors.As(err, &e) {
		return err
	}
	item := fmt.Sprintf("%s.%d", dirField(d), e.Input)
	if e.Original {
		item = fmt.Sprintf("%s.%s.%d", originalField, d.Field(), e.Input)
	}
	switch e.Kind {
	case policyset.OutOfRange:
		return kernel.FieldError(item+".PolicyIndex", strconv.Itoa(e.Index), policy.OutOfRange, "there are %d %s policies", e.Len, d.Field())
	case policyset.PastEnd:
		return kernel.FieldError(item+".PolicyIndex", strconv.Itoa(e.Index), policy.OutOfRange, "is beyond the %d %s policies", e.Len, d.Field())
	case policyset.NoMatch:
		return &Error{Kind: KindNotFound, Resource: ResourcePolicy, Field: item, Message: fmt.Sprintf("no %s policy %s", d.Field(), e.Want.Describe(d))}
	case policyset.NotTheOne:
		return kernel.FieldError(item, e.Want.Describe(d), policy.Malformed, "is not the %s policy at index %d, which is %s", d.Field(), e.Index, e.Have.Describe(d))
	case policyset.Changed:
		return &Error{Kind: KindUnsupported, Resource: ResourceSecurityGroup, ID: groupID, Field: item,
			Message: fmt.Sprintf("UpdateType Priority changes only the order, but %s (%s) differs from the policy it moves (%s): use UpdateType Both to change both",
				item, e.Want.Describe(d), e.Have.Describe(d))}
	}
	return err
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
			return nil, kernel.FieldError(f, "", policy.Missing, "is required: it names a policy's position")
		case *pi.Index < 0:
			return nil, kernel.FieldError(f, strconv.Itoa(*pi.Index), policy.OutOfRange, "must not be negative")
		case seen[*pi.Index]:
			return nil, kernel.FieldError(f, strconv.Itoa(*pi.Index), policy.Malformed, "names the same position twice")
		}
		seen[*pi.Index] = true
		out[i] = *pi.Index
	}
	return out, nil
}

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
