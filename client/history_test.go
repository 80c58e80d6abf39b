package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/wire"
)

// historyServer is a server with an account's admin and read-only
// clients and another account's admin client.
type historyServer struct {
	admin, readonly, other *client.Client
}

func newHistoryServer(t *testing.T) historyServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	a, err := svc.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := svc.CreateCredential(ctx, a.AccountID, service.RoleReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.CreateAccount(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Options{Service: svc}))
	t.Cleanup(srv.Close)
	const region = "ap-guangzhou"
	return historyServer{
		admin:    client.New(srv.URL, a.SecretID, a.SecretKey, region),
		readonly: client.New(srv.URL, ro.SecretID, ro.SecretKey, region),
		other:    client.New(srv.URL, b.SecretID, b.SecretKey, region),
	}
}

// apiCode returns the API error code of err, or "" when err is not an API
// error.
func apiCode(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// TestHistoryAndRestore writes a few versions of a group through the API,
// lists its history (newest first, with readable diffs), restores an
// earlier version and checks that the exact earlier policy set is back as
// a new version recorded as a restore; read-only credentials may list but
// not restore, and another account's group is not found.
func TestHistoryAndRestore(t *testing.T) {
	ctx := context.Background()
	s := newHistoryServer(t)
	g := must[*wire.CreateSecurityGroupWithPoliciesResponse](t, "create")(s.admin.CreateSecurityGroupWithPolicies(ctx, &wire.CreateSecurityGroupWithPoliciesRequest{
		GroupName: wire.NewString("web"), GroupDescription: wire.NewString("web tier"),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{
			Ingress: []wire.SecurityGroupPolicyInput{policyIn("ACCEPT", "TCP", "22", "10.0.0.0/8", "ssh")},
			Egress:  []wire.SecurityGroupPolicyInput{policyIn("ACCEPT", "ALL", "ALL", "0.0.0.0/0", "")},
		},
	}))
	id := wire.NewString(g.SecurityGroup.SecurityGroupId)
	must[*wire.CreateSecurityGroupPoliciesResponse](t, "add")(s.admin.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{
		SecurityGroupId: id, SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{
			Ingress: []wire.SecurityGroupPolicyInput{disabled(policyIn("ACCEPT", "TCP", "80,443", "0.0.0.0/0", "web"))}}}))
	describe := func() wire.SecurityGroupPolicySet {
		t.Helper()
		r := must[*wire.DescribeSecurityGroupPoliciesResponse](t, "describe")(s.admin.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: id}))
		return r.SecurityGroupPolicySet
	}
	v2 := describe()
	if len(v2.Ingress) != 2 || !v2.Ingress[1].Disabled || v2.Ingress[0].Disabled {
		t.Fatalf("version 2 = %+v, want its second policy disabled", v2.Ingress)
	}
	zero := 0
	must[*wire.ReplaceSecurityGroupPolicyResponse](t, "replace")(s.admin.ReplaceSecurityGroupPolicy(ctx, &wire.ReplaceSecurityGroupPolicyRequest{
		SecurityGroupId: id, SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{
			Ingress: []wire.SecurityGroupPolicyInput{withIndex(policyIn("DROP", "TCP", "22", "0.0.0.0/0", "no ssh"), zero)}}}))
	must[*wire.ModifySecurityGroupAttributeResponse](t, "rename")(s.admin.ModifySecurityGroupAttribute(ctx, &wire.ModifySecurityGroupAttributeRequest{
		SecurityGroupId: id, GroupName: wire.NewString("web-2")}))

	h := must[*wire.DescribeSecurityGroupHistoryResponse](t, "history")(s.readonly.DescribeSecurityGroupHistory(ctx, &wire.DescribeSecurityGroupHistoryRequest{SecurityGroupId: id}))
	var versions, actions []string
	for _, e := range h.HistorySet {
		versions = append(versions, e.Version)
		actions = append(actions, e.Action)
	}
	if want := []string{"3", "3", "2", "1"}; !reflect.DeepEqual(versions, want) || h.TotalCount != 4 {
		t.Fatalf("history versions = %v (total %d), want %v (total 4); actions %v", versions, h.TotalCount, want, actions)
	}
	wantDiffs := []string{
		`~ Name: "web" -> "web-2"`,
		"- Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh\n+ Ingress 0: DROP TCP 22 0.0.0.0/0 # no ssh",
		"+ Ingress 1: ACCEPT TCP 80,443 0.0.0.0/0 # web [disabled]",
		"+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh\n+ Egress 0: ACCEPT ALL ALL 0.0.0.0/0",
	}
	for i, e := range h.HistorySet {
		if e.Diff != wantDiffs[i] {
			t.Errorf("history[%d] (%s) Diff = %q, want %q", i, e.Action, e.Diff, wantDiffs[i])
		}
		if e.Time == "" || e.SecretId == "" || e.RequestId == "" || len(e.Changes) != strings.Count(wantDiffs[i], "\n")+1 {
			t.Errorf("history[%d] = %+v: want a time, a SecretId, a RequestId and one change per diff line", i, e)
		}
	}
	page := must[*wire.DescribeSecurityGroupHistoryResponse](t, "history page")(s.admin.DescribeSecurityGroupHistory(ctx, &wire.DescribeSecurityGroupHistoryRequest{
		SecurityGroupId: id, Offset: wire.NewIntString(2), Limit: wire.NewIntString(1)}))
	if len(page.HistorySet) != 1 || page.HistorySet[0].Version != "2" || page.TotalCount != 4 {
		t.Errorf("history Offset 2 Limit 1 = %+v, want version 2 of 4", page)
	}

	byVersion := must[*wire.DescribeSecurityGroupHistoryResponse](t, "history of version 3")(s.admin.DescribeSecurityGroupHistory(ctx, &wire.DescribeSecurityGroupHistoryRequest{
		SecurityGroupId: id, Version: wire.NewString("3")}))
	if len(byVersion.HistorySet) != 2 || byVersion.HistorySet[0].Action != "ModifySecurityGroupAttribute" || byVersion.HistorySet[1].Action != "ReplaceSecurityGroupPolicy" {
		t.Errorf("history of version 3 = %+v, want the rename and the replace", byVersion.HistorySet)
	}

	restore := func(c *client.Client, version, current string) (*wire.RestoreSecurityGroupVersionResponse, error) {
		req := &wire.RestoreSecurityGroupVersionRequest{SecurityGroupId: id, Version: wire.NewString(version)}
		if current != "" {
			req.SecurityGroupPolicySetVersion = wire.NewString(current)
		}
		return c.RestoreSecurityGroupVersion(ctx, req)
	}
	for _, tc := range []struct {
		name             string
		c                *client.Client
		version, current string
		code             string
	}{
		{"read-only credential", s.readonly, "2", "", "UnauthorizedOperation"},
		{"another account", s.other, "2", "", "ResourceNotFound"},
		{"stale current version", s.admin, "2", "2", "UnsupportedOperation.VersionMismatch"},
		{"version never written", s.admin, "9", "", "ResourceNotFound"},
		{"version before the creation", s.admin, "0", "", "ResourceNotFound"},
		{"version not a number", s.admin, "v2", "", "InvalidParameterValue.Malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := restore(tc.c, tc.version, tc.current)
			if apiCode(err) != tc.code {
				t.Errorf("RestoreSecurityGroupVersion(%s) = %v, want %s", tc.version, err, tc.code)
			}
			if got := describe(); got.Version != "3" {
				t.Errorf("after a refused restore the group is at version %s, want 3", got.Version)
			}
		})
	}
	if _, err := s.other.DescribeSecurityGroupHistory(ctx, &wire.DescribeSecurityGroupHistoryRequest{SecurityGroupId: id}); apiCode(err) != "ResourceNotFound" {
		t.Errorf("another account's DescribeSecurityGroupHistory = %v, want ResourceNotFound", err)
	}

	r, err := restore(s.admin, "2", "3")
	if err != nil || r.Version != "4" {
		t.Fatalf("RestoreSecurityGroupVersion(2) = %+v, %v; want version 4", r, err)
	}
	got := describe()
	v2.Version = "4"
	if !reflect.DeepEqual(got, v2) {
		t.Errorf("after restoring version 2:\n got %+v\nwant %+v", got, v2)
	}
	h = must[*wire.DescribeSecurityGroupHistoryResponse](t, "history")(s.admin.DescribeSecurityGroupHistory(ctx, &wire.DescribeSecurityGroupHistoryRequest{SecurityGroupId: id, Limit: wire.NewIntString(1)}))
	if e := h.HistorySet[0]; e.Version != "4" || e.Action != "RestoreSecurityGroupVersion" || e.RestoredFrom != "2" ||
		e.Diff != "- Ingress 0: DROP TCP 22 0.0.0.0/0 # no ssh\n+ Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh" {
		t.Errorf("newest history entry = %+v, want the restore of version 2 as version 4", e)
	}
}

func disabled(p wire.SecurityGroupPolicyInput) wire.SecurityGroupPolicyInput {
	p.Disabled = wire.NewBool(true)
	return p
}

func withIndex(p wire.SecurityGroupPolicyInput, i int) wire.SecurityGroupPolicyInput {
	p.PolicyIndex = wire.NewInt(int64(i))
	return p
}
