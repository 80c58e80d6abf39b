package sdktest

import (
	"bytes"
	"encoding/json"
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
	skipShort(t)
	e := newEnv(t, envOptions{})
	c := e.vpc()
	g := e.group("target", []string{"ACCEPT TCP 22 10.0.0.0/8 # ssh", "DROP ALL ALL 0.0.0.0/0"}, []string{"ACCEPT ALL ALL 0.0.0.0/0"})
	before := e.describe(c, g)
	version := *before.Version
	snapshot := func() []byte {
		t.Helper()
		b, err := json.Marshal(e.describe(c, g))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := snapshot()
	unchanged := func(t *testing.T) {
		t.Helper()
		if got := snapshot(); !bytes.Equal(got, want) {
			t.Errorf("policy set changed by a rejected write:\n%s\nwant\n%s", got, want)
		}
	}

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
		{"Protocol empty", func(p *vpc.SecurityGroupPolicy) { p.Protocol = s("") }, "MissingParameter"},
		{"Protocol tcpp", func(p *vpc.SecurityGroupPolicy) { p.Protocol = s("tcpp") }, "InvalidParameterValue.Malformed"},
		{"Port 0", func(p *vpc.SecurityGroupPolicy) { p.Port = s("0") }, "InvalidParameterValue.Range"},
		{"Port 65536", func(p *vpc.SecurityGroupPolicy) { p.Port = s("65536") }, "InvalidParameterValue.Range"},
		{"Port 70000", func(p *vpc.SecurityGroupPolicy) { p.Port = s("70000") }, "InvalidParameterValue.Range"},
		{"Port range reversed", func(p *vpc.SecurityGroupPolicy) { p.Port = s("8080-80") }, "InvalidParameterValue.Range"},
		{"Port range 9-1", func(p *vpc.SecurityGroupPolicy) { p.Port = s("9-1") }, "InvalidParameterValue.Range"},
		{"Port range open", func(p *vpc.SecurityGroupPolicy) { p.Port = s("1-") }, "InvalidParameterValue.Malformed"},
		{"Port comma", func(p *vpc.SecurityGroupPolicy) { p.Port = s(",") }, "InvalidParameterValue.Malformed"},
		{"Port empty item", func(p *vpc.SecurityGroupPolicy) { p.Port = s("80,,443") }, "InvalidParameterValue.Malformed"},
		{"Port words", func(p *vpc.SecurityGroupPolicy) { p.Port = s("http") }, "InvalidParameterValue.Malformed"},
		{"Port on ICMP", func(p *vpc.SecurityGroupPolicy) { p.Protocol, p.Port = s("ICMP"), s("22") }, "InvalidParameterValue.Malformed"},
		{"Port on GRE", func(p *vpc.SecurityGroupPolicy) { p.Protocol, p.Port = s("GRE"), s("22") }, "InvalidParameterValue.Malformed"},
		{"Port on ALL", func(p *vpc.SecurityGroupPolicy) { p.Protocol, p.Port = s("ALL"), s("80") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock prefix 33", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("10.0.0.0/33") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock octet 300", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("300.0.0.1") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock IPv6", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("2001:db8::/32") }, "InvalidParameterValue.Malformed"},
		{"CidrBlock ::/0", func(p *vpc.SecurityGroupPolicy) { p.CidrBlock = s("::/0") }, "InvalidParameterValue.Malformed"},
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
		{"AddressTemplate.AddressGroupId unknown", func(p *vpc.SecurityGroupPolicy) {
			p.CidrBlock, p.AddressTemplate = nil, &vpc.AddressTemplateSpecification{AddressGroupId: s("ipmg-00000000")}
		}, "ResourceNotFound"},
		{"AddressTemplate both ids", func(p *vpc.SecurityGroupPolicy) {
			p.CidrBlock = nil
			p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressId: s("ipm-00000000"), AddressGroupId: s("ipmg-00000000")}
		}, "InvalidParameter.Coexist"},
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
		{"ServiceTemplate.ServiceGroupId unknown", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port, p.ServiceTemplate = nil, nil, &vpc.ServiceTemplateSpecification{ServiceGroupId: s("ppmg-00000000")}
		}, "ResourceNotFound"},
		{"ServiceTemplate with Protocol", func(p *vpc.SecurityGroupPolicy) {
			p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: s("ppm-00000000")}
		}, "InvalidParameter.Coexist"},
		{"ServiceTemplate both ids", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port = nil, nil
			p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: s("ppm-00000000"), ServiceGroupId: s("ppmg-00000000")}
		}, "InvalidParameter.Coexist"},
		{"Action ALLOW", func(p *vpc.SecurityGroupPolicy) { p.Action = s("ALLOW") }, "InvalidParameterValue.Malformed"},
		{"Action allow", func(p *vpc.SecurityGroupPolicy) { p.Action = s("allow") }, "InvalidParameterValue.Malformed"},
		{"Action missing", func(p *vpc.SecurityGroupPolicy) { p.Action = nil }, "MissingParameter"},
		{"PolicyDescription too long", func(p *vpc.SecurityGroupPolicy) { p.PolicyDescription = s(strings.Repeat("d", 101)) }, "InvalidParameterValue.TooLong"},
		{"ICMP with Ipv6CidrBlock", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port, p.CidrBlock, p.Ipv6CidrBlock = s("ICMP"), s("ALL"), nil, s("::/0")
		}, "InvalidParameter.Coexist"},
		{"ICMPv6 with CidrBlock", func(p *vpc.SecurityGroupPolicy) {
			p.Protocol, p.Port = s("ICMPv6"), s("ALL")
		}, "InvalidParameter.Coexist"},
		{"PolicyIndex one past the end", func(p *vpc.SecurityGroupPolicy) { p.PolicyIndex = common.Int64Ptr(3) }, "InvalidParameterValue.Range"},
		{"PolicyIndex past the end", func(p *vpc.SecurityGroupPolicy) { p.PolicyIndex = common.Int64Ptr(50) }, "InvalidParameterValue.Range"},
		{"PolicyIndex negative", func(p *vpc.SecurityGroupPolicy) { p.PolicyIndex = common.Int64Ptr(-1) }, "InvalidParameterValue.Range"},
	}

	// Each bad policy through each write that takes policies. Delete by
	// content starts from a policy the group holds, so a delete that
	// ignored a malformed field would remove it.
	writes := []struct {
		name    string
		indexed bool // the write takes PolicyIndex
		base    func() *vpc.SecurityGroupPolicy
		send    func(p *vpc.SecurityGroupPolicy, version *string) error
	}{
		{"CreateSecurityGroupPolicies", true, good, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewCreateSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.CreateSecurityGroupPolicies(req)
			return err
		}},
		{"ReplaceSecurityGroupPolicy", true, good, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewReplaceSecurityGroupPolicyRequest()
			req.SecurityGroupId = &g
			if p.PolicyIndex == nil {
				p.PolicyIndex = common.Int64Ptr(1)
			}
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.ReplaceSecurityGroupPolicy(req)
			return err
		}},
		{"ReplaceSecurityGroupPolicies", true, good, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewReplaceSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			if p.PolicyIndex == nil {
				p.PolicyIndex = common.Int64Ptr(1)
			}
			first := pol("ACCEPT TCP 2222 10.0.0.0/8")
			first.PolicyIndex = common.Int64Ptr(0)
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{first, p}}
			_, err := c.ReplaceSecurityGroupPolicies(req)
			return err
		}},
		{"ModifySecurityGroupPolicies", false, good, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewModifySecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{pol("ACCEPT TCP 22 10.0.0.0/8"), p}}
			_, err := c.ModifySecurityGroupPolicies(req)
			return err
		}},
		{"DeleteSecurityGroupPolicies", false, func() *vpc.SecurityGroupPolicy { return pol("ACCEPT TCP 22 10.0.0.0/8 # ssh") }, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewDeleteSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: v, Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.DeleteSecurityGroupPolicies(req)
			return err
		}},
		{"CreateSecurityGroupWithPolicies", false, good, func(p *vpc.SecurityGroupPolicy, v *string) error {
			req := vpc.NewCreateSecurityGroupWithPoliciesRequest()
			req.GroupName, req.GroupDescription = s("never-created"), s("")
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{p}}
			_, err := c.CreateSecurityGroupWithPolicies(req)
			return err
		}},
	}
	for _, w := range writes {
		// The same policy sent to another write within one second is a
		// replay of its signature.
		nextSecond()
		for _, tt := range tests {
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				p := w.base()
				tt.mutate(p)
				if p.PolicyIndex != nil && !w.indexed {
					return // this write carries no PolicyIndex
				}
				wantCode(t, w.name, w.send(p, nil), tt.want)
				unchanged(t)
			})
		}
	}
	// Version: not a number, and stale, through every write that takes it.
	for _, w := range writes {
		if w.name == "CreateSecurityGroupWithPolicies" {
			continue // a new group has no Version yet
		}
		for _, tt := range []struct {
			name, version, want string
		}{
			{"Version v7", "v7", "InvalidParameterValue.Malformed"},
			{"Version abc", "abc", "InvalidParameterValue.Malformed"},
			{"Version 1.5", "1.5", "InvalidParameterValue.Malformed"},
			{"Version stale", "0", "UnsupportedOperation.VersionMismatch"},
		} {
			if tt.name == "Version stale" && w.name == "ModifySecurityGroupPolicies" {
				continue // Modify compares no Version; "0" clears the group
			}
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				wantCode(t, tt.name, w.send(w.base(), &tt.version), tt.want)
				unchanged(t)
			})
		}
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
		unchanged(t)
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
		unchanged(t)
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
