package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// PreviewInput is PreviewSecurityGroupChange's request: a group and the
// whole policy set proposed for it (both directions; an empty direction
// is proposed empty), or an instance and the ordered groups proposed for
// it — one of the two.
type PreviewInput struct {
	SecurityGroupID  string
	Set              *PolicySetInput
	InstanceID       string
	SecurityGroupIDs []string
}

// InstancePreview is what a proposed change does to one instance: per
// direction, the traffic it gains and loses. The changes are shared
// between instances whose lists are the same: never modify them.
type InstancePreview struct {
	InstanceID      string
	Ingress, Egress DirectionChange
}

// DirectionChange is the traffic of one direction a change admits anew
// (Gains) and no longer admits (Losses), as disjoint regions of the packet
// space (see regions), in the order of regions.Result's slices: IPv4 TCP
// and UDP, IPv4 other protocols, then IPv6 alike.
type DirectionChange struct {
	Gains, Losses []TrafficChange
}

// Empty reports whether the direction admits the same packets as before.
func (d DirectionChange) Empty() bool { return len(d.Gains) == 0 && len(d.Losses) == 0 }

// TrafficChange is one region gained or lost and the rule that decides it:
// for a gain, the new list's entry admitting it; for a loss, the old
// list's entry that admitted it.
type TrafficChange struct {
	Region regions.Region
	Origin rules.Origin
}

// Preview is PreviewSecurityGroupChange's answer: every instance the
// change affects, in creation order. Unchanged counts those among them
// whose traffic does not change at all (they are listed too).
type Preview struct {
	Instances []InstancePreview
	Unchanged int
}

// maxPreviewRegions bounds the regions of one effective list a preview
// computes; a list past it cannot be previewed exactly.
const maxPreviewRegions = 1 << 20

// PreviewSecurityGroupChange computes, without writing anything, which
// instances a change would make gain or lose which traffic, exactly, as
// regions of the packet space: for a group's proposed policy set, every
// instance of the caller's bound to the group; for an instance's proposed
// bindings, that instance. Its lists are resolved as SimulateTraffic
// resolves them, before and after; instances bound to the same groups in
// the same order have the same lists, and share one computation.
//
// A change of bindings also changes the addresses of the groups the
// instance joins or leaves, which other groups' policies may reference:
// the instances of those groups are not previewed.
func (s *Service) PreviewSecurityGroupChange(ctx context.Context, c Caller, in PreviewInput) (Preview, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return Preview{}, err
	}
	gid, iid := strings.TrimSpace(in.SecurityGroupID), strings.TrimSpace(in.InstanceID)
	switch {
	case gid != "" && iid != "":
		return Preview{}, kernel.FieldError("InstanceId", iid, policy.Coexist, "give SecurityGroupId or InstanceId, not both")
	case gid != "":
		if in.Set == nil {
			return Preview{}, kernel.FieldError(setField, "", policy.Missing, "is required: the policy set proposed for %s", gid)
		}
		if len(in.SecurityGroupIDs) > 0 {
			return Preview{}, kernel.FieldError("SecurityGroupIds", "", policy.Coexist, "go with InstanceId, not SecurityGroupId")
		}
		return s.previewPolicies(ctx, c, gid, *in.Set)
	case iid != "":
		if in.Set != nil {
			return Preview{}, kernel.FieldError(setField, "", policy.Coexist, "goes with SecurityGroupId, not InstanceId")
		}
		return s.previewBindings(ctx, c, iid, in.SecurityGroupIDs)
	}
	return Preview{}, kernel.FieldError("SecurityGroupId", "", policy.Missing, "is required (or InstanceId)")
}

// previewLists is one instance's lists before and after a change.
type previewLists struct {
	old, new *resolve.Lists
}

func (s *Service) previewPolicies(ctx context.Context, c Caller, gid string, set PolicySetInput) (Preview, error) {
	if err := kernel.CheckID("SecurityGroupId", policy.PrefixSecurityGroup, gid); err != nil {
		return Preview{}, err
	}
	var proposed policy.PolicySet
	var errs []error
	var err error
	if proposed.Ingress, err = s.parseInputs(ctx, c, policy.Ingress, set.Ingress); err != nil {
		errs = append(errs, err)
	}
	if proposed.Egress, err = s.parseInputs(ctx, c, policy.Egress, set.Egress); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Preview{}, errors.Join(errs...)
	}
	var ids []string
	var byKey map[string]previewLists
	var keys []string
	err = s.view(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", gid)
		if err != nil {
			return err
		}
		q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if err := s.validateSet(ctx, tx, g, proposed, q); err != nil {
			return err
		}
		a, err := tx.GetAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		ins, _, err := tx.ListInstances(ctx, store.InstanceFilter{AccountID: c.AccountID, Region: c.Region, GroupIDs: []string{g.ID}})
		if err != nil {
			return err
		}
		groups := map[string]store.GroupPolicies{}
		ids, keys, byKey = nil, nil, map[string]previewLists{}
		for _, in := range ins {
			key := strings.Join(in.GroupIDs, ",")
			ids, keys = append(ids, in.ID), append(keys, key)
			if _, ok := byKey[key]; ok {
				continue
			}
			old, err := s.boundGroups(ctx, tx, c, groups, in.GroupIDs)
			if err != nil {
				return err
			}
			cur := slices.Clone(old)
			for i := range cur {
				if cur[i].ID == g.ID {
					cur[i].Policies = proposed
				}
			}
			var pl previewLists
			if pl.old, err = s.findingLists(ctx, tx, a, in, old, ResourceInstance); err != nil {
				return err
			}
			if pl.new, err = s.findingLists(ctx, tx, a, in, cur, ResourceInstance); err != nil {
				return err
			}
			byKey[key] = pl
		}
		return nil
	})
	if err != nil {
		return Preview{}, err
	}
	return previewOf(ids, keys, byKey)
}

