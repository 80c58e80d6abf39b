package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/service/policyset"
	"github.com/palisade-sg/palisade/internal/store"
)

const setField = "SecurityGroupPolicySet"

func dirField(d policy.Direction) string { return setField + "." + d.Field() }

func parseVersion(v string) (*uint64, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return nil, kernel.FieldError(setField+".Version", v, policy.Malformed, "must be a decimal integer")
	}
	return &n, nil
}

// oneDirection reads a Create, Delete or Replace request: the one direction
// it names, that direction's policies and the Version it names (nil when
// absent).
func oneDirection(set PolicySetInput) (policy.Direction, []PolicyInput, *uint64, error) {
	var d policy.Direction
	switch {
	case len(set.Ingress) > 0 && len(set.Egress) > 0:
		return 0, nil, nil, kernel.FieldError(setField+".Egress", "", policy.Coexist, "cannot be given together with Ingress: one direction per request")
	case len(set.Ingress) > 0:
		d = policy.Ingress
	case len(set.Egress) > 0:
		d = policy.Egress
	default:
		return 0, nil, nil, kernel.FieldError(setField, "", policy.Missing, "needs Ingress or Egress policies")
	}
	version, err := parseVersion(set.Version)
	if err != nil {
		return 0, nil, nil, err
	}
	return d, set.List(d), version, nil
}

// parseOneDirection is oneDirection followed by parseInputs: the direction,
// its inputs, their parsed policies and the Version, if given.
func (s *Service) parseOneDirection(ctx context.Context, c Caller, set PolicySetInput) (policy.Direction, []PolicyInput, []policy.Policy, *uint64, error) {
	d, inputs, version, err := oneDirection(set)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	pols, err := s.parseInputs(ctx, c, d, inputs)
	if err != nil {
		return 0, nil, nil, nil, err
	}
	return d, inputs, pols, version, nil
}

// maxReportedPolicies bounds how many bad policies of one request an error
// describes; the rest are counted. A request's error stays small however
// many policies it carries.
const maxReportedPolicies = 5

// parseInputs parses the policies of one direction, naming fields
// "SecurityGroupPolicySet.Ingress.N.Field". A request with more policies
// than the caller's account may have in a direction is refused before any
// is parsed, and the error names at most maxReportedPolicies bad policies.
func (s *Service) parseInputs(ctx context.Context, c Caller, d policy.Direction, in []PolicyInput) ([]policy.Policy, error) {
	if err := s.checkPolicyCount(ctx, c, d, len(in)); err != nil {
		return nil, err
	}
	out := make([]policy.Policy, len(in))
	var errs []error
	bad := 0
	now := s.now()
	for i, pi := range in {
		p, err := policy.ParseRaw(pi.Raw)
		if err == nil && !pi.ExpiresAt.IsZero() && !pi.ExpiresAt.After(now) {
			err = kernel.FieldError("ExpiresAt", pi.ExpiresAt.UTC().Format(time.RFC3339), policy.OutOfRange, "is not in the future")
		}
		if err != nil {
			if bad++; bad <= maxReportedPolicies {
				errs = append(errs, kernel.Relabel(fmt.Sprintf("%s.%d", dirField(d), i), err))
			}
			continue
		}
		p.Disabled, p.ExpiresAt = pi.Disabled, pi.ExpiresAt
		out[i] = p
	}
	if bad > maxReportedPolicies {
		errs = append(errs, kernel.FieldError(dirField(d), "", policy.Malformed, "%d more policies are invalid (%d in all)", bad-maxReportedPolicies, bad))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// checkPolicyCount refuses n policies for one direction of a request when
// they exceed the caller's quota of policies per direction. Only a request
// larger than the default quota costs a read of the account's quotas.
func (s *Service) checkPolicyCount(ctx context.Context, c Caller, d policy.Direction, n int) error {
	if n <= s.base.Quotas.PoliciesPerDirection {
		return nil
	}
	var q Quotas
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		q, err = s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		return err
	})
	if err != nil {
		return err
	}
	if n > q.PoliciesPerDirection {
		return kernel.LimitExceeded(QuotaPoliciesPerDirection, q.PoliciesPerDirection,
			"the request has %d %s policies; a direction holds at most %d", n, d, q.PoliciesPerDirection)
	}
	return nil
}

func indexField(d policy.Direction, i int) string {
	return fmt.Sprintf("%s.%d.PolicyIndex", dirField(d), i)
}

func rawEmpty(r policy.Raw) bool { return r == policy.Raw{} }

