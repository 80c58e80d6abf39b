package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// Propagation: how far a change has reached the hosts it affects, from
// what their agents report (ReportHostStatus's AppliedRevision).

// GroupPropagation is how far a group's last change has reached the hosts
// it affects: Revision is the revision of the newest feed entry naming the
// group (written, or its members changed; 0 when the feed no longer holds
// any), AffectedHosts the hosts with an instance that is not terminated
// whose lists depend on the group (bound to it, or bound to a group whose
// active policies reference it), sorted, and Laggards those of them that
// have not reported applying Revision.
type GroupPropagation struct {
	SecurityGroupID string
	Revision        int64
	AffectedHosts   []string
	Laggards        []HostLag
}

// HostLag is a host behind a revision: the revision it last reported
// applying, Reported false when its agent never reported.
type HostLag struct {
	HostID          string
	AppliedRevision int64
	Reported        bool
}

// DescribeSecurityGroupPropagation returns, for each of the caller's groups
// ids, how far its last change has reached the hosts it affects.
func (s *Service) DescribeSecurityGroupPropagation(ctx context.Context, c Caller, ids []string) ([]GroupPropagation, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, kernel.FieldError("SecurityGroupIds", "", policy.Missing, "is required")
	}
	var out []GroupPropagation
	err := s.view(ctx, func(tx store.Tx) error {
		out = out[:0]
		for i, id := range ids {
			if _, err := s.loadGroup(ctx, tx, c, fmt.Sprintf("SecurityGroupIds.%d", i), id); err != nil {
				return err
			}
			rev, err := tx.LastChange(ctx, id)
			if err != nil {
				return err
			}
			hosts, err := s.groupHosts(ctx, tx, []string{id})
			if err != nil {
				return err
			}
			lag, err := laggards(ctx, tx, hosts, rev)
			if err != nil {
				return err
			}
			out = append(out, GroupPropagation{SecurityGroupID: id, Revision: rev, AffectedHosts: hosts, Laggards: lag})
		}
		return nil
	})
	if err != nil {
		return nil, fromStore(err)
	}
	return out, nil
}

// laggards returns the hosts that have not reported applying rev.
func laggards(ctx context.Context, tx store.Tx, hosts []string, rev int64) ([]HostLag, error) {
	status, err := tx.ListHostStatus(ctx, hosts)
	if err != nil {
		return nil, err
	}
	applied := make(map[string]int64, len(status))
	for _, st := range status {
		applied[st.HostID] = st.AppliedRevision
	}
	var out []HostLag
	for _, h := range hosts {
		a, ok := applied[h]
		if !ok || a < rev {
			out = append(out, HostLag{HostID: h, AppliedRevision: a, Reported: ok})
		}
	}
	return out, nil
}

// groupHosts returns the hosts, sorted, of the instances that are not
// terminated whose lists depend on one of groups: bound to it, or bound to
// a group whose active policies reference it (an instance whose lists do
// not resolve counts as depending on every group it may).
func (s *Service) groupHosts(ctx context.Context, tx store.Tx, groups []string) ([]string, error) {
	refs, err := tx.Referrers(ctx, groups)
	if err != nil {
		return nil, err
	}
	var referrers []string
	for _, r := range refs {
		if strings.HasPrefix(r.From, policy.PrefixSecurityGroup) && !slices.Contains(groups, r.From) && !slices.Contains(referrers, r.From) {
			referrers = append(referrers, r.From)
		}
	}
	members, err := tx.ListMembers(ctx, slices.Concat(groups, referrers))
	if err != nil {
		return nil, err
	}
	// A direct member's host is on its row; an instance bound only to a
	// referrer counts when its resolved lists name one of groups.
	onHost := map[string]bool{}
	var indirect []string
	seen := map[string]bool{}
	for _, m := range members {
		if m.State == store.StateTerminated || seen[m.InstanceID] && !slices.Contains(groups, m.GroupID) {
			continue
		}
		if slices.Contains(groups, m.GroupID) {
			if m.HostID != "" {
				onHost[m.HostID] = true
			}
		} else {
			indirect = append(indirect, m.InstanceID)
		}
		seen[m.InstanceID] = true
	}
	now := s.now()
	for _, id := range indirect {
		ins, groupPolicies, err := tx.GetInstancePolicies(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("instance %s: %w", id, err)
		}
		if ins.HostID == "" || onHost[ins.HostID] {
			continue
		}
		a, err := tx.GetAccount(ctx, ins.AccountID)
		if err != nil {
			return nil, fmt.Errorf("account %s of instance %s: %w", ins.AccountID, id, err)
		}
		lists, err := resolve.BuildWith(ctx, tx, a, ins, groupPolicies, now, s.prefixes)
		var re *resolve.Error
		switch {
		case errors.As(err, &re):
			// Unresolvable: it may depend on the group.
		case err != nil:
			return nil, err
		case !slices.ContainsFunc(lists.Deps.Refs, func(g string) bool { return slices.Contains(groups, g) }):
			continue
		}
		onHost[ins.HostID] = true
	}
	hosts := slices.Collect(maps.Keys(onHost))
	slices.Sort(hosts)
	return hosts, nil
}