func (s *Service) previewBindings(ctx context.Context, c Caller, iid string, gids []string) (Preview, error) {
	if err := kernel.CheckID("InstanceId", policy.PrefixInstance, iid); err != nil {
		return Preview{}, err
	}
	var proposed []string
	for i, id := range gids {
		id = strings.TrimSpace(id)
		field := fmt.Sprintf("SecurityGroupIds.%d", i)
		if err := kernel.CheckID(field, policy.PrefixSecurityGroup, id); err != nil {
			return Preview{}, err
		}
		if slices.Contains(proposed, id) {
			return Preview{}, kernel.FieldError(field, id, policy.Malformed, "names a group twice")
		}
		proposed = append(proposed, id)
	}
	byKey := map[string]previewLists{}
	err := s.view(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		ins, old, err := tx.GetAccountInstancePolicies(ctx, c.AccountID, c.Region, iid)
		if errors.Is(err, store.ErrNotFound) {
			e := kernel.NotFound(ResourceInstance, iid)
			e.Field = "InstanceId"
			return e
		}
		if err != nil {
			return err
		}
		cur, err := s.boundGroups(ctx, tx, c, map[string]store.GroupPolicies{}, proposed)
		if err != nil {
			return err
		}
		var pl previewLists
		if pl.old, err = s.findingLists(ctx, tx, a, ins, old, ResourceInstance); err != nil {
			return err
		}
		next := ins
		next.GroupIDs = proposed
		if pl.new, err = s.findingLists(ctx, tx, a, next, cur, ResourceInstance); err != nil {
			return err
		}
		byKey[iid] = pl
		return nil
	})
	if err != nil {
		return Preview{}, err
	}
	return previewOf([]string{iid}, []string{iid}, byKey)
}

// boundGroups returns the policy sets of ids, the caller's groups, in
// order, reading each once through seen.
func (s *Service) boundGroups(ctx context.Context, tx store.Tx, c Caller, seen map[string]store.GroupPolicies, ids []string) ([]store.GroupPolicies, error) {
	out := make([]store.GroupPolicies, 0, len(ids))
	for i, id := range ids {
		gp, ok := seen[id]
		if !ok {
			g, err := s.loadGroup(ctx, tx, c, fmt.Sprintf("SecurityGroupIds.%d", i), id)
			if err != nil {
				return nil, err
			}
			gp = store.GroupPolicies{ID: g.ID, Policies: g.Policies}
			seen[id] = gp
		}
		out = append(out, gp)
	}
	return out, nil
}

// previewOf computes the deltas of each distinct pair of lists once and
// gives every instance its own.
func previewOf(ids, keys []string, byKey map[string]previewLists) (Preview, error) {
	type deltas struct{ ingress, egress DirectionChange }
	done := make(map[string]deltas, len(byKey))
	out := Preview{Instances: make([]InstancePreview, 0, len(ids))}
	for i, id := range ids {
		d, ok := done[keys[i]]
		if !ok {
			pl := byKey[keys[i]]
			var err error
			if d.ingress, err = directionChange(pl.old.Ingress, pl.new.Ingress); err != nil {
				return Preview{}, fmt.Errorf("preview %s: %w", id, err)
			}
			if d.egress, err = directionChange(pl.old.Egress, pl.new.Egress); err != nil {
				return Preview{}, fmt.Errorf("preview %s: %w", id, err)
			}
			done[keys[i]] = d
		}
		if d.ingress.Empty() && d.egress.Empty() {
			out.Unchanged++
		}
		out.Instances = append(out.Instances, InstancePreview{InstanceID: id, Ingress: d.ingress, Egress: d.egress})
	}
	return out, nil
}

// directionChange is the exact change from old to new, each region with
// the origin of its owner.
func directionChange(old, new rules.List) (DirectionChange, error) {
	d, err := analysis.ListDelta(old, new, maxPreviewRegions)
	if err != nil {
		return DirectionChange{}, err
	}
	changes := func(r *regions.Result, l rules.List) []TrafficChange {
		var out []TrafficChange
		for _, s := range [][]regions.Region{r.V4Ports, r.V4NoPorts, r.V6Ports, r.V6NoPorts} {
			for _, g := range s {
				out = append(out, TrafficChange{Region: g, Origin: l.Entries[g.Owner].Origin})
			}
		}
		return out
	}
	return DirectionChange{Gains: changes(d.Gains, new), Losses: changes(d.Losses, old)}, nil
}
