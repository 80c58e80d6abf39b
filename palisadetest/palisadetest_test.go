package palisadetest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// TestNewServer uses the helper as a user's test would: create a group,
// add a policy, read it back, and see an API error with its code.
func TestNewServer(t *testing.T) {
	ctx := context.Background()
	srv := palisadetest.NewServer(t)
	g, err := srv.Client.CreateSecurityGroup(ctx, &wire.CreateSecurityGroupRequest{GroupName: wire.NewString("web"), GroupDescription: wire.NewString("")})
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	id := g.SecurityGroup.SecurityGroupId
	_, err = srv.Client.CreateSecurityGroupPolicies(ctx, &wire.CreateSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(id),
		SecurityGroupPolicySet: &wire.SecurityGroupPolicySetInput{Ingress: []wire.SecurityGroupPolicyInput{{
			Protocol: wire.NewString("tcp"), Port: wire.NewString("22"), CidrBlock: wire.NewString("10.0.0.0/8"), Action: wire.NewString("accept")}}}})
	if err != nil {
		t.Fatalf("CreateSecurityGroupPolicies: %v", err)
	}
	pol, err := srv.Client.DescribeSecurityGroupPolicies(ctx, &wire.DescribeSecurityGroupPoliciesRequest{SecurityGroupId: wire.NewString(id)})
	if err != nil {
		t.Fatalf("DescribeSecurityGroupPolicies: %v", err)
	}
	in := pol.SecurityGroupPolicySet.Ingress
	if len(in) != 1 || in[0].Protocol != "TCP" || in[0].Port != "22" || in[0].Action != "ACCEPT" || pol.SecurityGroupPolicySet.Version != "1" {
		t.Errorf("policies = %+v, version %s; want one ACCEPT TCP 22 at version 1", in, pol.SecurityGroupPolicySet.Version)
	}

	reg, err := srv.Platform.RegisterInstances(ctx, &wire.RegisterInstancesRequest{AccountId: wire.NewString(srv.AccountID),
		Instances: []wire.InstanceSpec{{InstanceName: wire.NewString("vm"), OsType: wire.NewString("linux"), Zone: wire.NewString("ap-guangzhou-3"), PrivateIpAddresses: wire.Strings("10.0.0.5")}}})
	if err != nil || len(reg.InstanceIdSet) != 1 {
		t.Fatalf("RegisterInstances = %v, %v", reg, err)
	}

	_, err = srv.Client.DeleteSecurityGroup(ctx, &wire.DeleteSecurityGroupRequest{SecurityGroupId: wire.NewString("sg-00000000")})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Code != "InvalidSecurityGroupID.NotFound" {
		t.Errorf("DeleteSecurityGroup(unknown) = %v, want InvalidSecurityGroupID.NotFound", err)
	}
}