// WaitAppliedInput names what a write touched, for WaitApplied: groups,
// instances and templates of the caller's account, and how long to wait.
type WaitAppliedInput struct {
	GroupIDs, InstanceIDs, TemplateIDs []string
	Timeout                            time.Duration
}

// MaxWaitApplied is the longest WaitApplied waits.
const MaxWaitApplied = 60 * time.Second

// waitAppliedPoll is how often WaitApplied reads the hosts' reports.
const waitAppliedPoll = 100 * time.Millisecond

// WaitApplied waits until every host that a write to in's groups,
// instances and templates affects has reported applying the newest change
// of them, and fails after in.Timeout with a KindNotApplied error naming
// the hosts still behind. The write is committed either way.
func (s *Service) WaitApplied(ctx context.Context, c Caller, in WaitAppliedInput) error {
	if in.Timeout < 0 || in.Timeout > MaxWaitApplied {
		return kernel.FieldError("WaitApplied", fmt.Sprint(in.Timeout.Seconds()), policy.OutOfRange, "must be between 0 and %d seconds", int(MaxWaitApplied/time.Second))
	}
	var hosts []string
	var rev int64
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		hosts, rev, err = s.writeHosts(ctx, tx, c, in)
		return err
	})
	if err != nil {
		return fromStore(err)
	}
	if len(hosts) == 0 {
		return nil
	}
	deadline := time.Now().Add(in.Timeout)
	for {
		var lag []HostLag
		err := s.view(ctx, func(tx store.Tx) error {
			var err error
			lag, err = laggards(ctx, tx, hosts, rev)
			return err
		})
		if err != nil {
			return fromStore(err)
		}
		if len(lag) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			names := make([]string, len(lag))
			for i, l := range lag {
				names[i] = l.HostID
				if l.Reported {
					names[i] += fmt.Sprintf(" (at revision %d)", l.AppliedRevision)
				} else {
					names[i] += " (never reported)"
				}
			}
			return &kernel.Error{Kind: kernel.KindNotApplied, Blockers: names,
				Message: fmt.Sprintf("the write is committed (revision %d), but %d of %d affected hosts had not applied it within %v: %s",
					rev, len(lag), len(hosts), in.Timeout, strings.Join(names, ", "))}
		}
		t := time.NewTimer(min(waitAppliedPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// writeHosts returns the hosts a write to in's resources affects and the
// revision of their newest change.
func (s *Service) writeHosts(ctx context.Context, tx store.Tx, c Caller, in WaitAppliedInput) ([]string, int64, error) {
	var rev int64
	last := func(id string) error {
		r, err := tx.LastChange(ctx, id)
		rev = max(rev, r)
		return err
	}
	groups := slices.Clone(in.GroupIDs)
	// Templates reach hosts through the groups that use them, directly or
	// through a template group.
	templates := slices.Clone(in.TemplateIDs)
	for range 2 {
		refs, err := tx.Referrers(ctx, templates)
		if err != nil {
			return nil, 0, err
		}
		var next []string
		for _, r := range refs {
			switch {
			case strings.HasPrefix(r.From, policy.PrefixSecurityGroup):
				groups = append(groups, r.From)
			default:
				next = append(next, r.From)
			}
		}
		templates = next
	}
	for _, id := range slices.Concat(in.GroupIDs, in.TemplateIDs) {
		if err := last(id); err != nil {
			return nil, 0, err
		}
	}
	slices.Sort(groups)
	groups = slices.Compact(groups)
	var hosts []string
	if len(groups) > 0 {
		var err error
		if hosts, err = s.groupHosts(ctx, tx, groups); err != nil {
			return nil, 0, err
		}
	}
	for _, id := range in.InstanceIDs {
		ins, err := tx.GetAccountInstance(ctx, c.AccountID, c.Region, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if err := last(id); err != nil {
			return nil, 0, err
		}
		if ins.HostID != "" {
			hosts = append(hosts, ins.HostID)
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts), rev, nil
}
