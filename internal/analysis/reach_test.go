package analysis_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/analysis/guestfw"
	"github.com/palisade-sg/palisade/internal/eval"
	"github.com/palisade-sg/palisade/internal/policy"
)

// firewall parses a guest firewall sample of guestfw's testdata.
func firewall(tb testing.TB, name string) *guestfw.Ruleset {
	tb.Helper()
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join("guestfw", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	rs, err := guestfw.Parse(string(b))
	if err != nil {
		tb.Fatalf("parse %s: %v", name, err)
	}
	return rs
}

// compiled compiles an instance's list (see instanceLists), or returns nil
// for an address endpoint (no groups given).
func compiled(tb testing.TB, d policy.Direction, groups ...string) *eval.Effective {
	tb.Helper()
	if len(groups) == 0 {
		return nil
	}
	e, err := eval.CompileList(instanceLists(tb, d, true, nil, groups...))
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestCheckReach(t *testing.T) {
	const (
		open   = "sg-open0000: ACCEPT ALL ALL 0.0.0.0/0"
		office = "sg-ssh00000: ACCEPT TCP 22 10.0.0.0/8; ACCEPT TCP 3306 10.0.0.0/8; ACCEPT TCP 8080 0.0.0.0/0"
	)
	type end struct {
		id, addr, firewall string
		groups             []string
	}
	tests := []struct {
		name     string
		src, dst end
		proto    string
		port     uint16
		answer   analysis.Answer
		blocking analysis.LegKind
		legs     []string // KIND=VERDICT in order
		decided  string   // the deciding text of the blocking or last guest leg, if any
		warning  string
	}{
		{
			name:  "ssh from the office through both firewalls",
			src:   end{id: "ins-src00000", addr: "10.0.0.5", groups: []string{open}},
			dst:   end{id: "ins-dst00000", addr: "10.0.1.9", groups: []string{office}, firewall: "simple.iptables"},
			proto: "TCP", port: 22, answer: analysis.Reachable,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=NOT_CHECKED", "SOURCE_SECURITY_GROUP=ACCEPT",
				"DESTINATION_SECURITY_GROUP=ACCEPT", "DESTINATION_GUEST_FIREWALL=ACCEPT", "DESTINATION_PROCESS=NOT_CHECKED"},
			decided: "ssh from the office",
		},
		{
			name:  "the group admits 3306, the guest rejects it",
			src:   end{id: "ins-src00000", addr: "10.0.0.5", groups: []string{open}},
			dst:   end{id: "ins-dst00000", addr: "10.0.1.9", groups: []string{office}, firewall: "simple.iptables"},
			proto: "TCP", port: 3306, answer: analysis.Blocked, blocking: analysis.LegDestinationGuestFirewall,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=NOT_CHECKED", "SOURCE_SECURITY_GROUP=ACCEPT",
				"DESTINATION_SECURITY_GROUP=ACCEPT", "DESTINATION_GUEST_FIREWALL=REJECT", "DESTINATION_PROCESS=NOT_CHECKED"},
			decided: "--dport 3306",
		},
		{
			name:  "the destination group drops before the guest firewall",
			src:   end{addr: "203.0.113.7"},
			dst:   end{id: "ins-dst00000", addr: "10.0.1.9", groups: []string{office}, firewall: "simple.iptables"},
			proto: "TCP", port: 22, answer: analysis.Blocked, blocking: analysis.LegDestinationSecurityGroup,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=NOT_CHECKED",
				"DESTINATION_SECURITY_GROUP=DROP", "DESTINATION_GUEST_FIREWALL=DROP", "DESTINATION_PROCESS=NOT_CHECKED"},
		},
		{
			name:  "outbound 25: the source guest rejects first, the platform blocks too",
			src:   end{id: "ins-src00000", addr: "10.0.0.5", groups: []string{open}, firewall: "simple.iptables"},
			dst:   end{addr: "198.51.100.25"},
			proto: "TCP", port: 25, answer: analysis.Blocked, blocking: analysis.LegSourceGuestFirewall,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=REJECT", "SOURCE_SECURITY_GROUP=DROP",
				"DESTINATION_GUEST_FIREWALL=NOT_CHECKED", "DESTINATION_PROCESS=NOT_CHECKED"},
			decided: "--dport 25", warning: "blocked by the platform",
		},
		{
			name:  "a docker published port is DNATed: uncertain",
			src:   end{addr: "203.0.113.7"},
			dst:   end{id: "ins-dst00000", addr: "10.0.1.9", groups: []string{office}, firewall: "docker.iptables"},
			proto: "TCP", port: 8080, answer: analysis.Uncertain, blocking: analysis.LegDestinationGuestFirewall,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=NOT_CHECKED",
				"DESTINATION_SECURITY_GROUP=ACCEPT", "DESTINATION_GUEST_FIREWALL=UNCERTAIN", "DESTINATION_PROCESS=NOT_CHECKED"},
		},
		{
			name:  "an ISP-blocked port warns",
			src:   end{addr: "203.0.113.7"},
			dst:   end{id: "ins-dst00000", addr: "10.0.1.9", groups: []string{open}},
			proto: "TCP", port: 445, answer: analysis.Reachable,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=NOT_CHECKED",
				"DESTINATION_SECURITY_GROUP=ACCEPT", "DESTINATION_GUEST_FIREWALL=NOT_CHECKED", "DESTINATION_PROCESS=NOT_CHECKED"},
			warning: "commonly blocked by ISPs",
		},
		{
			name:  "nft guest firewall",
			src:   end{addr: "10.0.0.5"},
			dst:   end{id: "ins-dst00000", addr: "10.0.1.9", groups: []string{open}, firewall: "debian.nft"},
			proto: "TCP", port: 22, answer: analysis.Reachable,
			legs: []string{"SOURCE_PROCESS=NOT_CHECKED", "SOURCE_GUEST_FIREWALL=NOT_CHECKED",
				"DESTINATION_SECURITY_GROUP=ACCEPT", "DESTINATION_GUEST_FIREWALL=ACCEPT", "DESTINATION_PROCESS=NOT_CHECKED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := analysis.ReachInput{
				Source:        analysis.Endpoint{InstanceID: tt.src.id, Address: addr(tt.src.addr), List: compiled(t, policy.Egress, tt.src.groups...), Firewall: firewall(t, tt.src.firewall)},
				Destination:   analysis.Endpoint{InstanceID: tt.dst.id, Address: addr(tt.dst.addr), List: compiled(t, policy.Ingress, tt.dst.groups...), Firewall: firewall(t, tt.dst.firewall)},
				Protocol:      policy.MustParseProtocol(tt.proto),
				Port:          tt.port,
				Port25Blocked: true,
			}
			r, err := analysis.CheckReach(in)
			if err != nil {
				t.Fatal(err)
			}
			var legs []string
			for _, l := range r.Legs {
				legs = append(legs, string(l.Kind)+"="+string(l.Verdict))
			}
			if r.Answer != tt.answer || r.Blocking != tt.blocking || !slices.Equal(legs, tt.legs) {
				t.Fatalf("CheckReach = %s at %q, legs %v; want %s at %q, legs %v", r.Answer, r.Blocking, legs, tt.answer, tt.blocking, tt.legs)
			}
			if tt.decided != "" {
				var text string
				for _, l := range r.Legs {
					if l.Firewall != nil && (l.Kind == tt.blocking || tt.blocking == "") {
						text = l.Firewall.Text
					}
				}
				if !strings.Contains(text, tt.decided) {
					t.Errorf("deciding line %q, want one with %q", text, tt.decided)
				}
			}
			if tt.warning != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
				t.Errorf("warnings %q, want one with %q", r.Warnings, tt.warning)
			}
			for _, l := range r.Legs {
				if l.Verdict == analysis.LegNotChecked && len(l.Notes) == 0 {
					t.Errorf("leg %s not checked without a note", l.Kind)
				}
				if l.Verdict == analysis.LegUncertain && len(l.Firewall.Notes) == 0 {
					t.Errorf("uncertain leg %s names no line", l.Kind)
				}
			}
		})
	}
}

func TestCheckReachErrors(t *testing.T) {
	v4, v6 := analysis.Endpoint{Address: addr("10.0.0.1")}, analysis.Endpoint{Address: addr("2001:db8::1")}
	tests := []struct {
		name string
		in   analysis.ReachInput
	}{
		{"families differ", analysis.ReachInput{Source: v4, Destination: v6, Protocol: policy.TCP, Port: 22}},
		{"no port", analysis.ReachInput{Source: v4, Destination: v4, Protocol: policy.TCP}},
		{"not one packet's protocol", analysis.ReachInput{Source: v4, Destination: v4, Protocol: policy.AnyProtocol}},
		{"icmp over ipv6", analysis.ReachInput{Source: v6, Destination: v6, Protocol: policy.ICMP}},
		{"no address", analysis.ReachInput{Source: analysis.Endpoint{}, Destination: v4, Protocol: policy.ICMP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := analysis.CheckReach(tt.in); err == nil {
				t.Errorf("CheckReach = %+v, want an error", r)
			}
		})
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }
