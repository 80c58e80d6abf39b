package api

import (
	"fmt"
	"strconv"
	"strings"

	"go4.org/netipx"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

func (h *handler) checkReachability(c *call, req *wire.CheckReachabilityRequest) (any, error) {
	src, err := requireString("Source", req.Source)
	if err != nil {
		return nil, err
	}
	dst, err := requireString("Destination", req.Destination)
	if err != nil {
		return nil, err
	}
	proto, err := requireString("Protocol", req.Protocol)
	if err != nil {
		return nil, err
	}
	in := service.ReachInput{Source: src, Destination: dst, Protocol: proto, Port: service.NoPort,
		SourceGuestFirewall: str(req.SourceGuestFirewall), DestinationGuestFirewall: str(req.DestinationGuestFirewall)}
	if in.Port, err = optionalPort(req.Port); err != nil {
		return nil, err
	}
	r, err := h.svc.CheckReachability(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	out := wire.CheckReachabilityResponse{Answer: string(r.Answer), BlockingLeg: string(r.Blocking), Source: r.Source, Destination: r.Destination,
		Legs: make([]wire.ReachabilityLeg, 0, len(r.Legs)), Warnings: nonNil(r.Warnings)}
	for _, l := range r.Legs {
		w := wire.ReachabilityLeg{Kind: string(l.Kind), Verdict: string(l.Verdict), Notes: nonNil(l.Notes)}
		if d := l.Decision; d != nil {
			w.Layer, w.SecurityGroupId, w.PolicyIndex, w.Trace = string(d.Layer), d.SecurityGroupID, d.PolicyIndex, nonNil(d.Trace)
		}
		if f := l.Firewall; f != nil {
			line := f.Line
			w.GuestLine, w.GuestText = &line, f.Text
			for _, s := range f.Path {
				w.GuestPath = append(w.GuestPath, s.String())
			}
			for _, n := range f.Notes {
				w.GuestNotes = append(w.GuestNotes, n.String())
			}
		}
		out.Legs = append(out.Legs, w)
	}
	return out, nil
}

func (h *handler) previewSecurityGroupChange(c *call, req *wire.PreviewSecurityGroupChangeRequest) (any, error) {
	in := service.PreviewInput{SecurityGroupID: str(req.SecurityGroupId), InstanceID: str(req.InstanceId), SecurityGroupIDs: strs(req.SecurityGroupIds)}
	if req.SecurityGroupPolicySet != nil {
		set, err := policySetInput("SecurityGroupPolicySet", req.SecurityGroupPolicySet)
		if err != nil {
			return nil, err
		}
		in.Set = &set
	}
	if in.SecurityGroupID == "" && in.InstanceID == "" {
		return nil, missing("SecurityGroupId")
	}
	p, err := h.svc.PreviewSecurityGroupChange(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	out := wire.PreviewSecurityGroupChangeResponse{InstanceSet: make([]wire.InstanceTrafficChange, 0, len(p.Instances)),
		TotalCount: uint64(len(p.Instances)), UnchangedCount: uint64(p.Unchanged)}
	// Instances of the same lists share their changes: convert each once.
	conv := map[*service.TrafficChange][]wire.TrafficRegion{}
	regions := func(cs []service.TrafficChange) []wire.TrafficRegion {
		if len(cs) == 0 {
			return []wire.TrafficRegion{}
		}
		if w, ok := conv[&cs[0]]; ok {
			return w
		}
		w := make([]wire.TrafficRegion, len(cs))
		for i, c := range cs {
			w[i] = TrafficRegionToWire(c)
		}
		conv[&cs[0]] = w
		return w
	}
	for _, ip := range p.Instances {
		out.InstanceSet = append(out.InstanceSet, wire.InstanceTrafficChange{InstanceId: ip.InstanceID,
			IngressGains: regions(ip.Ingress.Gains), IngressLosses: regions(ip.Ingress.Losses),
			EgressGains: regions(ip.Egress.Gains), EgressLosses: regions(ip.Egress.Losses)})
	}
	return out, nil
}

// TrafficRegionToWire returns a region gained or lost in the API's form.
func TrafficRegionToWire(c service.TrafficChange) wire.TrafficRegion {
	g := c.Region
	w := wire.TrafficRegion{Protocol: protocolsText(g.ProtoLo, g.ProtoHi), ProtocolFrom: int(g.ProtoLo), ProtocolTo: int(g.ProtoHi),
		AddressFrom: g.AddrLo.String(), AddressTo: g.AddrHi.String(), Cidrs: []string{}}
	if ports := g.ProtoLo == policy.NumTCP || g.ProtoLo == policy.NumUDP; ports {
		lo, hi := int(g.PortLo), int(g.PortHi)
		w.PortFrom, w.PortTo = &lo, &hi
	}
	for _, p := range netipx.IPRangeFrom(g.AddrLo, g.AddrHi).Prefixes() {
		w.Cidrs = append(w.Cidrs, p.String())
	}
	switch c.Origin.Layer {
	case rules.LayerSecurityGroup:
		i := c.Origin.PolicyIndex
		w.SecurityGroupId, w.PolicyIndex = c.Origin.GroupID, &i
	case rules.LayerPlatform:
		w.Platform = c.Origin.Platform.String()
	}
	return w
}

// protocolsText names the protocols lo to hi of a region: TCP, UDP or
// TCP,UDP in the slices with ports; otherwise the numbers as ranges,
// without TCP's and UDP's (which the slice does not hold).
func protocolsText(lo, hi uint8) string {
	if lo == policy.NumTCP || lo == policy.NumUDP {
		switch {
		case lo == hi && lo == policy.NumTCP:
			return "TCP"
		case lo == hi:
			return "UDP"
		}
		return "TCP,UDP"
	}
	var parts []string
	start := -1
	for p := int(lo); p <= int(hi)+1; p++ {
		in := p <= int(hi) && p != int(policy.NumTCP) && p != int(policy.NumUDP)
		switch {
		case in && start < 0:
			start = p
		case !in && start >= 0:
			if start == p-1 {
				parts = append(parts, fmt.Sprint(start))
			} else {
				parts = append(parts, fmt.Sprintf("%d-%d", start, p-1))
			}
			start = -1
		}
	}
	return strings.Join(parts, ",")
}

func (h *handler) confirmSecurityGroupChange(c *call, req *wire.ConfirmSecurityGroupChangeRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	n, err := requireVersion("Version", req.Version)
	if err != nil {
		return nil, err
	}
	if err := h.svc.ConfirmSecurityGroupChange(c.ctx, c.caller, service.ConfirmInput{SecurityGroupID: strings.TrimSpace(id), Version: n}); err != nil {
		return nil, err
	}
	return wire.ConfirmSecurityGroupChangeResponse{SecurityGroupId: strings.TrimSpace(id), Version: strconv.FormatUint(n, 10)}, nil
}
