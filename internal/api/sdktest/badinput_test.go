package sdktest

import (
	"slices"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// TestBadInputChangesNothing sends malformed values in every field of a
// policy, through every policy write, and checks the code and that the
// stored policies and Version are unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	g := e.group("target", []string{"ACCEPT TCP 22 10.0.0.0/8 # ssh", "DROP ALL ALL 0.0.0.0/0"}, []string{"ACCEPT ALL ALL 0.0.0.0/0"})
	before := e.describe(c, g)
	version := *before.Version

	good := func() *vpc.SecurityGroupPolicy { return pol("ACCEPT TCP 443 0.0.0.0/0") }
	s := common.StringPtr
	tests := []struct {
		name   string
		mutate func(p *vpc.SecurityGroupPolicy)
		want   string
	}{
		{"Protocol unknown", func(p *vpc.SecurityGroupPolicy) { p.Protocol = s("TCPX") }, "InvalidParameterValue.Malformed"},
		{"Protocol a number", func(p *vpc.SecurityGroupPolicy) { p.Protocol = s("6") }, "InvalidParameterValue.Malformed"},
		{"Protocol missing", func(p *vpc.SecurityGroupPolicy) { p.Protocol = nil }, "MissingParameter"},
		{"Port 0", func(p *vpc.SecurityGroupPolicy) { p.Port = s("0") }, "InvalidParameterValue.Range"},
		{"Port 70000", func(p *vpc.SecurityGroupPolicy) { p.Port = s("70000") }, "InvalidParameterValue.Range"},
		{"Port range reversed", func(p *vpc.SecurityGroupPolicy) { p.Port = s("8080-80") }, "InvalidParameterValue.Range"},
		{"Port empty item", func(p *vpc.SecurityGroupPolicy) { p.Port = s("80,,443") }, "InvalidParameterValue.Malformed"},
		{"Port words", func(p *vpc.SecurityGroupPolicy) { p.Port = s("http") }, "InvalidParameterValue.Malformed"},
		{"Port on ICMP", func(p *vpc.SecurityGroupPolicy) { p.Protocol, p.Port = s("ICMP"), s("22") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock prefix 33", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("10.0.0.0/33") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock octet 300", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("300.0.0.1") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock IPv6", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("2001:db8::/32") }, "InvalidParameterValue.Malformed"},
		{"Ipv6CidrBlock IPv4", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock, p.Ipv6CidrBlock = nil, s("10.0.0.0/8") }, "InvalidParameterValue.Malformed"},
		{"Ipv6CidrBlock prefix 129", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock, p.Ipv6CidrBlock = nil, s("2001:db8::/129") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock with Ipv6CidrBlock", func(p *vpc.SecurityGroupPolicy) { p.Ipv6CidrBlock = s("::/0") }, "InvalidParameter.Coexist"},
		{"no peer", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = nil }, "MissingParameter"},
		{"SecurityGroupId malformed", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock, p.SecurityGroupId = nil, s("sg-BAD") }, "InvalidParameterValue.Malformed"},
		{"SecurityGroupId unknown", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock, p.SecurityGroupId = nil, s("sg-00000000") }, "ResourceNotFound"},
		{"SecurityGroupId with CidrBlock", func(p *vpc.SecurityGroupPolicy) { p.SecurityGroupId = s(g) }, "InvalidParameter.Coexist"},
		{"AddressTemplate.AddressId malformed", func(p *vpc.SecurityGroupPolicy) {
			p.CidrBlock, p.AddressTemplate = nil, &vpc.AddressTemplateSpecification{AddressId: s("ipm-x")}
		}, "InvalidParameterValue.Malformed"},
		{"AddressTemplate.AddressId unknown", func(p *vpc.SecurityGroupPolicy) {
			p.CidrBlock, p.AddressTemplate = nil, &vpc.AddressTemplateSpecification{AddressId: s("ipm-00000000")}
		}, "ResourceNotFound"},
		{"AddressTemplate.AddressGroupId malformed", func(p *vpc.SecurityGroupPolicy) {
			p.CidrBlock, p.AddressTemplate = nil, &vpc.AddressTemplateSpecification{AddressGroupId: s("ipmg-TOOLONG123")}
		}, "InvalidParameterValue.Malformed"},
		{"AddressTemplate with CidrBlock", func(p *vpc.SecurityGroupPolicy) {
			p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressId: s("ipm-00000000")}
		}, "InvalidParameter.Coexist"},
		{"ServiceTemplate.ServiceId malformed", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port, p.ServiceTemplate = nil, nil, &vpc.ServiceTemplateSpecification{ServiceId: s("ppm-x")}
		}, "InvalidParameterValue.Malformed"},
		{"ServiceTemplate.ServiceGroupId malformed", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port, p.ServiceTemplate = nil, nil, &vpc.ServiceTemplateSpecification{ServiceGroupId: s("ppmg-!")}
		}, "InvalidParameterValue.Malformed"},
		{"ServiceTemplate.ServiceId unknown", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port, p.ServiceTemplate = nil, nil, &vpc.ServiceTemplateSpecification{ServiceId: s("ppm-00000000")}
		}, "ResourceNotFound"},
		{"ServiceTemplate with Protocol", func(p *vpc.SecurityGroupPolicy) {
			p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: s("ppm-00000000")}
		}, "InvalidParameter.Coexist"},
		{"ServiceTemplate both ids", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port = nil, nil
			p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: s("ppm-00000000"), ServiceGroupId: s("ppmg-00000000")}
		}, "InvalidParameter.Coexist"},
		{"Action ALLOW", func(p *vpc.SecurityGroupPolicy) { p.Action = s("ALLOW") }, "InvalidParameterValue.Malformed"},
		{"Action missing", func(p *vpc.SecurityGroupPolicy) { p.Action = nil }, "MissingParameter"},
		{"PolicyDescription too long", func(p *vpc.SecurityGroupPolicy) { p.PolicyDescription = s(strings.Repeat("d", 101)) }, "InvalidParameterValue.TooLong"},
		{"ICMP with Ipv6CidrBlock", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port, p.CidrBlock, p.Ipv6CidrBlock = s("ICMP"), s("ALL"), nil, s("::/0")
		}, "InvalidParameter.Coexist"},
		{"PolicyIndex past the end", func(p *vpc.SecurityGroupPolicy) { p.PolicyIndex = common.Int64Ptr(50) }, "InvalidParameterValue.Range"},
		{"PolicyIndex negative", func(p *vpc.SecurityGroupPolicy) { p.PolicyIndex = common.Int64Ptr(-1) }, "InvalidParameterValue.Range"},
	}

	// Each bad policy through each write that takes policies.
	writes := []struct {
		name    string
		indexed bool // the write takes PolicyIndex
		send    func(p *vpc.SecurityGroupPolicy, version *string) error
	}{
		{"CreateSecurityGroupPolicies", true, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewCreateSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.CreateSecurityGroupPolicies(req)
			return err
		}},
		{"ReplaceSecurityGroupPolicy", true, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewReplaceSecurityGroupPolicyRequest()
			req.SecurityGroupId = &g
			if p.PolicyIndex == nil {
				p.PolicyIndex = common.Int64Ptr(1)
			}
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.ReplaceSecurityGroupPolicy(req)
			return err
		}},
		{"ModifySecurityGroupPolicies", false, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewModifySecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{pol("ACCEPT TCP 22 10.0.0.0/8"), p}}
			_, err := c.ModifySecurityGroupPolicies(req)
			return err
		}},
		{"CreateSecurityGroupWithPolicies", false, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewCreateSecurityGroupWithPoliciesRequest()
			req.GroupName, req.GroupDescription = s("never-created"), s("")
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.CreateSecurityGroupWithPolicies(req)
			return err
		}},
	}
	for _, w := range writes {
		for _, tt := range tests {
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				p := good()
				tt.mutate(p)
				if p.PolicyIndex != nil && !w.indexed {
					return // this write carries no PolicyIndex
				}
				wantCode(t, w.name, w.send(p, nil), tt.want)
			})
		}
	}
	// Version: malformed and stale.
	for _, tt := range []struct {
		name, version, want string
	}{
		{"Version malformed", "v7", "InvalidParameterValue.Malformed"},
		{"Version stale", "0", "UnsupportedOperation.VersionMismatch"},
	} {
		t.Run("CreateSecurityGroupPolicies/"+tt.name, func(t *testing.T) {
			wantCode(t, tt.name, writes[0].send(good(), &tt.version), tt.want)
		})
	}
	// Delete by a malformed index or by content that matches nothing.
	t.Run("DeleteSecurityGroupPolicies", func(t *testing.T) {
		req := vpc.NewDeleteSecurityGroupPoliciesRequest()
		req.SecurityGroupId = &g
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(9)}}}
		_, err := c.DeleteSecurityGroupPolicies(req)
		wantCode(t, "delete index 9", err, "InvalidParameterValue.Range")
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{pol("ACCEPT TCP 9999 10.9.9.9")}}
		_, err = c.DeleteSecurityGroupPolicies(req)
		if got := code(err); got != "ResourceNotFound" && !strings.HasPrefix(got, "InvalidParameter") {
			t.Errorf("delete content that matches nothing: code %q", got)
		}
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(0)}, pol("DROP ALL ALL 0.0.0.0/0")}}
		_, err = c.DeleteSecurityGroupPolicies(req)
		if got := code(err); !strings.HasPrefix(got, "InvalidParameter") && got != "MissingParameter" {
			t.Errorf("delete mixing index and content: code %q", got)
		}
	})
	// The GET form and string-typed numbers go through the same checks.
	t.Run("PolicyIndex as a word", func(t *testing.T) {
		err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
			"SecurityGroupId": g,
			"SecurityGroupPolicySet": map[string]any{"Ingress": []map[string]any{
				{"PolicyIndex": "first", "Protocol": "TCP", "Port": "1", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}}},
		}, nil)
		wantCode(t, "PolicyIndex first", err, "InvalidParameterValue.Malformed")
		if !strings.Contains(message(err), "PolicyIndex") || !strings.Contains(message(err), "first") {
			t.Errorf("message %q names neither the field nor the value", message(err))
		}
	})

	after := e.describe(c, g)
	if *after.Version != version {
		t.Errorf("Version %s after rejected writes, want %s", *after.Version, version)
	}
	if !slices.Equal(compact(after.Ingress), compact(before.Ingress)) || !slices.Equal(compact(after.Egress), compact(before.Egress)) {
		t.Errorf("policies changed by rejected writes:\n%q %q\nwant\n%q %q", compact(after.Ingress), compact(after.Egress), compact(before.Ingress), compact(before.Egress))
	}
	list := vpc.NewDescribeSecurityGroupsRequest()
	list.Filters = []*vpc.Filter{{Name: s("security-group-name"), Values: common.StringPtrs([]string{"never-created"})}}
	if res, err := c.DescribeSecurityGroups(list); err != nil || *res.Response.TotalCount != 0 {
		t.Errorf("a rejected CreateSecurityGroupWithPolicies left a group (%v)", err)
	}
}

// TestMessagesNameFieldAndValue: errors say which field and which value.
func TestMessagesNameFieldAndValue(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("msg", nil, nil)
	req := vpc.NewCreateSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &g
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 22 0.0.0.0/0", "ACCEPT TCP 99999 0.0.0.0/0")}
	_, err := e.vpc().CreateSecurityGroupPolicies(req)
	if msg := message(err); !strings.Contains(msg, "Ingress.1.Port") || !strings.Contains(msg, "99999") {
		t.Errorf("message %q should name SecurityGroupPolicySet.Ingress.1.Port and 99999", msg)
	}
}
