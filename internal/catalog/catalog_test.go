package catalog_test

import (
	"slices"
	"testing"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/policy"
)

func TestGroupTemplates(t *testing.T) {
	names := map[string]bool{}
	for _, tpl := range catalog.GroupTemplates() {
		if names[tpl.Name] {
			t.Errorf("template %s twice", tpl.Name)
		}
		names[tpl.Name] = true
		for _, p := range append(slices.Clone(tpl.Ingress), tpl.Egress...) {
			if err := p.Validate(); err != nil {
				t.Errorf("%s: %v", tpl.Name, err)
			}
		}
		if got, ok := catalog.Lookup(tpl.Name); !ok || got.Name != tpl.Name {
			t.Errorf("Lookup(%q) = %v, %v", tpl.Name, got.Name, ok)
		}
	}
	for _, n := range []string{"open-all", "open-common", "linux-login", "windows-login", "web", "ssh", "rdp", "ping", "ftp", "telnet", "mysql"} {
		if !names[n] {
			t.Errorf("catalogue lacks %s", n)
		}
	}
	if _, ok := catalog.Lookup("nope"); ok {
		t.Error(`Lookup("nope") found a template`)
	}
}

func TestPorts(t *testing.T) {
	for _, p := range catalog.CommonPorts() {
		if !p.Protocol.HasPorts() || !p.Ports.IsValid() || p.Ports.All() {
			t.Errorf("common port %v %v: want TCP or UDP with ports", p.Protocol, p.Ports)
		}
	}
	isp := catalog.ISPBlockedPorts()
	if !slices.Contains(isp[policy.TCP], 445) || !slices.Contains(isp[policy.UDP], 137) || len(catalog.ISPBlocked(policy.ICMP)) != 0 {
		t.Errorf("ISPBlockedPorts = %v", isp)
	}
	if !slices.Contains(catalog.SensitivePorts(), 22) || !slices.Contains(catalog.SensitivePorts(), 3389) {
		t.Errorf("SensitivePorts = %v, want the login ports", catalog.SensitivePorts())
	}
	for _, p := range catalog.DefaultGroupPolicies() {
		if err := p.Validate(); err != nil {
			t.Errorf("default group policy %v: %v", p, err)
		}
	}
}
