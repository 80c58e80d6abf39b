package cli

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// explainResult is explain's output: the verdict, the policy deciding
// (PolicyIndex absent for the implicit DROP), the trace, and the policies
// that cannot be resolved offline and might match the packet before the
// decider — which would then decide instead.
type explainResult struct {
	Verdict     string
	Layer       string
	PolicyIndex *int `json:",omitempty"`
	Trace       []string
	Unresolved  []int
	Warnings    []string
}

func newExplainCommand(g *globals) *cobra.Command {
	var format, direction, protocol, address string
	var port int64
	cmd := &cobra.Command{Use: "explain FILE --protocol P --port N --address PEER [--direction ingress|egress]",
		Short: "Which policy of an exported policy set decides a packet, with the trace, offline",
		Long: `Decide one packet against one group's exported policies (the files lint
reads), with no server: the deciding policy, or the implicit final DROP, and
the trace of every policy tried. The group is taken alone, without platform
rules or other groups. A policy using a template or a group reference cannot
be resolved offline: it is left out, and named when it comes before the
deciding policy and might match the packet.`,
		Example: `  palisade explain web.json --protocol tcp --port 22 --address 203.0.113.7
  palisade explain web.csv --direction egress --protocol udp --port 53 --address 10.0.0.2 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			d, err := policy.ParseDirection(direction)
			if err != nil {
				return fmt.Errorf("--direction %q: want ingress or egress", direction)
			}
			proto, err := policy.ParseProtocol(protocol)
			if err != nil {
				return fmt.Errorf("--protocol: %w", err)
			}
			num, ok := proto.Number()
			if !ok {
				return fmt.Errorf("--protocol %s: a packet has one protocol: TCP, UDP, ICMP, ICMPv6 or GRE", proto)
			}
			addr, err := netip.ParseAddr(strings.TrimSpace(address))
			if err != nil || addr.Zone() != "" {
				return fmt.Errorf("--address %q: not an IP address", address)
			}
			addr = addr.Unmap()
			if v4, v6 := proto.Families(); addr.Is4() && !v4 || addr.Is6() && !v6 {
				return fmt.Errorf("--address %s: %s is not a protocol of its address family", addr, proto)
			}
			var p16 uint16
			if proto.HasPorts() {
				if port < 1 || port > 65535 {
					return fmt.Errorf("--port %d: want 1-65535 for %s", port, proto)
				}
				p16 = uint16(port)
			}
			set, err := readOffline(cmd, "explain", args[0], format, time.Now())
			if err != nil {
				return err
			}
			eff, err := eval.CompileList(set.lists[d])
			if err != nil {
				return fmt.Errorf("explain %s: %w", args[0], err)
			}
			dec, lines := eff.Trace(eval.Query{Peer: addr, Proto: num, Port: p16})
			doc := explainResult{Verdict: dec.Verdict.String(), Layer: dec.Layer.String(), Trace: make([]string, len(lines)), Unresolved: []int{}, Warnings: []string{}}
			for i, l := range lines {
				doc.Trace[i] = strings.Replace(l, "SECURITY_GROUP:  policy", "SECURITY_GROUP: policy", 1)
			}
			if dec.Layer == rules.LayerSecurityGroup {
				doc.PolicyIndex = &dec.PolicyIndex
			}
			for _, u := range set.unresolved {
				if u.Direction != d || doc.PolicyIndex != nil && u.PolicyIndex > *doc.PolicyIndex || !mightMatch(u.Policy, addr, num, p16) {
					continue
				}
				doc.Unresolved = append(doc.Unresolved, u.PolicyIndex)
				doc.Warnings = append(doc.Warnings, fmt.Sprintf("%s policy %d (%s) comes first and %s: if it matches the packet, it decides instead",
					d.Field(), u.PolicyIndex, u.Policy.Describe(d), u.Reason))
			}
			return g.emit(cmd, doc, func(w io.Writer) error {
				where := doc.Layer
				if doc.PolicyIndex != nil {
					where = fmt.Sprintf("%s policy %d", d.Field(), *doc.PolicyIndex)
				}
				printDecision(w, doc.Verdict, where, doc.Trace, doc.Warnings)
				return nil
			})
		}}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "json, csv or xlsx (default: the file's extension)")
	f.StringVar(&direction, "direction", "ingress", "ingress (the peer is the source) or egress (the peer is the destination)")
	f.StringVar(&protocol, "protocol", "tcp", "TCP, UDP, ICMP, ICMPv6, GRE")
	f.StringVar(&address, "address", "", "the peer's IP address")
	f.Int64Var(&port, "port", 0, "destination port (TCP and UDP)")
	_ = cmd.MarkFlagRequired("address")
	return cmd
}

// mightMatch reports whether an unresolved policy might match the packet:
// what of it is known (its own protocol and ports, its CIDR) does.
func mightMatch(p *policy.Policy, addr netip.Addr, proto uint8, port uint16) bool {
	if p.ServiceID == "" {
		if !p.Protocol.Matches(proto, addr.Is6()) {
			return false
		}
		if (proto == policy.NumTCP || proto == policy.NumUDP) && p.Protocol.HasPorts() && !p.Ports.Contains(port) {
			return false
		}
	}
	if !p.Peer.IsReference() && !p.Peer.Prefix.Contains(addr) {
		return false
	}
	return true
}
