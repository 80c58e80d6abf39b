package policy

import (
	"net/netip"
	"strings"
	"testing"
)

// validateByRoundTrip is the definition Validate implements: a valid peer,
// a protocol and ports or a service template id as ParseRaw stores it, and
// a Raw form ParseRaw accepts.
func validateByRoundTrip(p Policy) bool {
	if !p.Peer.IsValid() || p.ServiceID == "" && (!p.Protocol.Valid() || !p.Ports.IsValid()) || strings.TrimSpace(p.ServiceID) != p.ServiceID {
		return false
	}
	_, err := ParseRaw(p.Raw())
	return err == nil
}

// TestValidateAgreesWithParseRaw checks Validate on every combination of
// valid and invalid fields.
func TestValidateAgreesWithParseRaw(t *testing.T) {
	peers := []Peer{
		{Kind: PeerCIDR, Prefix: netip.MustParsePrefix("10.0.0.0/8")},
		{Kind: PeerCIDR, Prefix: netip.MustParsePrefix("10.1.2.3/8")},
		{Kind: PeerCIDR, Prefix: netip.MustParsePrefix("0.0.0.0/0")},
		{Kind: PeerCIDR, Prefix: netip.MustParsePrefix("2001:db8::/32")},
		{Kind: PeerCIDR, Prefix: netip.MustParsePrefix("10.0.0.0/8"), ID: "sg-12345678"},
		{Kind: PeerCIDR},
		{Kind: PeerCIDR6, Prefix: netip.MustParsePrefix("2001:db8::/32")},
		{Kind: PeerCIDR6, Prefix: netip.MustParsePrefix("::ffff:10.0.0.1/128")},
		{Kind: PeerCIDR6, Prefix: netip.MustParsePrefix("10.0.0.0/8")},
		{Kind: PeerSecurityGroup, ID: "sg-12345678"},
		{Kind: PeerSecurityGroup, ID: "sg-1234567"},
		{Kind: PeerSecurityGroup, ID: "ipm-12345678"},
		{Kind: PeerAddressTemplate, ID: "ipm-12345678"},
		{Kind: PeerAddressTemplateGroup, ID: "ipmg-12345678"},
		{Kind: PeerAddressTemplateGroup, ID: "ipmg-ABCDEFGH"},
		{},
		{Kind: 9, ID: "sg-12345678"},
	}
	services := []string{"", "ppm-12345678", "ppmg-12345678", "ppm-1234", "ppmg-ABCDEFGH", "xyz-12345678", "ppmg-12345678 "}
	protocols := []Protocol{0, TCP, UDP, ICMP, ICMPv6, GRE, AnyProtocol, 99}
	portSets := []PortSet{{}, AllPorts(), Ports(PortRange{80, 80}), Ports(PortRange{80, 90}, PortRange{443, 443})}
	actions := []Action{0, Accept, Drop, 7}
	descriptions := []string{"", "web", strings.Repeat("é", MaxDescriptionLen), strings.Repeat("é", MaxDescriptionLen+1), "bad \xff"}
	n := 0
	for _, peer := range peers {
		for _, svc := range services {
			for _, proto := range protocols {
				for _, ports := range portSets {
					for _, action := range actions {
						for _, desc := range descriptions {
							p := Policy{Protocol: proto, Ports: ports, ServiceID: svc, Peer: peer, Action: action, Description: desc}
							want := validateByRoundTrip(p)
							if err := p.Validate(); (err == nil) != want {
								t.Fatalf("Validate(%+v) = %v, want valid %v", p, err, want)
							}
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d policies", n)
}
