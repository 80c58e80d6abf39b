package service

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
)

// WriteGuard is what a front end knows of a write request beyond its
// fields: the address it came from (Source; invalid when unknown, or a
// loopback address, which turns lockout protection off), whether it forces a write that would cut
// the caller's own login path (Force), and how long the caller has to
// confirm a policy write before it is reverted (ConfirmWithin; zero: no
// confirmation asked).
type WriteGuard struct {
	Source        netip.Addr
	Force         bool
	ConfirmWithin time.Duration
}

// guardKey carries a request's WriteGuard.
type guardKey struct{}

// WithWriteGuard returns ctx with its writes guarded by g: a policy write
// or a rebinding that would cut the login path (SSH, TCP 22, to a linux
// instance; remote desktop, TCP 3389, to a windows one) from g.Source to
// an instance it reaches now is refused with KindLockoutPrevented unless
// g.Force is set; a policy write with g.ConfirmWithin is reverted unless
// confirmed in time (see ConfirmSecurityGroupChange).
func WithWriteGuard(ctx context.Context, g WriteGuard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

func guardOf(ctx context.Context) WriteGuard {
	g, _ := ctx.Value(guardKey{}).(WriteGuard)
	return g
}

// protects reports whether the guard checks the write for lockout: a
// known source that is not loopback or unspecified (a request from the
// Palisade host itself has no network path to an instance; behind a proxy
// on the same host, the proxy must be trusted), and no Force.
func (g WriteGuard) protects() bool {
	a := g.Source.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsUnspecified() && !g.Force
}

// loginPort returns the login port of an instance of osType and its name.
func loginPort(osType string) (uint16, string) {
	if strings.EqualFold(osType, "windows") {
		return 3389, "remote desktop (TCP 3389)"
	}
	return 22, "SSH (TCP 22)"
}

// lockCase is one instance's groups before and after a write.
type lockCase struct {
	ins         store.Instance
	old, new    []store.GroupPolicies
	changedWhat string // the change, for the message: "policies of sg-…", "bindings"
}

// checkLockout refuses, inside the write's transaction, a change that
// would cut the guard's source from the login port of an instance whose
// ingress admits it now. Instances with the same groups before and after
// share one check.
func (s *Service) checkLockout(ctx context.Context, tx store.Tx, c Caller, cases []lockCase) error {
	g := guardOf(ctx)
	if !g.protects() || len(cases) == 0 {
		return nil
	}
	a, err := tx.GetAccount(ctx, c.AccountID)
	if err != nil {
		return err
	}
	src := g.Source.Unmap()
	type verdicts struct{ old, new eval.Decision }
	done := map[string]verdicts{}
	decide := func(ins store.Instance, groups []store.GroupPolicies, port uint16) (eval.Decision, error) {
		l, err := s.findingLists(ctx, tx, a, ins, groups, ResourceInstance)
		if err != nil {
			return eval.Decision{}, err
		}
		e, err := eval.CompileList(l.Ingress)
		if err != nil {
			return eval.Decision{}, fmt.Errorf("ingress of %s: %w", ins.ID, err)
		}
		return e.Decide(eval.Query{Peer: src, Proto: policy.NumTCP, Port: port}), nil
	}
	key := func(gs []store.GroupPolicies) string {
		ids := make([]string, len(gs))
		for i, g := range gs {
			ids[i] = fmt.Sprintf("%s@%d", g.ID, g.Policies.Version)
		}
		return strings.Join(ids, ",")
	}
	for _, lc := range cases {
		port, login := loginPort(lc.ins.OSType)
		k := fmt.Sprintf("%d|%s|%s", port, key(lc.old), key(lc.new))
		v, ok := done[k]
		if !ok {
			if v.old, err = decide(lc.ins, lc.old, port); err != nil {
				return err
			}
			if v.old.Verdict == policy.Accept {
				if v.new, err = decide(lc.ins, lc.new, port); err != nil {
					return err
				}
			}
			done[k] = v
		}
		if v.old.Verdict != policy.Accept || v.new.Verdict == policy.Accept {
			continue
		}
		return &Error{Kind: KindLockoutPrevented, Resource: ResourceInstance, ID: lc.ins.ID, Blockers: []string{lc.ins.ID},
			Message: fmt.Sprintf("the change of %s would cut %s from your address %s to %s: admitted now by %s, it would be dropped by %s; set Force to write it anyway",
				lc.changedWhat, login, src, lc.ins.ID, decisionText(v.old), decisionText(v.new))}
	}
	return nil
}

// decisionText names what made a decision: "sg-… policy 2", "the platform
// rule …" or "the default DROP (no policy matches)".
func decisionText(d eval.Decision) string {
	switch d.Layer {
	case rules.LayerSecurityGroup:
		return fmt.Sprintf("%s policy %d", d.GroupID, d.PolicyIndex)
	case rules.LayerPlatform:
		return "the platform rule " + d.Platform.String()
	}
	return "the default DROP (no policy matches)"
}

// groupLockCases returns the cases of a write of set to group g: every
// instance of the caller's bound to it, its groups with g's policies
// before and after.
func (s *Service) groupLockCases(ctx context.Context, tx store.Tx, c Caller, g store.Group, set policy.PolicySet) ([]lockCase, error) {
	if !guardOf(ctx).protects() {
		return nil, nil
	}
	ins, _, err := tx.ListInstances(ctx, store.InstanceFilter{AccountID: c.AccountID, Region: c.Region, GroupIDs: []string{g.ID}})
	if err != nil {
		return nil, err
	}
	seen := map[string]store.GroupPolicies{g.ID: {ID: g.ID, Policies: g.Policies}}
	var out []lockCase
	for _, in := range ins {
		old, err := s.boundGroups(ctx, tx, c, seen, in.GroupIDs)
		if err != nil {
			return nil, err
		}
		cur := slices.Clone(old)
		for i := range cur {
			if cur[i].ID == g.ID {
				cur[i].Policies = set
			}
		}
		out = append(out, lockCase{ins: in, old: old, new: cur, changedWhat: "the policies of " + g.ID})
	}
	return out, nil
}

// bindingKey carries the instances whose bindings a write changes.
type bindingKey struct{}

// guardedUpdate is the update the instance registry's writes run through:
// for a rebinding (the context names its instances), it reads their
// groups at the start of the transaction and, after the write, refuses a
// change that would cut the caller's login path (see checkLockout).
func (s *Service) guardedUpdate(ctx context.Context, fn func(store.Tx) error) error {
	rb, _ := ctx.Value(bindingKey{}).(rebind)
	c, ids := rb.caller, rb.ids
	if len(ids) == 0 || !guardOf(ctx).protects() {
		return s.update(ctx, fn)
	}
	return s.update(ctx, func(tx store.Tx) error {
		before := map[string][]store.GroupPolicies{}
		for _, id := range ids {
			_, gs, err := tx.GetAccountInstancePolicies(ctx, c.AccountID, c.Region, id)
			if err != nil {
				continue // the write itself reports an unknown instance
			}
			before[id] = gs
		}
		if err := fn(tx); err != nil {
			return err
		}
		var cases []lockCase
		for _, id := range ids {
			old, ok := before[id]
			if !ok {
				continue
			}
			ins, cur, err := tx.GetAccountInstancePolicies(ctx, c.AccountID, c.Region, id)
			if err != nil {
				return err
			}
			cases = append(cases, lockCase{ins: ins, old: old, new: cur, changedWhat: "the security groups bound to " + id})
		}
		return s.checkLockout(ctx, tx, c, cases)
	})
}

// rebind is a rebinding's caller and instances.
type rebind struct {
	caller Caller
	ids    []string
}

// rebinding returns ctx naming the instances and caller of a rebinding.
func rebinding(ctx context.Context, c Caller, ids []string) context.Context {
	return context.WithValue(ctx, bindingKey{}, rebind{caller: c, ids: slices.Clone(ids)})
}

// AssociateSecurityGroups binds the groups (see instances.Registry), with
// lockout protection.
func (s *Service) AssociateSecurityGroups(ctx context.Context, c Caller, in BindInput) error {
	return s.Registry.AssociateSecurityGroups(rebinding(ctx, c, in.InstanceIDs), c, in)
}

// DisassociateSecurityGroups unbinds the groups (see instances.Registry),
// with lockout protection.
func (s *Service) DisassociateSecurityGroups(ctx context.Context, c Caller, in BindInput) error {
	return s.Registry.DisassociateSecurityGroups(rebinding(ctx, c, in.InstanceIDs), c, in)
}

// ModifyInstancesAttribute renames instances or sets their groups (see
// instances.Registry), with lockout protection for the groups.
func (s *Service) ModifyInstancesAttribute(ctx context.Context, c Caller, in ModifyInstancesInput) error {
	if in.SecurityGroupIDs != nil {
		ctx = rebinding(ctx, c, in.InstanceIDs)
	}
	return s.Registry.ModifyInstancesAttribute(ctx, c, in)
}
