package cli

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/wire"
)

// TestServeSweepsExpiredPolicies: serve runs the expiry sweeper, which
// removes a policy past its ExpiresAt as a new version recorded in the
// group's history.
func TestServeSweepsExpiredPolicies(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "palisade.db")
	addr, printed, stop := startServe(t, ServeConfig{DSN: dsn, ExpirySweep: 100 * time.Millisecond})
	defer stop()
	m := credLine.FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("serve printed no credentials: %q", printed)
	}
	c := client.New(addr, m[1], m[2], "ap-guangzhou")
	expires := time.Now().UTC().Truncate(time.Second).Add(3 * time.Second)
	g, err := c.CreateSecurityGroupWithPolicies(ctx, &wire.CreateSecurityGroupWithPoliciesRequest{GroupName: wire.NewString("tmp"), GroupDescription: wire.NewString(""),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{
			{Protocol: wire.NewString("TCP"), Port: wire.NewString("22"), CidrBlock: wire.NewString("10.0.0.0/8"), Action: wire.NewString("ACCEPT"),
				ExpiresAt: wire.NewString(expires.Format(time.RFC3339))},
			{Protocol: wire.NewString("TCP"), Port: wire.NewString("80"), CidrBlock: wire.NewString("0.0.0.0/0"), Action: wire.NewString("ACCEPT")},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	id := wire.NewString(g.SecurityGroup.SecurityGroupId)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := c.DescribeSecurityGroupHistory(ctx, &wire.DescribeSecurityGroupHistoryRequest{SecurityGroupId: id, Limit: wire.NewIntString(1)})
		if err != nil {
			t.Fatal(err)
		}
		if e := h.HistorySet[0]; e.Action == "ExpirePolicies" {
			if e.Version != "2" || e.SecretId != "palisade" || e.Diff != "- Ingress 0: ACCEPT TCP 22 10.0.0.0/8 [expires "+expires.Format(time.RFC3339)+"]" {
				t.Errorf("the sweep's history entry = %+v", e)
			}
			if time.Now().Before(expires) {
				t.Errorf("swept at %v, before the expiry %v", time.Now(), expires)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ExpirePolicies in the history 8 s after the expiry: %+v", h.HistorySet)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, err := c.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: id})
	if err != nil || len(p.SecurityGroupPolicySet.Ingress) != 1 || p.SecurityGroupPolicySet.Ingress[0].Port != "80" {
		t.Errorf("after the sweep: %+v, %v; want the port 80 policy only", p, err)
	}
}
