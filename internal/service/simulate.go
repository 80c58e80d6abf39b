package service

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// SimulateTraffic decides one packet for an instance through its effective
// rule list (platform rules, its groups in binding order, the default DROP),
// compiled by the evaluator and cached (see simCache).
func (s *Service) SimulateTraffic(ctx context.Context, c Caller, in SimulateInput) (Decision, error) {
	if err := s.tenant(c, false); err != nil {
		return Decision{}, err
	}
	d, err := policy.ParseDirection(in.Direction)
	if err != nil {
		return Decision{}, err
	}
	proto, err := policy.ParseProtocol(in.Protocol)
	if err != nil {
		return Decision{}, err
	}
	num, ok := proto.Number()
	if !ok {
		return Decision{}, fieldError("Protocol", in.Protocol, policy.Malformed, "a packet has one protocol: TCP, UDP, ICMP, ICMPv6 or GRE")
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(in.Address))
	if err != nil || addr.Zone() != "" {
		return Decision{}, fieldError("Address", in.Address, policy.Malformed, "is not an IP address")
	}
	addr = addr.Unmap()
	var port uint16
	if proto.HasPorts() {
		if in.Port < 1 || in.Port > 65535 {
			return Decision{}, fieldError("Port", fmt.Sprint(in.Port), policy.OutOfRange, "must be 1-65535 for %s", proto)
		}
		port = uint16(in.Port)
	}
	if err := checkID("InstanceId", policy.PrefixInstance, in.InstanceID); err != nil {
		return Decision{}, err
	}
	e, err := s.simulation(ctx, c, in.InstanceID)
	if err != nil {
		return Decision{}, err
	}
	list := e.ingress
	if d == policy.Egress {
		list = e.egress
	}
	verdict, lines := list.Trace(eval.Query{Peer: addr, Proto: num, Port: port})

	out := Decision{Verdict: verdict.Verdict, Trace: make([]string, 0, len(lines)+1)}
	switch verdict.Layer {
	case eval.LayerPlatform:
		out.Layer = LayerPlatform
	case eval.LayerSecurityGroup:
		idx := verdict.PolicyIndex
		out.Layer, out.SecurityGroupID, out.PolicyIndex = LayerSecurityGroup, verdict.GroupID, &idx
	default:
		out.Layer = LayerDefault
	}
	word, ports := "from", ""
	if d == policy.Egress {
		word = "to"
	}
	if proto.HasPorts() {
		ports = fmt.Sprintf(" port %d", port)
	}
	out.Trace = append(out.Trace, fmt.Sprintf("packet: %s %s%s %s %s, instance %s", d, proto, ports, word, addr, in.InstanceID))
	out.Trace = append(out.Trace, lines...)
	if proto.HasPorts() && slices.Contains(ispBlockedPorts(proto), port) {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s port %d is commonly blocked by ISPs; traffic across the Internet may not arrive", proto, port))
	}
	if d == policy.Egress && proto == policy.TCP && port == 25 && verdict.Layer == eval.LayerPlatform && verdict.Verdict == policy.Drop {
		out.Warnings = append(out.Warnings, "outbound TCP 25 is blocked by the platform; UnblockPort25 lifts the block for the account")
	}
	return out, nil
}

