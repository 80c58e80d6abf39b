package sdktest

import (
	"fmt"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestFullDisk fills a store capped at a few hundred pages through the
// SDK: the write that does not fit fails with InternalError and leaves
// nothing behind, every group acknowledged before keeps its policies, and
// the server goes on answering reads (and refusing that write) with the
// store full.
func TestFullDisk(t *testing.T) {
	e := newEnv(t, envOptions{store: sqlite.Options{MaxPageCount: 200}, quotas: service.Quotas{GroupsPerRegion: 1000}})
	c := e.vpc()
	create := func(i int) (string, error) {
		req := vpc.NewCreateSecurityGroupWithPoliciesRequest()
		req.GroupName = common.StringPtr(fmt.Sprintf("g%03d", i))
		req.GroupDescription = common.StringPtr("filling the store")
		var specs []string
		for j := range 100 {
			specs = append(specs, fmt.Sprintf("ACCEPT TCP %d 10.%d.%d.0/24 # rule %d of group %d, long enough to take room", 1000+j, i%250, j, j, i))
		}
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies(specs...)}
		res, err := c.CreateSecurityGroupWithPolicies(req)
		if err != nil {
			return "", err
		}
		return *res.Response.SecurityGroup.SecurityGroupId, nil
	}
	var acked []string
	var full error
	for i := range 200 {
		id, err := create(i)
		if err != nil {
			full = err
			break
		}
		acked = append(acked, id)
	}
	if full == nil || len(acked) < 2 {
		t.Fatalf("after %d groups, error %v; want the store to fill up after a few", len(acked), full)
	}
	wantCode(t, "write to a full store", full, "InternalError")

	check := func(when string) {
		t.Helper()
		req := vpc.NewDescribeSecurityGroupsRequest()
		req.Limit = common.StringPtr("100")
		res, err := c.DescribeSecurityGroups(req)
		if err != nil {
			t.Fatalf("%s: DescribeSecurityGroups: %v", when, err)
		}
		if n := int(*res.Response.TotalCount); n != len(acked) {
			names := []string{}
			for _, g := range res.Response.SecurityGroupSet {
				names = append(names, *g.SecurityGroupName)
			}
			t.Errorf("%s: %d groups %v, want the %d acknowledged", when, n, names, len(acked))
		}
		for _, id := range acked {
			req := vpc.NewDescribeSecurityGroupPoliciesRequest()
			req.SecurityGroupId = common.StringPtr(id)
			res, err := c.DescribeSecurityGroupPolicies(req)
			if err != nil {
				t.Fatalf("%s: DescribeSecurityGroupPolicies(%s): %v", when, id, err)
			}
			if got := len(res.Response.SecurityGroupPolicySet.Ingress); got != 100 {
				t.Errorf("%s: %s has %d ingress policies, want 100", when, id, got)
			}
		}
	}
	check("once full")
	// The same write fails again, and reads go on. (Signed in the next
	// second: the replay cache refuses a write's signature seen before.)
	nextSecond()
	_, err := create(len(acked))
	wantCode(t, "the same write again", err, "InternalError")
	check("after another failed write")
}
