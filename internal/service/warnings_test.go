package service

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestTemplatePolicyWarnings checks that a policy using a service template
// (group) is warned about through the template's entries, resolved in the
// write, as a plain policy would be.
func TestTemplatePolicyWarnings(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(st, Options{})
	a, err := s.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := s.LookupCredential(ctx, a.SecretID)
	if err != nil {
		t.Fatal(err)
	}
	c := cred.Caller("ap-guangzhou", "req")
	ppm := func(name string, entries ...string) string {
		t.Helper()
		in := TemplateInput{Name: name}
		for _, e := range entries {
			in.Entries = append(in.Entries, TemplateEntry{Value: e})
		}
		tpl, err := s.CreateServiceTemplate(ctx, c, in)
		if err != nil {
			t.Fatal(err)
		}
		return tpl.ID
	}
	mail, login, isp := ppm("mail", "tcp:25", "tcp:587"), ppm("login", "tcp:22", "tcp:80"), ppm("isp", "udp:137")
	grp, err := s.CreateServiceTemplateGroup(ctx, c, TemplateGroupInput{Name: "both", TemplateIDs: []string{login, isp}})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := s.CreateSecurityGroup(ctx, c, CreateGroupInput{Name: "g"})
	if err != nil {
		t.Fatal(err)
	}
	pol := func(s string) PolicyInput {
		p, err := policy.ParsePolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		return PolicyInput{Raw: p.Raw()}
	}
	res, err := s.CreateSecurityGroupPolicies(ctx, c, PoliciesInput{SecurityGroupID: g.ID, Set: PolicySetInput{
		Ingress: []PolicyInput{pol("ACCEPT " + grp.ID + " 0.0.0.0/0"), pol("ACCEPT " + mail + " 0.0.0.0/0")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range res.Warnings {
		got = append(got, fmt.Sprintf("%s@%d", w.Code, w.PolicyIndex))
	}
	if want := []string{"ISP_BLOCKED_PORT@0", "EXPOSED_PORT@0"}; !slices.Equal(got, want) {
		t.Errorf("ingress warnings = %v, want %v", got, want)
	}
	res, err = s.CreateSecurityGroupPolicies(ctx, c, PoliciesInput{SecurityGroupID: g.ID, Set: PolicySetInput{
		Egress: []PolicyInput{pol("ACCEPT " + login + " 0.0.0.0/0"), pol("ACCEPT " + mail + " 0.0.0.0/0")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, w := range res.Warnings {
		got = append(got, fmt.Sprintf("%s@%d", w.Code, w.PolicyIndex))
	}
	if want := []string{"PORT25_BLOCKED@1"}; !slices.Equal(got, want) {
		t.Errorf("egress warnings = %v, want %v", got, want)
	}
}