// simulation returns the instance's compiled effective lists, from the
// cache when nothing they depend on has changed since they were compiled.
func (s *Service) simulation(ctx context.Context, c Caller, id string) (*simEntry, error) {
	var out *simEntry
	err := s.view(ctx, func(tx store.Tx) error {
		// The cached lists, if the feed since they were last found valid
		// holds nothing they depend on: one read.
		var head int64
		if e := s.cache.get(id, c.AccountID, c.Region); e != nil {
			h, changes, err := tx.Changes(ctx, e.revision, c.AccountID, simChanges)
			switch {
			case err == nil:
				if out = s.cache.valid(e, h, changes); out != nil {
					return nil
				}
			case !errors.Is(err, store.ErrCompacted):
				return err
			}
			head = h
		} else {
			var err error
			if head, err = tx.Revision(ctx); err != nil {
				return err
			}
		}
		a, err := tx.GetAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		in, groups, err := tx.GetInstancePolicies(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && (in.AccountID != c.AccountID && c.AccountID != "" || in.Region != c.Region) {
			e := notFound(ResourceInstance, id)
			e.Field = "InstanceId"
			return e
		}
		if err != nil {
			return err
		}
		if out, err = s.resolve(ctx, tx, a, in, groups); err != nil {
			return err
		}
		out.revision = head
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.cache.put(out)
	return out, nil
}

// resolve reads everything else an instance's effective lists depend on —
// the instances bound to the groups its groups' policies reference, the
// templates they use and the platform addresses — and compiles both
// directions. groups are the instance's groups in binding order.
func (s *Service) resolve(ctx context.Context, tx store.Tx, a store.Account, ins store.Instance, groups []store.GroupPolicies) (*simEntry, error) {
	plat, err := s.platformAddresses(ctx, tx)
	if err != nil {
		return nil, err
	}
	e := &simEntry{deps: simDeps{account: a.ID, region: ins.Region, instance: ins.ID, groups: slices.Clone(ins.GroupIDs)}}
	r := resolution{addresses: map[string][]netip.Prefix{}, services: map[string][]eval.Service{}}
	var sgRefs, addrRefs, svcRefs []string
	for _, g := range groups {
		for _, ps := range [][]policy.Policy{g.Policies.Ingress, g.Policies.Egress} {
			for _, p := range ps {
				switch {
				case p.Peer.Kind == policy.PeerSecurityGroup:
					sgRefs = appendNew(sgRefs, p.Peer.ID)
				case p.Peer.IsReference():
					addrRefs = appendNew(addrRefs, p.Peer.ID)
				}
				if p.ServiceID != "" {
					svcRefs = appendNew(svcRefs, p.ServiceID)
				}
			}
		}
	}
	if err := r.members(ctx, tx, sgRefs, &e.deps); err != nil {
		return nil, err
	}
	if err := r.templates(ctx, tx, addrRefs, svcRefs, &e.deps); err != nil {
		return nil, err
	}
	for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
		in := eval.EffectiveInput{
			Direction:         d,
			Port25Blocked:     !a.Port25Unblocked,
			PlatformAddresses: plat,
			Groups:            make([]eval.BoundGroup, len(groups)),
			Addresses:         r.addresses,
			Services:          r.services,
		}
		for i, g := range groups {
			in.Groups[i] = eval.BoundGroup{ID: g.ID, Policies: g.Policies.List(d)}
		}
		list, err := eval.CompileEffective(in)
		if err != nil {
			return nil, fmt.Errorf("effective %s rules of %s: %w", d, ins.ID, err)
		}
		if d == policy.Ingress {
			e.ingress = list
		} else {
			e.egress = list
		}
	}
	return e, nil
}

// resolution is what an instance's policies refer to, as the evaluator
// takes it.
type resolution struct {
	addresses map[string][]netip.Prefix
	services  map[string][]eval.Service
}

// members resolves referenced groups to the private addresses of the
// instances bound to them, except terminated ones, in one read, and records
// the instances read.
func (r *resolution) members(ctx context.Context, tx store.Tx, refs []string, deps *simDeps) error {
	for _, id := range refs {
		r.addresses[id] = []netip.Prefix{}
	}
	deps.refs = slices.Clone(refs)
	if len(refs) == 0 {
		return nil
	}
	list, err := tx.ListMembers(ctx, refs)
	if err != nil {
		return err
	}
	for _, m := range list {
		deps.members = append(deps.members, m.InstanceID)
		if InstanceState(m.State) == StateTerminated {
			continue
		}
		for _, ips := range [][]string{m.PrivateIPs, m.IPv6s} {
			for _, s := range ips {
				if a, err := netip.ParseAddr(s); err == nil {
					r.addresses[m.GroupID] = append(r.addresses[m.GroupID], netip.PrefixFrom(a, a.BitLen()))
				}
			}
		}
	}
	slices.Sort(deps.members)
	deps.members = slices.Compact(deps.members)
	return nil
}

// templates resolves address and service templates and template groups in
// one read, and records every template used, members of template groups
// included. A template that no longer exists resolves to nothing.
func (r *resolution) templates(ctx context.Context, tx store.Tx, addrRefs, svcRefs []string, deps *simDeps) error {
	if len(addrRefs)+len(svcRefs) == 0 {
		return nil
	}
	list, err := tx.ResolveTemplates(ctx, slices.Concat(addrRefs, svcRefs))
	if err != nil {
		return err
	}
	byID := make(map[string]*store.Template, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	// entries returns the entries of a template, or of every member of a
	// template group.
	entries := func(id string, group bool) []store.TemplateEntry {
		deps.templates = append(deps.templates, id)
		t := byID[id]
		if t == nil {
			return nil
		}
		if !group {
			return t.Entries
		}
		var out []store.TemplateEntry
		for _, m := range t.Entries {
			deps.templates = append(deps.templates, m.Value)
			if mt := byID[m.Value]; mt != nil {
				out = append(out, mt.Entries...)
			}
		}
		return out
	}
	for _, id := range addrRefs {
		ps := []netip.Prefix{}
		for _, e := range entries(id, strings.HasPrefix(id, policy.PrefixAddressTemplateGroup)) {
			if rg, err := policy.ParseAddressEntry(e.Value); err == nil {
				ps = append(ps, rg.Prefixes()...)
			}
		}
		r.addresses[id] = ps
	}
	for _, id := range svcRefs {
		svcs := []eval.Service{}
		for _, e := range entries(id, strings.HasPrefix(id, policy.PrefixServiceTemplateGroup)) {
			if se, err := policy.ParseServiceEntry(e.Value); err == nil {
				svcs = append(svcs, eval.Service{Protocol: se.Protocol, Ports: se.Ports})
			}
		}
		r.services[id] = svcs
	}
	slices.Sort(deps.templates)
	deps.templates = slices.Compact(deps.templates)
	return nil
}

// appendNew appends id to ids unless it is there.
func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
