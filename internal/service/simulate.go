package service

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// effRule is one policy of an instance's effective rule list, with its
// references resolved.
type effRule struct {
	groupID  string
	index    int
	action   policy.Action
	text     string
	services []ServiceEntry // empty: matches no protocol (an empty template)
	prefix   netip.Prefix   // for CIDR peers
	set      *netipx.IPSet  // for group and template peers
}

func (r *effRule) matches(num uint8, is6 bool, port uint16, addr netip.Addr) bool {
	svc := false
	for _, s := range r.services {
		if s.Protocol.Matches(num, is6) && (!s.Protocol.HasPorts() || s.Ports.All() || s.Ports.Contains(port)) {
			svc = true
			break
		}
	}
	if !svc {
		return false
	}
	if r.set != nil {
		return r.set.Contains(addr)
	}
	return r.prefix.Contains(addr)
}

// compiled is an instance's resolved effective rule list in one direction
// pair, valid for one revision of its account.
type compiled struct {
	revision      int64
	instance      store.Instance
	port25Blocked bool
	platform      []netip.Prefix
	ingress       []effRule
	egress        []effRule
}

// simCache keeps compiled lists per instance; an entry is valid while its
// account's revision is unchanged.
type simCache struct {
	mu sync.Mutex
	m  map[string]*compiled
}

func newSimCache() *simCache { return &simCache{m: map[string]*compiled{}} }

func (c *simCache) get(id string, rev int64) *compiled {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[id]; e != nil && e.revision == rev {
		return e
	}
	return nil
}

func (c *simCache) put(id string, e *compiled) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 100_000 {
		clear(c.m)
	}
	c.m[id] = e
}

// SimulateTraffic decides one packet for an instance through its effective
// rule list: platform rules, its groups in binding order, the default DROP.
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
	comp, err := s.compiledFor(ctx, c, in.InstanceID)
	if err != nil {
		return Decision{}, err
	}
	return decide(comp, d, proto, num, addr, port), nil
}

func (s *Service) compiledFor(ctx context.Context, c Caller, id string) (*compiled, error) {
	var out *compiled
	err := s.view(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		if e := s.cache.get(id, a.Revision); e != nil && e.instance.AccountID == c.AccountID && e.instance.Region == c.Region {
			out = e
			return nil
		}
		in, err := s.loadInstance(ctx, tx, c.AccountID, c.Region, "InstanceId", id)
		if err != nil {
			return err
		}
		out, err = s.compile(ctx, tx, a, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cache.put(id, out)
	return out, nil
}

// compile resolves an instance's effective rule list.
func (s *Service) compile(ctx context.Context, tx store.Tx, a store.Account, in store.Instance) (*compiled, error) {
	plat, err := s.platformAddresses(ctx, tx)
	if err != nil {
		return nil, err
	}
	out := &compiled{revision: a.Revision, instance: in, port25Blocked: !a.Port25Unblocked, platform: plat}
	r := resolver{s: s, tx: tx, ctx: ctx, sets: map[string]*netipx.IPSet{}, svcs: map[string][]ServiceEntry{}}
	for _, gid := range in.GroupIDs {
		g, err := tx.GetGroup(ctx, gid)
		if err != nil {
			return nil, err
		}
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			for i, p := range g.Policies.List(d) {
				rule, err := r.rule(g.ID, i, d, p)
				if err != nil {
					return nil, err
				}
				if d == policy.Ingress {
					out.ingress = append(out.ingress, rule)
				} else {
					out.egress = append(out.egress, rule)
				}
			}
		}
	}
	return out, nil
}

type resolver struct {
	s    *Service
	tx   store.Tx
	ctx  context.Context
	sets map[string]*netipx.IPSet
	svcs map[string][]ServiceEntry
}

func (r *resolver) rule(groupID string, index int, d policy.Direction, p policy.Policy) (effRule, error) {
	out := effRule{groupID: groupID, index: index, action: p.Action, text: p.Describe(d)}
	if p.ServiceID != "" {
		svcs, err := r.services(p.ServiceID)
		if err != nil {
			return out, err
		}
		out.services = svcs
	} else {
		out.services = []ServiceEntry{{Protocol: p.Protocol, Ports: p.Ports}}
	}
	if p.Peer.IsReference() {
		set, err := r.addresses(p.Peer)
		if err != nil {
			return out, err
		}
		out.set = set
	} else {
		out.prefix = p.Peer.Prefix
	}
	return out, nil
}

// addresses resolves a group reference (private addresses of every
// instance bound to it) or an address template (group).
func (r *resolver) addresses(peer policy.Peer) (*netipx.IPSet, error) {
	if set, ok := r.sets[peer.ID]; ok {
		return set, nil
	}
	var b netipx.IPSetBuilder
	switch peer.Kind {
	case policy.PeerSecurityGroup:
		ins, _, err := r.tx.ListInstances(r.ctx, store.InstanceFilter{GroupIDs: []string{peer.ID}})
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			if InstanceState(in.State) == StateTerminated {
				continue
			}
			for _, a := range append(append([]string(nil), in.PrivateIPs...), in.IPv6s...) {
				if ip, err := netip.ParseAddr(a); err == nil {
					b.Add(ip)
				}
			}
		}
	default:
		ids := []string{peer.ID}
		if peer.Kind == policy.PeerAddressTemplateGroup {
			t, err := r.tx.GetTemplate(r.ctx, peer.ID)
			if err != nil {
				return nil, err
			}
			ids = memberIDs(t.Entries)
		}
		for _, id := range ids {
			t, err := r.tx.GetTemplate(r.ctx, id)
			if err != nil {
				return nil, err
			}
			for _, e := range t.Entries {
				if rg, err := ParseAddressEntry(e.Value); err == nil {
					b.AddRange(rg)
				}
			}
		}
	}
	set, err := b.IPSet()
	if err != nil {
		return nil, err
	}
	r.sets[peer.ID] = set
	return set, nil
}

