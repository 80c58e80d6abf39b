package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// TestDescribeSecurityGroupFindings drives the findings of a group alone
// and of an instance bound to two groups through the API.
func TestDescribeSecurityGroupFindings(t *testing.T) {
	ctx := context.Background()
	srv := palisadetest.NewServer(t)
	rule := func(action, proto, port, cidr string) wire.SecurityGroupPolicyInput {
		return wire.SecurityGroupPolicyInput{Action: wire.NewString(action), Protocol: wire.NewString(proto), Port: wire.NewString(port), CidrBlock: wire.NewString(cidr)}
	}
	group := func(name string, ingress, egress []wire.SecurityGroupPolicyInput) string {
		r, err := srv.Client.CreateSecurityGroupWithPolicies(ctx, &wire.CreateSecurityGroupWithPoliciesRequest{GroupName: wire.NewString(name),
			SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: ingress, Egress: egress}})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return r.SecurityGroup.SecurityGroupId
	}
	deny := group("deny", []wire.SecurityGroupPolicyInput{rule("DROP", "TCP", "3389", "0.0.0.0/0")}, nil)
	web := group("web", []wire.SecurityGroupPolicyInput{
		rule("ACCEPT", "TCP", "22", "0.0.0.0/0"),
		rule("ACCEPT", "TCP", "22", "10.0.0.0/8"),
		rule("ACCEPT", "TCP", "3389", "10.0.0.0/8"),
	}, []wire.SecurityGroupPolicyInput{rule("ACCEPT", "TCP", "25", "0.0.0.0/0")})
	reg, err := srv.Platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{AccountId: wire.NewString(srv.AccountID),
		Instances: []wire.InstanceSpec{{InstanceName: wire.NewString("win"), OsType: wire.NewString("windows"), Zone: wire.NewString("ap-guangzhou-3"),
			PrivateIpAddresses: wire.Strings("10.0.0.5")}}})
	if err != nil {
		t.Fatal(err)
	}
	ins := reg.InstanceIdSet[0]
	for _, g := range []string{deny, web} {
		if _, err := srv.Client.AssociateSecurityGroups(ctx, &wire.AssociateSecurityGroupsRequest{SecurityGroupIds: wire.Strings(g), InstanceIds: wire.Strings(ins)}); err != nil {
			t.Fatal(err)
		}
	}
	summary := func(fs []wire.Finding) []string {
		var out []string
		for _, f := range fs {
			s := fmt.Sprintf("%s %s %s %s", f.Kind, f.Severity, f.SecurityGroupId, f.Direction)
			if f.PolicyIndex != nil {
				s += fmt.Sprintf(" %d", *f.PolicyIndex)
			}
			out = append(out, s)
		}
		return out
	}

	t.Run("group alone", func(t *testing.T) {
		resp, err := srv.Client.DescribeSecurityGroupFindings(ctx, &wire.DescribeSecurityGroupFindingsRequest{SecurityGroupIds: wire.Strings(web)})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"EXPOSED_PORT HIGH " + web + " INGRESS 0",
			"REDUNDANT LOW " + web + " INGRESS 1",
			"PORT25_BLOCKED MEDIUM " + web + " EGRESS 0",
		}
		if got := summary(resp.FindingSet); !slices.Equal(got, want) || resp.TotalCount != uint64(len(want)) {
			t.Fatalf("findings = %q (%d), want %q", got, resp.TotalCount, want)
		}
		red := resp.FindingSet[1]
		if len(red.Policies) != 2 || red.Policies[1].SecurityGroupId != web || red.Policies[1].PolicyIndex == nil || *red.Policies[1].PolicyIndex != 0 || red.InstanceId != "" {
			t.Errorf("REDUNDANT finding %+v, want policy 0 named as covering it", red)
		}
	})

	t.Run("instance", func(t *testing.T) {
		resp, err := srv.Client.DescribeSecurityGroupFindings(ctx, &wire.DescribeSecurityGroupFindingsRequest{InstanceIds: wire.Strings(ins)})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"EXPOSED_PORT HIGH " + web + " INGRESS 0",
			"REDUNDANT LOW " + web + " INGRESS 1",
			"SHADOWED MEDIUM " + web + " INGRESS 2",
			"SHADOWED MEDIUM " + web + " EGRESS 0",
			"PORT25_BLOCKED MEDIUM " + web + " EGRESS 0",
			"NO_LOGIN_PORT MEDIUM  INGRESS",
			"NO_PING LOW  INGRESS",
			"NO_EGRESS MEDIUM  EGRESS",
		}
		if got := summary(resp.FindingSet); !slices.Equal(got, want) {
			t.Fatalf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		sh := resp.FindingSet[2]
		if sh.InstanceId != ins || len(sh.Policies) != 2 || sh.Policies[1].SecurityGroupId != deny || sh.Policies[1].Action != "DROP" {
			t.Errorf("SHADOWED finding %+v, want %s's DROP named", sh, deny)
		}
		if p := resp.FindingSet[3].Policies; len(p) != 2 || p[1].Platform != "PORT25_BLOCKED" || p[1].PolicyIndex != nil {
			t.Errorf("egress SHADOWED policies %+v, want the platform's port 25 rule", p)
		}
		if m := resp.FindingSet[5].Message; !strings.Contains(m, "TCP 3389") {
			t.Errorf("NO_LOGIN_PORT message %q, want the windows login port", m)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		code := func(err error) string {
			var ce *client.Error
			if errors.As(err, &ce) {
				return ce.Code
			}
			return fmt.Sprint(err)
		}
		for _, tt := range []struct {
			name string
			req  wire.DescribeSecurityGroupFindingsRequest
			want string
		}{
			{"nothing asked", wire.DescribeSecurityGroupFindingsRequest{}, "MissingParameter"},
			{"both lists", wire.DescribeSecurityGroupFindingsRequest{SecurityGroupIds: wire.Strings(web), InstanceIds: wire.Strings(ins)}, "InvalidParameterValue"},
			{"malformed id", wire.DescribeSecurityGroupFindingsRequest{SecurityGroupIds: wire.Strings("sg-x")}, "InvalidParameterValue"},
			{"unknown group", wire.DescribeSecurityGroupFindingsRequest{SecurityGroupIds: wire.Strings("sg-00000000")}, "ResourceNotFound"},
			{"unknown instance", wire.DescribeSecurityGroupFindingsRequest{InstanceIds: wire.Strings("ins-00000000")}, "InvalidInstanceId.NotFound"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := srv.Client.DescribeSecurityGroupFindings(ctx, &tt.req)
				if got := code(err); !strings.HasPrefix(got, tt.want) {
					t.Errorf("DescribeSecurityGroupFindings: code %s (%v), want %s", got, err, tt.want)
				}
			})
		}
	})
}
