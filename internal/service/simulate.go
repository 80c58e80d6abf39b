package service

import (
	"context"
	"errors"
	"fmt"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"net/netip"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
)

// SimulateTraffic decides one packet for an instance through its effective
// rule list (platform rules, its groups in binding order, the default DROP),
// compiled by the evaluator and cached (see simCache).
func (s *Service) SimulateTraffic(ctx context.Context, c Caller, in SimulateInput) (Decision, error) {
	if err := s.base.Tenant(c, false); err != nil {
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
		return Decision{}, kernel.FieldError("Protocol", in.Protocol, policy.Malformed, "a packet has one protocol: TCP, UDP, ICMP, ICMPv6 or GRE")
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(in.Address))
	if err != nil || addr.Zone() != "" {
		return Decision{}, kernel.FieldError("Address", in.Address, policy.Malformed, "is not an IP address")
	}
	addr = addr.Unmap()
	if v4, v6 := proto.Families(); addr.Is4() && !v4 || addr.Is6() && !v6 {
		family, other := "IPv4", policy.ICMP
		if addr.Is6() {
			family, other = "IPv6", policy.ICMPv6
		}
		return Decision{}, kernel.FieldError("Address", in.Address, policy.Malformed, "is an %s address, and %s is not %s's protocol: use %s", family, proto, family, other)
	}
	var port uint16
	if proto.HasPorts() {
		switch {
		case in.Port == NoPort:
			return Decision{}, kernel.FieldError("Port", "", policy.Missing, "is required for %s", proto)
		case in.Port < 1 || in.Port > 65535:
			return Decision{}, kernel.FieldError("Port", fmt.Sprint(in.Port), policy.OutOfRange, "must be 1-65535 for %s", proto)
		}
		port = uint16(in.Port)
	}
	if err := kernel.CheckID("InstanceId", policy.PrefixInstance, in.InstanceID); err != nil {
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

	out := decision(verdict, nil)
	out.Trace = make([]string, 0, len(lines)+1)
	word, ports := "from", ""
	if d == policy.Egress {
		word = "to"
	}
	if proto.HasPorts() {
		ports = fmt.Sprintf(" port %d", port)
	}
	out.Trace = append(out.Trace, fmt.Sprintf("packet: %s %s%s %s %s, instance %s", d, proto, ports, word, addr, in.InstanceID))
	out.Trace = append(out.Trace, lines...)
	if proto.HasPorts() && slices.Contains(catalog.ISPBlocked(proto), port) {
		out.Warnings = append(out.Warnings, fmt.Sprintf("%s port %d is commonly blocked by ISPs; traffic across the Internet may not arrive", proto, port))
	}
	if verdict.Platform == rules.PlatformPort25 {
		out.Warnings = append(out.Warnings, rules.Port25Rule()+" is blocked by the platform; UnblockPort25 lifts the block for the account")
	}
	return out, nil
}

// decision is the answer for the evaluator's verdict and its trace lines,
// as SimulateTraffic and the group legs of CheckReachability give it.
func decision(verdict eval.Decision, trace []string) Decision {
	out := Decision{Verdict: verdict.Verdict, Trace: trace}
	switch verdict.Layer {
	case rules.LayerPlatform:
		out.Layer = LayerPlatform
	case rules.LayerSecurityGroup:
		idx := verdict.PolicyIndex
		out.Layer, out.SecurityGroupID, out.PolicyIndex = LayerSecurityGroup, verdict.GroupID, &idx
	default:
		out.Layer = LayerDefault
	}
	return out
}

// simulation returns the instance's compiled effective lists, from the
// cache when nothing they depend on has changed since they were compiled.
func (s *Service) simulation(ctx context.Context, c Caller, id string) (*simEntry, error) {
	var out *simEntry
	err := s.view(ctx, func(tx store.Tx) error {
		// The cached lists, if the feed since they were last found valid
		// holds nothing they depend on: a read of the feed's head (with the
		// account and the platform addresses, which resolving again needs,
		// in the same statement), and of the entries after those the
		// cache's tail of the feed holds. An entry holding a policy that
		// has expired since is stale whatever the feed says: the sweeper
		// may not have removed it yet.
		a, head, platform, err := tx.ResolveAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		prev := s.cache.get(id, c.AccountID, c.Region)
		if e := prev; e != nil && (e.expires.IsZero() || s.now().Before(e.expires)) {
			changes, ok, err := s.cache.tail.since(ctx, tx, e.revision, head, c.AccountID)
			switch {
			case err == nil:
				if ok {
					if out = s.cache.valid(e, head, changes); out != nil {
						return nil
					}
				}
			case !errors.Is(err, store.ErrCompacted):
				return err
			}
		}
		// The lookup by id, account and region answers another account's
		// instance exactly as a missing one.
		in, groups, err := tx.GetAccountInstancePolicies(ctx, c.AccountID, c.Region, id)
		if errors.Is(err, store.ErrNotFound) {
			e := kernel.NotFound(ResourceInstance, id)
			e.Field = "InstanceId"
			return e
		}
		if err != nil {
			return err
		}
		if out, err = s.resolve(ctx, tx, a, in, groups, platform, prev); err != nil {
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
// the instances bound to the groups its groups' policies reference and the
// templates they use — and compiles both directions. groups are the
// instance's groups in binding order, platform the stored platform
// addresses. Stored data that does not resolve refuses the lists
// (KindUnresolvable). prev, the instance's lists compiled before (nil:
// none), lends what it compiled of the entries the lists end with
// unchanged (see eval.CompileListFrom).
func (s *Service) resolve(ctx context.Context, tx store.Tx, a store.Account, ins store.Instance, groups []store.GroupPolicies, platform []string, prev *simEntry) (*simEntry, error) {
	lists, err := resolve.BuildWithPlatform(ctx, tx, a, ins, groups, platform, s.now(), s.prefixes)
	var re *resolve.Error
	if errors.As(err, &re) {
		return nil, &Error{Kind: KindUnresolvable, Resource: ResourceInstance, ID: ins.ID, Message: re.Summary(maxProblems)}
	}
	if err != nil {
		return nil, err
	}
	e := &simEntry{expires: lists.Expires, deps: lists.Deps}
	var ingress, egress *eval.Effective
	if prev != nil {
		ingress, egress = prev.ingress, prev.egress
	}
	if e.ingress, err = eval.CompileListFrom(ingress, lists.Ingress); err != nil {
		return nil, fmt.Errorf("effective %s rules of %s: %w", policy.Ingress, ins.ID, err)
	}
	if e.egress, err = eval.CompileListFrom(egress, lists.Egress); err != nil {
		return nil, fmt.Errorf("effective %s rules of %s: %w", policy.Egress, ins.ID, err)
	}
	return e, nil
}

// maxProblems is how many problems of unresolvable stored data an error
// message names.
const maxProblems = 3