// writePolicies runs one write to a group's policy set in one transaction:
// version check, mutation, validation, Version+1, history, warnings.
func (s *Service) writePolicies(ctx context.Context, c Caller, groupID, action string, version *uint64,
	mutate func(set *policy.PolicySet) ([]written, error)) (WriteResult, error) {
	return s.writePoliciesFrom(ctx, c, groupID, action, version, 0, mutate)
}

// writePoliciesFrom is writePolicies recording, when restoredFrom is not
// zero, the version a restore re-applied.
func (s *Service) writePoliciesFrom(ctx context.Context, c Caller, groupID, action string, version *uint64, restoredFrom uint64,
	mutate func(set *policy.PolicySet) ([]written, error)) (WriteResult, error) {
	if err := s.base.Tenant(c, true); err != nil {
		return WriteResult{}, err
	}
	var res WriteResult
	err := s.update(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", groupID)
		if err != nil {
			return err
		}
		before := g.Policies
		if version != nil && *version != before.Version {
			return &Error{Kind: KindVersionMismatch, Resource: ResourceSecurityGroup, ID: g.ID, Field: setField + ".Version",
				Message: fmt.Sprintf("Version %d is not the current version %d of %s", *version, before.Version, g.ID)}
		}
		set := before.Clone()
		ws, err := mutate(&set)
		if err != nil {
			return err
		}
		now := s.now()
		for _, w := range ws {
			set.List(w.dir)[w.index].ModifyTime = now
		}
		q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if err := s.validateSet(ctx, tx, g, set, q); err != nil {
			return err
		}
		cases, err := s.groupLockCases(ctx, tx, c, g, set)
		if err != nil {
			return err
		}
		if err := s.checkLockout(ctx, tx, c, cases); err != nil {
			return err
		}
		set.Version = before.Version + 1
		g.Policies, g.Updated = set, now
		if err := tx.UpdateGroup(ctx, g, before.Version); err != nil {
			return err
		}
		if err := s.recordPolicies(ctx, tx, c, g.ID, action, restoredFrom, before, set); err != nil {
			return err
		}
		confirm, err := s.afterPolicyWrite(ctx, tx, c, g.ID, before.Version, set.Version)
		if err != nil {
			return err
		}
		res.Version, res.ConfirmBy = set.Version, confirm.ConfirmBy
		res.Warnings, err = s.policyWarnings(ctx, tx, c.AccountID, set, ws)
		return err
	})
	if err != nil {
		return WriteResult{}, err
	}
	return res, nil
}

// ruleKey identifies a policy for duplicate detection: its rule and its
// description. The cloud accepts two policies that differ only in their
// description (the Terraform provider's rule-set acceptance test writes such
// a pair), so only a policy equal in every field is a duplicate.
func ruleKey(p policy.Policy) string {
	return p.Action.String() + "|" + p.ServiceID + "|" + p.Protocol.String() + "|" + p.Ports.String() + "|" + p.Peer.Kind.String() + "|" + p.Peer.Canonical() + "|" + p.Description
}

// validateSet checks a group's new policy set: quotas, duplicates and that
// every referenced group and template exists for the account in the region.
func (s *Service) validateSet(ctx context.Context, tx store.Tx, g store.Group, set policy.PolicySet, q Quotas) error {
	refGroups := map[string]bool{}
	checked := map[string]bool{g.ID: true}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		list := set.List(d)
		if len(list) > q.PoliciesPerDirection {
			return kernel.LimitExceeded(QuotaPoliciesPerDirection, q.PoliciesPerDirection,
				"%s of %s would have %d policies; the limit is %d per direction", d.Field(), g.ID, len(list), q.PoliciesPerDirection)
		}
		seen := make(map[string]int, len(list))
		for i, p := range list {
			k := ruleKey(p)
			if j, dup := seen[k]; dup {
				return &Error{Kind: KindDuplicatePolicy, Resource: ResourcePolicy, Field: fmt.Sprintf("%s.%d", dirField(d), i),
					Message: fmt.Sprintf("%s policy %d (%s) duplicates policy %d", d.Field(), i, p.Describe(d), j)}
			}
			seen[k] = i
			field := fmt.Sprintf("%s.%d", dirField(d), i)
			if p.Peer.Kind == policy.PeerSecurityGroup && p.Peer.ID != g.ID {
				refGroups[p.Peer.ID] = true
			}
			for _, id := range []string{peerRef(p), p.ServiceID} {
				if id == "" || checked[id] {
					continue
				}
				if err := s.checkRef(ctx, tx, g, field, id); err != nil {
					return err
				}
				checked[id] = true
			}
		}
	}
	if len(refGroups) > q.ReferencedGroupsPerGroup {
		return kernel.LimitExceeded(QuotaReferencedGroupsPerGroup, q.ReferencedGroupsPerGroup,
			"%s would reference %d security groups; the limit is %d", g.ID, len(refGroups), q.ReferencedGroupsPerGroup)
	}
	return nil
}

