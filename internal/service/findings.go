package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// FindingsInput is DescribeSecurityGroupFindings' request: the caller's
// groups, or its instances, not both.
type FindingsInput struct {
	SecurityGroupIDs []string
	InstanceIDs      []string
	// UnusedWindow is how long the agents' counters must have covered a
	// group's current policies before one they counted nothing for is
	// UNUSED (0: DefaultUnusedWindow).
	UnusedWindow time.Duration
}

// DefaultUnusedWindow is the period of counters after which a policy that
// matched nothing is reported UNUSED.
const DefaultUnusedWindow = 7 * 24 * time.Hour

// Finding is one finding about a group or an instance (see
// analysis.Findings).
type Finding = analysis.Finding

// FindingSet is the findings about one group or one instance, in the
// order they were asked for.
type FindingSet struct {
	SecurityGroupID string // the group analysed, or ""
	InstanceID      string // the instance analysed, or ""
	Findings        []Finding
}

// maxFindingsTargets bounds the groups or instances of one request.
const maxFindingsTargets = 100

// DescribeSecurityGroupFindings analyses the caller's groups — each alone,
// its policies without the platform rules — or its instances — each with
// its effective lists: the platform rules and every bound group in
// binding order — and returns one FindingSet per id. The lists are
// resolved as SimulateTraffic resolves them, and stored data that does not
// resolve refuses the request (KindUnresolvable).
func (s *Service) DescribeSecurityGroupFindings(ctx context.Context, c Caller, in FindingsInput) ([]FindingSet, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, err
	}
	groups, instances := dedupe(in.SecurityGroupIDs), dedupe(in.InstanceIDs)
	switch {
	case len(groups) > 0 && len(instances) > 0:
		return nil, kernel.FieldError("InstanceIds", strings.Join(instances, ","), policy.Malformed, "give SecurityGroupIds or InstanceIds, not both")
	case len(groups)+len(instances) == 0:
		return nil, kernel.FieldError("SecurityGroupIds", "", policy.Missing, "is required (or InstanceIds)")
	case len(groups) > maxFindingsTargets:
		return nil, kernel.FieldError("SecurityGroupIds", fmt.Sprint(len(groups)), policy.OutOfRange, "at most %d ids per request", maxFindingsTargets)
	case len(instances) > maxFindingsTargets:
		return nil, kernel.FieldError("InstanceIds", fmt.Sprint(len(instances)), policy.OutOfRange, "at most %d ids per request", maxFindingsTargets)
	}
	for _, id := range groups {
		if err := kernel.CheckID("SecurityGroupIds", policy.PrefixSecurityGroup, id); err != nil {
			return nil, err
		}
	}
	for _, id := range instances {
		if err := kernel.CheckID("InstanceIds", policy.PrefixInstance, id); err != nil {
			return nil, err
		}
	}
	if in.UnusedWindow < 0 {
		return nil, kernel.FieldError("UnusedWindowSeconds", fmt.Sprint(in.UnusedWindow.Seconds()), policy.OutOfRange, "must be 0 or more")
	}
	if in.UnusedWindow == 0 {
		in.UnusedWindow = DefaultUnusedWindow
	}
	var inputs []analysis.Input
	var out []FindingSet
	var unused [][]Finding // per group, in order
	err := s.view(ctx, func(tx store.Tx) error {
		inputs, out, unused = nil, nil, nil
		a, err := tx.GetAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		for _, id := range groups {
			g, err := s.loadGroup(ctx, tx, c, "SecurityGroupIds", id)
			if err != nil {
				return err
			}
			// A group alone: resolved as the only group of an instance, its
			// platform rules then left out.
			ins := store.Instance{ID: g.ID, AccountID: a.ID, Region: g.Region, GroupIDs: []string{g.ID}}
			lists, err := s.findingLists(ctx, tx, a, ins, []store.GroupPolicies{{ID: g.ID, Policies: g.Policies}}, ResourceSecurityGroup)
			if err != nil {
				return err
			}
			inputs = append(inputs, analysis.Input{Ingress: groupOnly(lists.Ingress), Egress: groupOnly(lists.Egress), Port25Blocked: !a.Port25Unblocked})
			out = append(out, FindingSet{SecurityGroupID: g.ID})
			u, err := s.unused(ctx, tx, g, in.UnusedWindow)
			if err != nil {
				return err
			}
			unused = append(unused, u)
		}
		for _, id := range instances {
			ins, gs, err := tx.GetAccountInstancePolicies(ctx, c.AccountID, c.Region, id)
			if errors.Is(err, store.ErrNotFound) {
				e := kernel.NotFound(ResourceInstance, id)
				e.Field = "InstanceIds"
				return e
			}
			if err != nil {
				return err
			}
			lists, err := s.findingLists(ctx, tx, a, ins, gs, ResourceInstance)
			if err != nil {
				return err
			}
			inputs = append(inputs, analysis.Input{InstanceID: ins.ID, OSType: ins.OSType, Ingress: lists.Ingress, Egress: lists.Egress, Port25Blocked: !a.Port25Unblocked})
			out = append(out, FindingSet{InstanceID: ins.ID})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, in := range inputs {
		fs, err := analysis.Findings(in)
		if err != nil {
			return nil, fmt.Errorf("findings of %s%s: %w", out[i].SecurityGroupID, out[i].InstanceID, err)
		}
		if i < len(unused) {
			fs = append(fs, unused[i]...)
		}
		out[i].Findings = fs
	}
	return out, nil
}

// unused returns the UNUSED findings of group g from the agents' counters
// of its policies, counted since its last write (counters are kept by
// policy index, so earlier counts may be of other policies).
func (s *Service) unused(ctx context.Context, tx store.Tx, g store.Group, window time.Duration) ([]Finding, error) {
	counters, err := tx.GroupCounters(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	var hits []analysis.Hits
	var since, until time.Time
	for _, ct := range counters {
		if ct.Platform != "" {
			continue
		}
		hits = append(hits, analysis.Hits{Direction: ct.Direction, PolicyIndex: ct.PolicyIndex, Packets: ct.Packets})
		if since.IsZero() || ct.Since.Before(since) {
			since = ct.Since
		}
		if ct.Updated.After(until) {
			until = ct.Updated
		}
	}
	if g.Updated.After(since) {
		since = g.Updated
	}
	return analysis.Unused(g.ID, g.Policies, hits, until.Sub(since), window, s.now()), nil
}

// findingLists resolves the lists of ins bound to groups; stored data that
// does not resolve is a KindUnresolvable error about resource id ins.ID.
func (s *Service) findingLists(ctx context.Context, tx store.Tx, a store.Account, ins store.Instance, groups []store.GroupPolicies, resource string) (*resolve.Lists, error) {
	lists, err := resolve.BuildWith(ctx, tx, a, ins, groups, s.now(), s.prefixes)
	var re *resolve.Error
	if errors.As(err, &re) {
		return nil, &Error{Kind: KindUnresolvable, Resource: resource, ID: ins.ID, Message: re.Summary(maxProblems)}
	}
	return lists, err
}

// groupOnly returns l without its platform entries.
func groupOnly(l rules.List) rules.List {
	out := rules.List{Direction: l.Direction}
	for _, e := range l.Entries {
		if e.Origin.Layer == rules.LayerSecurityGroup {
			out.Entries = append(out.Entries, e)
		}
	}
	return out
}

// dedupe returns ids trimmed, without repeats, in order (a blank id is
// kept, for the id check to refuse).
func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = kernel.AppendNew(out, strings.TrimSpace(id))
	}
	return out
}
