package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// guardServer is a server over a real SQLite file with a clock the test
// moves, an account's client and a platform client.
type guardServer struct {
	svc       *service.Service
	from      string // the client address the proxy forwards
	acct, pl  *client.Client
	accountID string
	mu        sync.Mutex
	now       time.Time
}

func (g *guardServer) clock() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now
}

func (g *guardServer) source() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.from
}

func (g *guardServer) setSource(a string) {
	g.mu.Lock()
	g.from = a
	g.mu.Unlock()
}

func (g *guardServer) advance(d time.Duration) {
	g.mu.Lock()
	g.now = g.now.Add(d)
	g.mu.Unlock()
}

func newGuardServer(t *testing.T) *guardServer {
	t.Helper()
	g := &guardServer{now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC), from: "203.0.113.7"}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g.svc = service.New(st, service.Options{Clock: g.clock})
	// The requests come from a trusted proxy on loopback, on behalf of
	// 203.0.113.7 (a request from loopback itself has no path to an
	// instance, and is not checked for lockout).
	h := api.NewHandler(api.Options{Service: g.svc, Clock: g.clock, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Forwarded-For", g.source())
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	a, err := g.svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	pk, err := g.svc.CreatePlatformKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every request is signed a second after the one before, so that no
	// two share a signature.
	var n int
	var nmu sync.Mutex
	signClock := func() time.Time {
		nmu.Lock()
		defer nmu.Unlock()
		n++
		return g.clock().Add(time.Duration(n) * time.Second)
	}
	g.accountID = a.AccountID
	g.acct = client.New(srv.URL, a.SecretID, a.SecretKey, "ap-guangzhou").WithClock(signClock)
	g.pl = client.New(srv.URL, pk.SecretID, pk.SecretKey, "ap-guangzhou").WithClock(signClock)
	return g
}

// call sends body to action and returns the response, or the error code.
func (g *guardServer) call(t *testing.T, cl *client.Client, svc, action, body string) (map[string]any, string) {
	t.Helper()
	raw, err := cl.Call(context.Background(), svc, "2017-03-12", action, json.RawMessage(body))
	var ae *client.Error
	if errors.As(err, &ae) {
		return map[string]any{"Message": ae.Message}, ae.Code
	}
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out, ""
}

func (g *guardServer) must(t *testing.T, cl *client.Client, svc, action, body string) map[string]any {
	t.Helper()
	out, code := g.call(t, cl, svc, action, body)
	if code != "" {
		t.Fatalf("%s %s: %s %v", action, body, code, out["Message"])
	}
	return out
}

// setup creates a group admitting SSH from 203.0.113.0/24 (where the
// test's requests come from) and an instance bound to it.
func (g *guardServer) setup(t *testing.T) (sg, ins string) {
	t.Helper()
	out := g.must(t, g.acct, "vpc", "CreateSecurityGroupWithPolicies", `{"GroupName":"login","GroupDescription":"","SecurityGroupPolicySet":{"Ingress":[
		{"Protocol":"TCP","Port":"22","CidrBlock":"203.0.113.0/24","Action":"ACCEPT"},
		{"Protocol":"TCP","Port":"80","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`)
	sg = out["SecurityGroup"].(map[string]any)["SecurityGroupId"].(string)
	out = g.must(t, g.pl, "palisade", "RegisterInstances", fmt.Sprintf(`{"AccountId":%q,"Instances":[{"InstanceName":"web-1","OsType":"linux","Zone":"ap-guangzhou-3","PrivateIpAddresses":["10.0.0.5"]}]}`, g.accountID))
	ins = out["InstanceIdSet"].([]any)[0].(string)
	g.must(t, g.acct, "cvm", "AssociateSecurityGroups", fmt.Sprintf(`{"SecurityGroupIds":[%q],"InstanceIds":[%q]}`, sg, ins))
	return sg, ins
}

func ingress(t *testing.T, g *guardServer, sg string) []string {
	t.Helper()
	out := g.must(t, g.acct, "vpc", "DescribeSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q}`, sg))
	var ps []string
	for _, p := range out["SecurityGroupPolicySet"].(map[string]any)["Ingress"].([]any) {
		m := p.(map[string]any)
		ps = append(ps, fmt.Sprintf("%v %v %v %v", m["Action"], m["Protocol"], m["Port"], m["CidrBlock"]))
	}
	return ps
}

// TestLockoutProtection: through the API, writes that would cut the
// caller's own SSH path are refused unless forced; the others pass.
func TestLockoutProtection(t *testing.T) {
	g := newGuardServer(t)
	sg, ins := g.setup(t)
	before := ingress(t, g, sg)

	writes := []struct {
		name, svc, action, body string
	}{
		{"delete the ssh policy", "vpc", "DeleteSecurityGroupPolicies", `{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0}]}}`},
		{"a drop above it", "vpc", "CreateSecurityGroupPolicies", `{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"22","CidrBlock":"203.0.113.7/32","Action":"DROP"}]}}`},
		{"replace it", "vpc", "ReplaceSecurityGroupPolicy", `{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"22","CidrBlock":"10.0.0.0/8","Action":"ACCEPT"}]}}`},
		{"modify the set", "vpc", "ModifySecurityGroupPolicies", `{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"Protocol":"TCP","Port":"80","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			out, code := g.call(t, g.acct, w.svc, w.action, fmt.Sprintf(w.body, sg))
			if code != "FailedOperation.LockoutPrevented" {
				t.Fatalf("%s: code %q (%v), want FailedOperation.LockoutPrevented", w.action, code, out["Message"])
			}
			msg := fmt.Sprint(out["Message"])
			if !strings.Contains(msg, ins) || !strings.Contains(msg, sg+" policy 0") || !strings.Contains(msg, "Force") {
				t.Errorf("message %q does not name the instance, the policy and Force", msg)
			}
			if got := ingress(t, g, sg); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Fatalf("a refused write changed the group: %v, was %v", got, before)
			}
		})
	}
	// Unbinding the group, or binding another before it that drops SSH.
	out := g.must(t, g.acct, "vpc", "CreateSecurityGroupWithPolicies", `{"GroupName":"deny","GroupDescription":"","SecurityGroupPolicySet":{"Ingress":[{"Protocol":"ALL","CidrBlock":"0.0.0.0/0","Action":"DROP"}]}}`)
	deny := out["SecurityGroup"].(map[string]any)["SecurityGroupId"].(string)
	for _, w := range []struct{ action, body string }{
		{"DisassociateSecurityGroups", fmt.Sprintf(`{"SecurityGroupIds":[%q],"InstanceIds":[%q]}`, sg, ins)},
		{"ModifyInstancesAttribute", fmt.Sprintf(`{"SecurityGroups":[%q,%q],"InstanceIds":[%q]}`, deny, sg, ins)},
	} {
		if _, code := g.call(t, g.acct, "cvm", w.action, w.body); code != "FailedOperation.LockoutPrevented" {
			t.Errorf("%s: code %q, want FailedOperation.LockoutPrevented", w.action, code)
		}
	}
	// From another address, whose SSH the group does not admit, nothing
	// is cut; nor from the Palisade host itself.
	for _, from := range []string{"198.51.100.9", "127.0.0.1"} {
		g.setSource(from)
		g.must(t, g.acct, "vpc", "CreateSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0,"Protocol":"TCP","Port":"22","CidrBlock":"0.0.0.0/0","Action":"DROP"}]}}`, sg))
		g.must(t, g.acct, "vpc", "DeleteSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0}]}}`, sg))
	}
	g.setSource("203.0.113.7")
	// Binding the deny group after the login group leaves SSH alone.
	g.must(t, g.acct, "cvm", "AssociateSecurityGroups", fmt.Sprintf(`{"SecurityGroupIds":[%q],"InstanceIds":[%q]}`, deny, ins))
	// A write that keeps SSH passes; a forced one passes too.
	g.must(t, g.acct, "vpc", "CreateSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"SecurityGroupPolicySet":{"Ingress":[{"Protocol":"TCP","Port":"443","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`, sg))
	g.must(t, g.acct, "vpc", "DeleteSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"Force":true,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0}]}}`, sg))
	if got := ingress(t, g, sg); len(got) != 2 || !strings.Contains(got[0], "80") {
		t.Errorf("after the forced delete: %v", got)
	}
	// Now that SSH is cut, nothing the caller does can cut it again.
	g.must(t, g.acct, "cvm", "DisassociateSecurityGroups", fmt.Sprintf(`{"SecurityGroupIds":[%q],"InstanceIds":[%q]}`, sg, ins))
	if _, code := g.call(t, g.acct, "vpc", "DeleteSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"Force":"maybe","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":0}]}}`, sg)); code == "" {
		t.Error("Force \"maybe\" accepted")
	}
}

// history returns the group's history as "VERSION ACTION SECRETID",
// newest first.
func history(t *testing.T, g *guardServer, sg string) []string {
	t.Helper()
	out := g.must(t, g.acct, "palisade", "DescribeSecurityGroupHistory", fmt.Sprintf(`{"SecurityGroupId":%q}`, sg))
	var h []string
	for _, e := range out["HistorySet"].([]any) {
		m := e.(map[string]any)
		h = append(h, fmt.Sprintf("%v %v %v", m["Version"], m["Action"], m["SecretId"]))
	}
	return h
}

// TestConfirmOrRevert: through the API, a write with ConfirmWithin is
// reverted by the sweeper as a recorded version unless confirmed in time;
// a confirmed one stays.
func TestConfirmOrRevert(t *testing.T) {
	ctx := context.Background()
	g := newGuardServer(t)
	sg, _ := g.setup(t)
	before := ingress(t, g, sg)
	add := fmt.Sprintf(`{"SecurityGroupId":%q,"ConfirmWithin":60,"SecurityGroupPolicySet":{"Ingress":[{"Protocol":"TCP","Port":"8080","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`, sg)
	out := g.must(t, g.acct, "vpc", "CreateSecurityGroupPolicies", add)
	if out["Version"] != "2" || out["ConfirmBy"] != "2026-05-06T07:09:09Z" {
		t.Fatalf("write with ConfirmWithin answered %v, want Version 2 to confirm by 07:09:09", out)
	}
	// Not yet due.
	g.advance(59 * time.Second)
	if n, err := g.svc.SweepUnconfirmed(ctx); err != nil || n != 0 {
		t.Fatalf("sweep before the deadline: %d, %v", n, err)
	}
	g.advance(time.Second)
	if n, err := g.svc.SweepUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("sweep at the deadline: %d, %v, want 1 reverted", n, err)
	}
	if got := ingress(t, g, sg); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("after the revert: %v, want %v", got, before)
	}
	h := history(t, g, sg)
	if len(h) < 2 || h[0] != "3 RevertUnconfirmedChange palisade" || !strings.HasPrefix(h[1], "2 CreateSecurityGroupPolicies ") {
		t.Errorf("history %q, want the revert recorded as version 3", h)
	}
	if _, code := g.call(t, g.acct, "palisade", "ConfirmSecurityGroupChange", fmt.Sprintf(`{"SecurityGroupId":%q,"Version":"2"}`, sg)); code != "ResourceNotFound" {
		t.Errorf("confirming a reverted change: code %q, want ResourceNotFound", code)
	}

	// Confirmed in time, it stays; confirming the wrong version fails.
	out = g.must(t, g.acct, "vpc", "CreateSecurityGroupPolicies", add)
	if out["Version"] != "4" {
		t.Fatalf("second write answered %v", out)
	}
	if _, code := g.call(t, g.acct, "palisade", "ConfirmSecurityGroupChange", fmt.Sprintf(`{"SecurityGroupId":%q,"Version":"3"}`, sg)); code != "UnsupportedOperation.VersionMismatch" {
		t.Errorf("confirming another version: code %q, want UnsupportedOperation.VersionMismatch", code)
	}
	g.must(t, g.acct, "palisade", "ConfirmSecurityGroupChange", fmt.Sprintf(`{"SecurityGroupId":%q,"Version":"4"}`, sg))
	g.advance(time.Hour)
	if n, err := g.svc.SweepUnconfirmed(ctx); err != nil || n != 0 {
		t.Fatalf("sweep after the confirmation: %d, %v", n, err)
	}
	if got := ingress(t, g, sg); len(got) != 3 {
		t.Errorf("after the confirmation: %v, want the new policy kept", got)
	}

	// Two unconfirmed writes: the revert goes back to before the first.
	g.must(t, g.acct, "vpc", "DeleteSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"ConfirmWithin":"30","SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":2}]}}`, sg))
	g.must(t, g.acct, "vpc", "DeleteSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"ConfirmWithin":30,"SecurityGroupPolicySet":{"Ingress":[{"PolicyIndex":1}]}}`, sg))
	g.advance(31 * time.Second)
	if n, err := g.svc.SweepUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("sweep of two writes: %d, %v", n, err)
	}
	if got := ingress(t, g, sg); len(got) != 3 {
		t.Errorf("after reverting two writes: %v, want version 4's three policies", got)
	}
	if h := history(t, g, sg); h[0] != "7 RevertUnconfirmedChange palisade" {
		t.Errorf("history %q, want the revert as version 7", h)
	}

	// ConfirmWithin goes with policy writes only, and within bounds.
	for _, c := range []struct{ svc, action, body string }{
		{"vpc", "ModifySecurityGroupAttribute", fmt.Sprintf(`{"SecurityGroupId":%q,"GroupName":"x","ConfirmWithin":60}`, sg)},
		{"vpc", "CreateSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"ConfirmWithin":0,"SecurityGroupPolicySet":{"Ingress":[{"Protocol":"TCP","Port":"9","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`, sg)},
		{"vpc", "CreateSecurityGroupPolicies", fmt.Sprintf(`{"SecurityGroupId":%q,"ConfirmWithin":86401,"SecurityGroupPolicySet":{"Ingress":[{"Protocol":"TCP","Port":"9","CidrBlock":"0.0.0.0/0","Action":"ACCEPT"}]}}`, sg)},
	} {
		if _, code := g.call(t, g.acct, c.svc, c.action, c.body); code == "" {
			t.Errorf("%s %s accepted", c.action, c.body)
		}
	}
}