func peerRef(p policy.Policy) string {
	if p.Peer.IsReference() {
		return p.Peer.ID
	}
	return ""
}

// checkRef checks that a referenced group or template exists in the group's
// account and region.
func (s *Service) checkRef(ctx context.Context, tx store.Tx, g store.Group, field, id string) error {
	if strings.HasPrefix(id, policy.PrefixSecurityGroup) {
		_, err := kernel.LoadGroup(ctx, tx, g.AccountID, g.Region, field, id)
		return err
	}
	kind, resource := templateKindOf(id)
	t, err := tx.GetAccountTemplate(ctx, g.AccountID, g.Region, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Kind != kind {
		e := kernel.NotFound(resource, id)
		e.Field = field
		return e
	}
	return err
}

// templateKindOf returns the store kind and resource name of a template id.
func templateKindOf(id string) (store.TemplateKind, string) {
	switch {
	case strings.HasPrefix(id, policy.PrefixAddressTemplateGroup):
		return store.KindAddressGroup, ResourceAddressTemplateGroup
	case strings.HasPrefix(id, policy.PrefixAddressTemplate):
		return store.KindAddress, ResourceAddressTemplate
	case strings.HasPrefix(id, policy.PrefixServiceTemplateGroup):
		return store.KindServiceGroup, ResourceServiceTemplateGroup
	}
	return store.KindService, ResourceServiceTemplate
}

// CreateSecurityGroupPolicies inserts the policies of one direction at their
// shared PolicyIndex (0 = top, absent = append), checking Version if given.
func (s *Service) CreateSecurityGroupPolicies(ctx context.Context, c Caller, in PoliciesInput) (WriteResult, error) {
	d, inputs, pols, version, err := s.parseOneDirection(ctx, c, in.Set)
	if err != nil {
		return WriteResult{}, err
	}
	var at *int
	for i, pi := range inputs {
		if pi.Index == nil {
			continue
		}
		if *pi.Index < 0 {
			return WriteResult{}, kernel.FieldError(indexField(d, i), strconv.Itoa(*pi.Index), policy.OutOfRange, "must not be negative")
		}
		if at != nil && *at != *pi.Index {
			return WriteResult{}, kernel.FieldError(indexField(d, i), strconv.Itoa(*pi.Index), policy.Malformed, "policies of one request share one PolicyIndex (%d)", *at)
		}
		at = pi.Index
	}
	return s.writePolicies(ctx, c, in.SecurityGroupID, "CreateSecurityGroupPolicies", version, func(set *policy.PolicySet) ([]written, error) {
		list, pos, err := policyset.Insert(set.List(d), at, pols)
		if err != nil {
			return nil, editError(d, in.SecurityGroupID, err)
		}
		set.SetList(d, list)
		ws := make([]written, len(pols))
		for i := range pols {
			ws[i] = written{d, pos + i}
		}
		return ws, nil
	})
}

// DeleteSecurityGroupPolicies deletes policies of one direction, all by
// PolicyIndex or all by content, checking Version if given.
func (s *Service) DeleteSecurityGroupPolicies(ctx context.Context, c Caller, in PoliciesInput) (WriteResult, error) {
	d, inputs, version, err := oneDirection(in.Set)
	if err != nil {
		return WriteResult{}, err
	}
	byIndex := inputs[0].Index != nil
	for i, pi := range inputs {
		switch {
		case byIndex && !rawEmpty(pi.Raw):
			return WriteResult{}, kernel.FieldError(fmt.Sprintf("%s.%d", dirField(d), i), "", policy.Coexist, "delete by PolicyIndex or by content, not both")
		case byIndex && pi.Index == nil:
			return WriteResult{}, kernel.FieldError(indexField(d, i), "", policy.Missing, "is required: policies are deleted by index in this request")
		case !byIndex && pi.Index != nil:
			return WriteResult{}, kernel.FieldError(indexField(d, i), strconv.Itoa(*pi.Index), policy.Coexist, "delete by PolicyIndex or by content, not both")
		}
	}
	var content []policy.Policy
	var indexes []int
	if byIndex {
		for _, pi := range inputs {
			indexes = append(indexes, *pi.Index)
		}
	} else if content, err = s.parseInputs(ctx, c, d, inputs); err != nil {
		return WriteResult{}, err
	}
	return s.writePolicies(ctx, c, in.SecurityGroupID, "DeleteSecurityGroupPolicies", version, func(set *policy.PolicySet) ([]written, error) {
		var kept []policy.Policy
		var err error
		if byIndex {
			kept, err = policyset.DeleteAt(set.List(d), indexes)
		} else {
			kept, err = policyset.DeleteContent(set.List(d), content)
		}
		if err != nil {
			return nil, editError(d, in.SecurityGroupID, err)
		}
		set.SetList(d, kept)
		return nil, nil
	})
}

// ReplaceSecurityGroupPolicy replaces exactly one policy, chosen by its
// PolicyIndex, checking Version if given.
func (s *Service) ReplaceSecurityGroupPolicy(ctx context.Context, c Caller, in PoliciesInput) (WriteResult, error) {
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		if n := len(in.Set.List(d)); n > 1 {
			return WriteResult{}, kernel.FieldError(dirField(d), strconv.Itoa(n), policy.OutOfRange, "ReplaceSecurityGroupPolicy takes exactly one policy")
		}
	}
	return s.replace(ctx, c, in, "ReplaceSecurityGroupPolicy")
}

