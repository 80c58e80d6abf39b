package service_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/service"
)

// TestReachMatchesSimulate checks, for random groups, bindings and
// packets, that the group legs of CheckReachability are SimulateTraffic's
// decisions: the source's egress towards the destination's address, the
// destination's ingress from the source's.
func TestReachMatchesSimulate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	rng := rand.New(rand.NewPCG(3, 5))
	peers := []string{"0.0.0.0/0", "10.0.0.0/24", "10.0.0.1", "10.0.0.2/31", "10.0.0.3", "192.0.2.0/24", "10.0.0.4/30"}
	protos := []string{"TCP", "UDP", "ICMP", "GRE", "ALL"}
	ports := []string{"ALL", "22", "80", "20-30", "22,80,443", "1-1024"}
	randPolicy := func() string {
		proto := protos[rng.IntN(len(protos))]
		port := "ALL"
		if proto == "TCP" || proto == "UDP" {
			port = ports[rng.IntN(len(ports))]
		}
		return fmt.Sprintf("%s %s %s %s", []string{"ACCEPT", "ACCEPT", "ACCEPT", "DROP"}[rng.IntN(4)], proto, port, peers[rng.IntN(len(peers))])
	}
	var groups []string
	for i := range 4 {
		in := service.CreateGroupInput{Name: fmt.Sprintf("g%d", i), Policies: &service.PolicySetInput{}}
		for range 1 + rng.IntN(5) {
			in.Policies.Ingress = append(in.Policies.Ingress, raw(randPolicy()))
			in.Policies.Egress = append(in.Policies.Egress, raw(randPolicy()))
		}
		if i%2 == 1 { // a group that admits what its policies above do not drop
			in.Policies.Ingress = append(in.Policies.Ingress, raw("ACCEPT ALL ALL 0.0.0.0/0"))
			in.Policies.Egress = append(in.Policies.Egress, raw("ACCEPT ALL ALL 0.0.0.0/0"))
		}
		g, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, in)
		if err != nil {
			continue // a random duplicate: skip the group
		}
		groups = append(groups, g.ID)
	}
	var bindings [][]string
	for range 5 {
		var b []string
		for _, g := range groups {
			if rng.IntN(2) == 0 {
				b = append(b, g)
			}
		}
		rng.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		bindings = append(bindings, b)
	}
	ins := f.instances(t, bindings, "a", "b", "c", "d", "e")
	addrOf := map[string]string{}
	for i, id := range ins {
		addrOf[id] = "10.0.0." + string(rune('1'+i))
	}
	probes := []string{"192.0.2.7", "203.0.113.1"}
	answers := map[analysis.Answer]int{}
	for n := range 400 {
		src, dst := ins[rng.IntN(len(ins))], ins[rng.IntN(len(ins))]
		srcEnd, dstEnd := src, dst
		switch rng.IntN(4) {
		case 0:
			srcEnd = probes[rng.IntN(len(probes))]
		case 1:
			dstEnd = probes[rng.IntN(len(probes))]
		}
		proto := []string{"TCP", "UDP", "ICMP", "GRE"}[rng.IntN(4)]
		port := service.NoPort
		if proto == "TCP" || proto == "UDP" {
			port = []int{22, 25, 80, 443, 1024, 3389}[rng.IntN(6)]
		}
		r, err := f.svc.CheckReachability(ctx, f.admin, service.ReachInput{Source: srcEnd, Destination: dstEnd, Protocol: proto, Port: port})
		if err != nil {
			t.Fatalf("case %d: CheckReachability: %v", n, err)
		}
		srcAddr, dstAddr := addrOf[srcEnd], addrOf[dstEnd]
		if srcAddr == "" {
			srcAddr = srcEnd
		}
		if dstAddr == "" {
			dstAddr = dstEnd
		}
		if r.Source != srcAddr || r.Destination != dstAddr {
			t.Fatalf("case %d: checked %s -> %s, want %s -> %s", n, r.Source, r.Destination, srcAddr, dstAddr)
		}
		want := map[analysis.LegKind]service.Decision{}
		if _, ok := addrOf[srcEnd]; ok {
			d, err := f.svc.SimulateTraffic(ctx, f.admin, service.SimulateInput{InstanceID: src, Direction: "EGRESS", Protocol: proto, Address: dstAddr, Port: port})
			if err != nil {
				t.Fatal(err)
			}
			want[analysis.LegSourceSecurityGroup] = d
		}
		if _, ok := addrOf[dstEnd]; ok {
			d, err := f.svc.SimulateTraffic(ctx, f.admin, service.SimulateInput{InstanceID: dst, Direction: "INGRESS", Protocol: proto, Address: srcAddr, Port: port})
			if err != nil {
				t.Fatal(err)
			}
			want[analysis.LegDestinationSecurityGroup] = d
		}
		got := map[analysis.LegKind]service.Decision{}
		blocked := false
		for _, l := range r.Legs {
			if l.Decision != nil {
				got[l.Kind] = *l.Decision
				blocked = blocked || l.Verdict != analysis.LegAccept
				if string(l.Verdict) != l.Decision.Verdict.String() {
					t.Fatalf("case %d: leg %s verdict %s, decision %s", n, l.Kind, l.Verdict, l.Decision.Verdict)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("case %d: group legs %v, want %v", n, got, want)
		}
		for k, w := range want {
			g := got[k]
			if g.Verdict != w.Verdict || g.Layer != w.Layer || g.SecurityGroupID != w.SecurityGroupID || fmt.Sprint(deref(g.PolicyIndex)) != fmt.Sprint(deref(w.PolicyIndex)) {
				t.Fatalf("case %d %s -> %s %s %d: leg %s = %v %v %s#%v, SimulateTraffic %v %v %s#%v", n, srcEnd, dstEnd, proto, port, k,
					g.Verdict, g.Layer, g.SecurityGroupID, deref(g.PolicyIndex), w.Verdict, w.Layer, w.SecurityGroupID, deref(w.PolicyIndex))
			}
			if len(g.Trace) != len(w.Trace)-1 {
				t.Fatalf("case %d: leg %s trace %q, SimulateTraffic's %q", n, k, g.Trace, w.Trace)
			}
		}
		if wantAnswer := map[bool]analysis.Answer{true: analysis.Blocked, false: analysis.Reachable}[blocked]; r.Answer != wantAnswer {
			t.Fatalf("case %d: answer %s, want %s", n, r.Answer, wantAnswer)
		}
		answers[r.Answer]++
	}
	if answers[analysis.Reachable] < 40 || answers[analysis.Blocked] < 40 {
		t.Errorf("answers %v: the random cases do not exercise both", answers)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCheckReachability(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{})
	web := f.group(t, f.admin, "web", "ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 3306 10.0.0.0/8")
	ins := f.instances(t, [][]string{{web}}, "web-1")
	fw, err := os.ReadFile(filepath.Join("..", "analysis", "guestfw", "testdata", "simple.iptables"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       service.ReachInput
		answer   analysis.Answer
		blocking analysis.LegKind
		field    string // the field of the error expected, if any
	}{
		{"ssh from the office", service.ReachInput{Source: "10.9.9.9", Destination: ins[0], Protocol: "TCP", Port: 22, DestinationGuestFirewall: string(fw)}, analysis.Reachable, "", ""},
		{"mysql rejected by the guest", service.ReachInput{Source: "10.9.9.9", Destination: ins[0], Protocol: "TCP", Port: 3306, DestinationGuestFirewall: string(fw)}, analysis.Blocked, analysis.LegDestinationGuestFirewall, ""},
		{"from the internet", service.ReachInput{Source: "203.0.113.9", Destination: ins[0], Protocol: "TCP", Port: 22}, analysis.Blocked, analysis.LegDestinationSecurityGroup, ""},
		{"outbound 25 blocked by the platform", service.ReachInput{Source: ins[0], Destination: "198.51.100.1", Protocol: "TCP", Port: 25}, analysis.Blocked, analysis.LegSourceSecurityGroup, ""},
		{"no port", service.ReachInput{Source: "10.9.9.9", Destination: ins[0], Protocol: "TCP", Port: service.NoPort}, "", "", "Port"},
		{"bad source", service.ReachInput{Source: "nowhere", Destination: ins[0], Protocol: "TCP", Port: 22}, "", "", "Source"},
		{"unknown instance", service.ReachInput{Source: "10.9.9.9", Destination: "ins-00000000", Protocol: "TCP", Port: 22}, "", "", "Destination"},
		{"families differ", service.ReachInput{Source: "2001:db8::1", Destination: "10.0.0.1", Protocol: "TCP", Port: 22}, "", "", "Destination"},
		{"no ipv6 address", service.ReachInput{Source: "2001:db8::1", Destination: ins[0], Protocol: "TCP", Port: 22}, "", "", "Destination"},
		{"a firewall that does not parse", service.ReachInput{Source: "10.9.9.9", Destination: ins[0], Protocol: "TCP", Port: 22, DestinationGuestFirewall: "hello"}, "", "", "DestinationGuestFirewall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := f.svc.CheckReachability(ctx, f.admin, tt.in)
			if tt.field != "" {
				got, _ := fieldOf(err)
				var e *service.Error
				if errors.As(err, &e) {
					got = e.Field
				}
				if got != tt.field {
					t.Fatalf("CheckReachability error %v (field %q), want one about %s", err, got, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Answer != tt.answer || r.Blocking != tt.blocking {
				t.Errorf("CheckReachability = %s at %q, want %s at %q", r.Answer, r.Blocking, tt.answer, tt.blocking)
			}
		})
	}
	if _, err := f.svc.CheckReachability(ctx, f.other, service.ReachInput{Source: "10.9.9.9", Destination: ins[0], Protocol: "TCP", Port: 22}); kindOf(err) != service.KindNotFound {
		t.Errorf("another account's instance: %v, want not found", err)
	}
}