func (r *resolver) services(id string) ([]ServiceEntry, error) {
	if svcs, ok := r.svcs[id]; ok {
		return svcs, nil
	}
	ids := []string{id}
	if strings.HasPrefix(id, policy.PrefixServiceTemplateGroup) {
		t, err := r.tx.GetTemplate(r.ctx, id)
		if err != nil {
			return nil, err
		}
		ids = memberIDs(t.Entries)
	}
	var out []ServiceEntry
	for _, mid := range ids {
		t, err := r.tx.GetTemplate(r.ctx, mid)
		if err != nil {
			return nil, err
		}
		for _, e := range t.Entries {
			if se, err := ParseServiceEntry(e.Value); err == nil {
				out = append(out, se)
			}
		}
	}
	r.svcs[id] = out
	return out, nil
}

// decide walks the effective list: platform rules, groups, default DROP.
func decide(c *compiled, d policy.Direction, proto policy.Protocol, num uint8, addr netip.Addr, port uint16) Decision {
	is6 := addr.Is6()
	var out Decision
	packet := fmt.Sprintf("%s %s", d, proto)
	if proto.HasPorts() {
		packet += fmt.Sprintf(" port %d", port)
	}
	word := "from"
	if d == policy.Egress {
		word = "to"
	}
	packet += fmt.Sprintf(" %s %s", word, addr)
	out.Trace = append(out.Trace, fmt.Sprintf("packet: %s, instance %s", packet, c.instance.ID))
	for _, p := range ispBlockedPorts(proto) {
		if proto.HasPorts() && p == port {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s port %d is commonly blocked by ISPs; traffic across the Internet may not arrive", proto, port))
		}
	}
	// Layer 1: platform.
	if d == policy.Egress && proto == policy.TCP && port == 25 {
		if c.port25Blocked {
			out.Trace = append(out.Trace, "PLATFORM: outbound TCP 25 is blocked for the account: DROP")
			out.Warnings = append(out.Warnings, "outbound TCP 25 is blocked by the platform; UnblockPort25 lifts the block for the account")
			out.Verdict, out.Layer = policy.Drop, LayerPlatform
			return out
		}
		out.Trace = append(out.Trace, "PLATFORM: outbound TCP 25 block lifted for the account")
	}
	for _, p := range c.platform {
		if p.Contains(addr) {
			out.Trace = append(out.Trace, fmt.Sprintf("PLATFORM: %s is a platform service address (%s): ACCEPT", addr, p))
			out.Verdict, out.Layer = policy.Accept, LayerPlatform
			return out
		}
	}
	out.Trace = append(out.Trace, "PLATFORM: no platform rule matches")
	// Layer 2: groups in binding order.
	list := c.ingress
	if d == policy.Egress {
		list = c.egress
	}
	if len(c.instance.GroupIDs) == 0 {
		out.Trace = append(out.Trace, "SECURITY_GROUP: the instance has no security groups")
	}
	for i := range list {
		r := &list[i]
		if r.matches(num, is6, port, addr) {
			out.Trace = append(out.Trace, fmt.Sprintf("SECURITY_GROUP: %s %s policy %d (%s) matches: %s", r.groupID, d.Field(), r.index, r.text, r.action))
			idx := r.index
			out.Verdict, out.Layer, out.SecurityGroupID, out.PolicyIndex = r.action, LayerSecurityGroup, r.groupID, &idx
			return out
		}
		out.Trace = append(out.Trace, fmt.Sprintf("SECURITY_GROUP: %s %s policy %d (%s): no match", r.groupID, d.Field(), r.index, r.text))
	}
	out.Trace = append(out.Trace, "DEFAULT: no policy matches: DROP")
	out.Verdict, out.Layer = policy.Drop, LayerDefault
	return out
}
