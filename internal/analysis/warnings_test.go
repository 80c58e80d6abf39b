package analysis_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

const (
	WarningISPBlockedPort = analysis.WarningISPBlockedPort
	WarningPort25Blocked  = analysis.WarningPort25Blocked
	WarningExposedPort    = analysis.WarningExposedPort
	WarningWidenedCIDR    = analysis.WarningWidenedCIDR
)

// TestPolicyWarnings checks the warning table: direction × action × protocol ×
// ports × peer × the account's port 25 block, for plain policies and for
// the entries of a service template.
func TestPolicyWarnings(t *testing.T) {
	svc := func(proto, ports string) rules.Service {
		return rules.Service{Protocol: policy.MustParseProtocol(proto), Ports: policy.MustParsePortSet(ports)}
	}
	const allSensitive = "22,3389,3306,1433,6379,5432,27017,9200,11211,23,445,2375"
	tests := []struct {
		name    string
		dir     policy.Direction
		rule    string            // "ACTION PROTOCOL PORTS PEER", or "ACTION ppm-… PEER" with svcs
		svcs    []rules.Service   // the template's entries, for a template rule
		blocked bool              // the account's outbound TCP 25 block
		want    []string          // codes, in order
		message map[string]string // a code's message contains
	}{
		// Outbound TCP 25.
		{name: "egress TCP 25 blocked", dir: policy.Egress, rule: "ACCEPT TCP 25 0.0.0.0/0", blocked: true, want: []string{WarningPort25Blocked}},
		{name: "egress TCP 25 unblocked", dir: policy.Egress, rule: "ACCEPT TCP 25 0.0.0.0/0"},
		{name: "egress TCP range with 25", dir: policy.Egress, rule: "ACCEPT TCP 20-30 10.0.0.0/8", blocked: true, want: []string{WarningPort25Blocked}},
		{name: "egress TCP list with 25", dir: policy.Egress, rule: "ACCEPT TCP 80,25 10.0.0.0/8", blocked: true, want: []string{WarningPort25Blocked}},
		{name: "egress TCP ALL blocked", dir: policy.Egress, rule: "ACCEPT TCP ALL 0.0.0.0/0", blocked: true, want: []string{WarningPort25Blocked}},
		{name: "egress ALL ALL blocked", dir: policy.Egress, rule: "ACCEPT ALL ALL 0.0.0.0/0", blocked: true, want: []string{WarningPort25Blocked}},
		{name: "egress ALL ALL IPv6 blocked", dir: policy.Egress, rule: "ACCEPT ALL ALL ::/0", blocked: true, want: []string{WarningPort25Blocked}},
		{name: "egress ALL ALL unblocked", dir: policy.Egress, rule: "ACCEPT ALL ALL 0.0.0.0/0"},
		{name: "egress TCP 26 blocked", dir: policy.Egress, rule: "ACCEPT TCP 26 0.0.0.0/0", blocked: true},
		{name: "egress UDP 25 blocked", dir: policy.Egress, rule: "ACCEPT UDP 25 0.0.0.0/0", blocked: true},
		{name: "egress UDP ALL blocked", dir: policy.Egress, rule: "ACCEPT UDP ALL 0.0.0.0/0", blocked: true},
		{name: "egress ICMP blocked", dir: policy.Egress, rule: "ACCEPT ICMP ALL 0.0.0.0/0", blocked: true},
		{name: "egress DROP TCP 25 blocked", dir: policy.Egress, rule: "DROP TCP 25 0.0.0.0/0", blocked: true},
		{name: "egress DROP ALL ALL blocked", dir: policy.Egress, rule: "DROP ALL ALL 0.0.0.0/0", blocked: true},
		{name: "ingress TCP 25 blocked", dir: policy.Ingress, rule: "ACCEPT TCP 25 0.0.0.0/0", blocked: true},

		// Sensitive ports open to the Internet.
		{name: "ingress TCP 22 anywhere", dir: policy.Ingress, rule: "ACCEPT TCP 22 0.0.0.0/0", want: []string{WarningExposedPort},
			message: map[string]string{WarningExposedPort: "port(s) 22 "}},
		{name: "ingress TCP 22 anywhere IPv6", dir: policy.Ingress, rule: "ACCEPT TCP 22 ::/0", want: []string{WarningExposedPort}},
		{name: "ingress TCP 22 office", dir: policy.Ingress, rule: "ACCEPT TCP 22 192.0.2.0/24"},
		{name: "ingress TCP 80,443 anywhere", dir: policy.Ingress, rule: "ACCEPT TCP 80,443 0.0.0.0/0"},
		{name: "ingress DROP TCP 22 anywhere", dir: policy.Ingress, rule: "DROP TCP 22 0.0.0.0/0"},
		{name: "ingress UDP 22 anywhere", dir: policy.Ingress, rule: "ACCEPT UDP 22 0.0.0.0/0"},
		{name: "egress TCP 22 anywhere", dir: policy.Egress, rule: "ACCEPT TCP 22 0.0.0.0/0"},
		{name: "ingress TCP range anywhere", dir: policy.Ingress, rule: "ACCEPT TCP 3300-3400 0.0.0.0/0", want: []string{WarningExposedPort},
			message: map[string]string{WarningExposedPort: "port(s) 3389,3306 "}},
		{name: "ingress ALL ALL anywhere: every sensitive port once", dir: policy.Ingress, rule: "ACCEPT ALL ALL 0.0.0.0/0", want: []string{WarningExposedPort},
			message: map[string]string{WarningExposedPort: "port(s) " + allSensitive + " "}},
		{name: "ingress TCP ALL anywhere", dir: policy.Ingress, rule: "ACCEPT TCP ALL 0.0.0.0/0", want: []string{WarningExposedPort},
			message: map[string]string{WarningExposedPort: "port(s) " + allSensitive + " "}},
		{name: "ingress ALL ALL office", dir: policy.Ingress, rule: "ACCEPT ALL ALL 10.0.0.0/8"},
		{name: "ingress TCP 445 anywhere: exposed and ISP", dir: policy.Ingress, rule: "ACCEPT TCP 445 0.0.0.0/0",
			want: []string{WarningISPBlockedPort, WarningExposedPort}},

		// ISP-blocked ports.
		{name: "TCP 445", dir: policy.Ingress, rule: "ACCEPT TCP 445 10.0.0.0/8", want: []string{WarningISPBlockedPort},
			message: map[string]string{WarningISPBlockedPort: "TCP port 445 is commonly blocked"}},
		{name: "TCP 135-139", dir: policy.Ingress, rule: "ACCEPT TCP 135-139 10.0.0.0/8", want: []string{WarningISPBlockedPort},
			message: map[string]string{WarningISPBlockedPort: "TCP port 135,137,138,139 "}},
		{name: "UDP 1434 egress", dir: policy.Egress, rule: "ACCEPT UDP 1434 10.0.0.0/8", want: []string{WarningISPBlockedPort}},
		{name: "UDP 53", dir: policy.Ingress, rule: "ACCEPT UDP 53 10.0.0.0/8"},
		{name: "TCP ALL is not about a port", dir: policy.Ingress, rule: "ACCEPT TCP ALL 10.0.0.0/8"},
		{name: "UDP ALL is not about a port", dir: policy.Egress, rule: "ACCEPT UDP ALL 10.0.0.0/8", blocked: true},
		{name: "ALL ALL is not about a port", dir: policy.Ingress, rule: "ACCEPT ALL ALL 10.0.0.0/8"},
		{name: "ingress TCP 25 is not blocked", dir: policy.Ingress, rule: "ACCEPT TCP 25 10.0.0.0/8", blocked: true},
		{name: "egress DROP of 25 is no warning", dir: policy.Egress, rule: "DROP TCP 25 0.0.0.0/0", blocked: true},
		{name: "group reference is not the Internet", dir: policy.Ingress, rule: "ACCEPT TCP 22 sg-00000002"},
		{name: "0.0.0.0/8 is widened", dir: policy.Ingress, rule: "ACCEPT TCP 80 0.0.0.0/8", want: []string{WarningWidenedCIDR},
			message: map[string]string{WarningWidenedCIDR: "0.0.0.0/8 was widened to 0.0.0.0/0"}},
		{name: "::/16 is widened", dir: policy.Egress, rule: "ACCEPT UDP 53 ::/16", want: []string{WarningWidenedCIDR},
			message: map[string]string{WarningWidenedCIDR: "::/16 was widened to ::/0"}},
		{name: "widened and exposed", dir: policy.Ingress, rule: "ACCEPT TCP 22 0.0.0.0/1", want: []string{WarningWidenedCIDR, WarningExposedPort}},
		{name: "0.0.0.0/0 is not widened", dir: policy.Ingress, rule: "ACCEPT TCP 80 0.0.0.0/0"},
		{name: "0.0.0.0 alone is widened", dir: policy.Ingress, rule: "ACCEPT TCP 80 0.0.0.0", want: []string{WarningWidenedCIDR}},
		{name: "address template is not read", dir: policy.Ingress, rule: "ACCEPT TCP 22 ipm-00000002"},

		// Service templates: the same checks on the template's entries.
		{name: "template with tcp:25 egress blocked", dir: policy.Egress, rule: "ACCEPT ppm-00000001 0.0.0.0/0",
			svcs: []rules.Service{svc("TCP", "80"), svc("TCP", "25")}, blocked: true, want: []string{WarningPort25Blocked}},
		{name: "template with all egress blocked", dir: policy.Egress, rule: "ACCEPT ppm-00000001 0.0.0.0/0",
			svcs: []rules.Service{svc("ALL", "ALL")}, blocked: true, want: []string{WarningPort25Blocked}},
		{name: "template with tcp:25 egress unblocked", dir: policy.Egress, rule: "ACCEPT ppm-00000001 0.0.0.0/0",
			svcs: []rules.Service{svc("TCP", "25")}},
		{name: "template with ssh and rdp from anywhere", dir: policy.Ingress, rule: "ACCEPT ppm-00000001 0.0.0.0/0",
			svcs: []rules.Service{svc("TCP", "22"), svc("TCP", "80"), svc("TCP", "3389")}, want: []string{WarningExposedPort},
			message: map[string]string{WarningExposedPort: "port(s) 22,3389 "}},
		{name: "template with ISP ports of both protocols", dir: policy.Ingress, rule: "ACCEPT ppmg-00000001 10.0.0.0/8",
			svcs: []rules.Service{svc("TCP", "445"), svc("UDP", "137"), svc("UDP", "53")}, want: []string{WarningISPBlockedPort},
			message: map[string]string{WarningISPBlockedPort: "TCP port 445 and UDP port 137 are commonly blocked"}},
		{name: "template of harmless services", dir: policy.Ingress, rule: "ACCEPT ppm-00000001 0.0.0.0/0",
			svcs: []rules.Service{svc("TCP", "80,443"), svc("ICMP", "ALL")}},
		{name: "template gone or empty", dir: policy.Ingress, rule: "ACCEPT ppm-00000001 0.0.0.0/0", svcs: []rules.Service{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.ParsePolicy(tt.rule)
			if err != nil {
				t.Fatalf("ParsePolicy(%q): %v", tt.rule, err)
			}
			e, err := rules.PolicyEntry(tt.dir, "sg-00000001", 3, &p, tt.svcs, rules.Addresses{Source: rules.PeerSource(p.Peer)})
			if err != nil {
				t.Fatalf("PolicyEntry(%q): %v", tt.rule, err)
			}
			ws, err := analysis.PolicyWarnings(&e, tt.blocked)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range ws {
				got = append(got, w.Code)
				if w.Direction != tt.dir || w.PolicyIndex != 3 {
					t.Errorf("%s at %v#%d, want %v#3", w.Code, w.Direction, w.PolicyIndex, tt.dir)
				}
				if want, ok := tt.message[w.Code]; ok && !strings.Contains(w.Message, want) {
					t.Errorf("%s message %q does not contain %q", w.Code, w.Message, want)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings = %v, want %v", got, tt.want)
			}
		})
	}
}