// ReplaceSecurityGroupPolicies replaces one or more policies of one
// direction, each chosen by its PolicyIndex, checking Version if given. With
// UpdatePriority or UpdateBoth it moves policies instead (see reorder).
func (s *Service) ReplaceSecurityGroupPolicies(ctx context.Context, c Caller, in ReplacePoliciesInput) (WriteResult, error) {
	switch in.UpdateType {
	case UpdatePolicy:
		return s.replace(ctx, c, in.PoliciesInput, "ReplaceSecurityGroupPolicies")
	case UpdatePriority, UpdateBoth:
		return s.reorder(ctx, c, in)
	}
	return WriteResult{}, kernel.FieldError("UpdateType", in.UpdateType.String(), policy.Malformed, "is not an update type")
}

func (s *Service) replace(ctx context.Context, c Caller, in PoliciesInput, action string) (WriteResult, error) {
	d, inputs, pols, version, err := s.parseOneDirection(ctx, c, in.Set)
	if err != nil {
		return WriteResult{}, err
	}
	seen := map[int]bool{}
	indexes := make([]int, len(inputs))
	for i, pi := range inputs {
		if pi.Index == nil {
			return WriteResult{}, kernel.FieldError(indexField(d, i), "", policy.Missing, "is required: it chooses the policy to replace")
		}
		if seen[*pi.Index] {
			return WriteResult{}, kernel.FieldError(indexField(d, i), strconv.Itoa(*pi.Index), policy.Malformed, "names the same policy twice")
		}
		seen[*pi.Index] = true
		indexes[i] = *pi.Index
	}
	return s.writePolicies(ctx, c, in.SecurityGroupID, action, version, func(set *policy.PolicySet) ([]written, error) {
		list, err := policyset.ReplaceAt(set.List(d), indexes, pols)
		if err != nil {
			return nil, editError(d, in.SecurityGroupID, err)
		}
		ws := make([]written, len(indexes))
		for i, at := range indexes {
			ws[i] = written{d, at}
		}
		set.SetList(d, list)
		return ws, nil
	})
}

// ModifySecurityGroupPolicies replaces whole directions: an absent or empty
// direction is left as it is, Version "0" clears both, other Versions are not
// compared.
func (s *Service) ModifySecurityGroupPolicies(ctx context.Context, c Caller, in ModifyPoliciesInput) (WriteResult, error) {
	version, err := parseVersion(in.Set.Version)
	if err != nil {
		return WriteResult{}, err
	}
	clear := version != nil && *version == 0
	var ingress, egress []policy.Policy
	if !clear {
		var errs []error
		if ingress, err = s.parseInputs(ctx, c, policy.Ingress, in.Set.Ingress); err != nil {
			errs = append(errs, err)
		}
		if egress, err = s.parseInputs(ctx, c, policy.Egress, in.Set.Egress); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return WriteResult{}, errors.Join(errs...)
		}
	}
	return s.writePolicies(ctx, c, in.SecurityGroupID, "ModifySecurityGroupPolicies", nil, func(set *policy.PolicySet) ([]written, error) {
		if clear {
			set.Ingress, set.Egress = nil, nil
			return nil, nil
		}
		var ws []written
		for _, x := range []struct {
			d  policy.Direction
			ps []policy.Policy
		}{{policy.Ingress, ingress}, {policy.Egress, egress}} {
			if len(x.ps) == 0 {
				continue
			}
			set.SetList(x.d, x.ps)
			for i := range x.ps {
				ws = append(ws, written{x.d, i})
			}
		}
		return ws, nil
	})
}
