package sdktest

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
)

// TestEveryActionErrorPath sends, for every action the API serves, at least
// one request that must fail, and checks the code. The table must name every
// action.
func TestEveryActionErrorPath(t *testing.T) {
	skipShort(t)
	e := newEnv(t, envOptions{})
	g := e.group("err-g", []string{"ACCEPT TCP 22 10.0.0.0/8"}, nil)
	g2 := e.group("err-g2", nil, nil)
	ins := e.register(gz, instance{name: "err", ip: "10.0.0.71"})[0]
	okPolicy := map[string]any{"Protocol": "TCP", "Port": "80", "CidrBlock": "10.0.0.0/8", "Action": "ACCEPT"}
	set := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	type row struct {
		action  string
		as      cred   // default: the admin
		region  string // default: Guangzhou
		params  map[string]any
		want    string
		message string // in the message, when set
	}
	rows := []row{
		{action: "CreateSecurityGroup", params: set("GroupDescription", "x"), want: "MissingParameter", message: "GroupName"},
		{action: "CreateSecurityGroupWithPolicies", params: set("GroupName", "w", "GroupDescription", "",
			"SecurityGroupPolicySet", set("Ingress", []any{set("PolicyIndex", 1, "Protocol", "TCP", "Port", "22", "CidrBlock", "10.0.0.0/8", "Action", "ACCEPT")})),
			want: "InvalidParameterValue.Range", message: "PolicyIndex"},
		{action: "CreateDefaultSecurityGroup", params: set("ProjectId", "zero"), want: "InvalidParameterValue.Malformed", message: "zero"},
		{action: "DescribeSecurityGroups", params: set("Limit", "101"), want: "InvalidParameterValue.Range", message: "Limit"},
		{action: "ModifySecurityGroupAttribute", params: set("SecurityGroupId", g, "GroupName", strings.Repeat("n", 61)), want: "InvalidParameterValue.TooLong"},
		{action: "DeleteSecurityGroup", params: set("SecurityGroupId", "sg-00000000"), want: "InvalidSecurityGroupID.NotFound", message: "sg-00000000"},
		{action: "CloneSecurityGroup", params: set("SecurityGroupId", "sg-00000000"), want: "ResourceNotFound"},
		{action: "CloneSecurityGroup", params: set("SecurityGroupId", g, "RemoteRegion", "ap-nowhere"), want: "UnsupportedRegion"},
		{action: "DescribeSecurityGroupAssociationStatistics", params: set(), want: "MissingParameter"},
		{action: "DescribeSecurityGroupReferences", params: set("SecurityGroupIds", []string{"sg-BAD"}), want: "InvalidParameterValue.Malformed", message: "sg-BAD"},
		{action: "DescribeSecurityGroupLimits", region: "ap-nowhere", params: set(), want: "UnsupportedRegion"},
		{action: "DescribeSecurityGroupPolicies", params: set("SecurityGroupId", g, "Filters", []any{set("Name", "colour", "Values", []string{"red"})}),
			want: "InvalidParameter.FilterInvalidKey", message: "colour"},
		{action: "CreateSecurityGroupPolicies", params: set("SecurityGroupId", g, "SecurityGroupPolicySet", set("Version", "7", "Ingress", []any{okPolicy})),
			want: "UnsupportedOperation.VersionMismatch"},
		{action: "DeleteSecurityGroupPolicies", params: set("SecurityGroupId", g, "SecurityGroupPolicySet", set("Ingress", []any{set("PolicyIndex", 5)})),
			want: "InvalidParameterValue.Range"},
		{action: "ReplaceSecurityGroupPolicy", params: set("SecurityGroupId", g, "SecurityGroupPolicySet", set("Ingress", []any{okPolicy})),
			want: "MissingParameter", message: "PolicyIndex"},
		{action: "ReplaceSecurityGroupPolicies", params: set("SecurityGroupId", g, "SecurityGroupPolicySet", set("Egress", []any{set("PolicyIndex", 0, "Protocol", "TCP", "Port", "80", "CidrBlock", "10.0.0.0/8", "Action", "ACCEPT")})),
			want: "InvalidParameterValue.Range"},
		{action: "ModifySecurityGroupPolicies", params: set("SecurityGroupId", g), want: "MissingParameter", message: "SecurityGroupPolicySet"},
		{action: "ModifySecurityGroupPolicies", params: set("SecurityGroupId", g, "SecurityGroupPolicySet", set("Version", "zero")), want: "InvalidParameterValue.Malformed"},
		{action: "CreateAddressTemplate", params: set("AddressTemplateName", "a", "Addresses", []string{"10.0.0.0/33"}), want: "InvalidParameterValue.Malformed", message: "10.0.0.0/33"},
		{action: "DescribeAddressTemplates", params: set("Filters", []any{set("Name", "colour", "Values", []string{"x"})}), want: "InvalidParameter.FilterInvalidKey"},
		{action: "ModifyAddressTemplateAttribute", params: set("AddressTemplateId", "ipm-00000000", "AddressTemplateName", "x"), want: "ResourceNotFound"},
		{action: "DeleteAddressTemplate", params: set("AddressTemplateId", "ipm-00000000"), want: "ResourceNotFound"},
		{action: "CreateAddressTemplateGroup", params: set("AddressTemplateGroupName", "g", "AddressTemplateIds", []string{"ipm-00000000"}), want: "ResourceNotFound"},
		{action: "DescribeAddressTemplateGroups", params: set("Limit", "x"), want: "InvalidParameterValue.Malformed"},
		{action: "ModifyAddressTemplateGroupAttribute", params: set("AddressTemplateGroupId", "ipmg-00000000", "AddressTemplateGroupName", "x"), want: "ResourceNotFound"},
		{action: "DeleteAddressTemplateGroup", params: set("AddressTemplateGroupId", "ipmg-00000000"), want: "ResourceNotFound"},
		{action: "CreateServiceTemplate", params: set("ServiceTemplateName", "s", "Services", []string{"tcp:http"}), want: "InvalidParameterValue.Malformed", message: "tcp:http"},
		{action: "DescribeServiceTemplates", params: set("Offset", "-1"), want: "InvalidParameterValue.Range"},
		{action: "ModifyServiceTemplateAttribute", params: set("ServiceTemplateId", "ppm-00000000", "ServiceTemplateName", "x"), want: "ResourceNotFound"},
		{action: "DeleteServiceTemplate", params: set(), want: "MissingParameter"},
		{action: "CreateServiceTemplateGroup", params: set("ServiceTemplateGroupName", "g"), want: "MissingParameter"},
		{action: "DescribeServiceTemplateGroups", params: set("Limit", "500"), want: "InvalidParameterValue.Range"},
		{action: "ModifyServiceTemplateGroupAttribute", params: set("ServiceTemplateGroupId", "ppmg-00000000", "ServiceTemplateGroupName", "x"), want: "ResourceNotFound"},
		{action: "DeleteServiceTemplateGroup", params: set("ServiceTemplateGroupId", "ppmg-BAD"), want: "InvalidParameterValue.Malformed"},

		{action: "AssociateSecurityGroups", params: set("SecurityGroupIds", []string{g, g2}, "InstanceIds", []string{ins}), want: "InvalidParameterValue.LimitExceeded"},
		{action: "AssociateSecurityGroups", params: set("SecurityGroupIds", []string{"sg-00000000"}, "InstanceIds", []string{ins}), want: "InvalidSecurityGroupId.NotFound"},
		{action: "DisassociateSecurityGroups", params: set("SecurityGroupIds", []string{g}, "InstanceIds", []string{"ins-00000000"}), want: "InvalidInstanceId.NotFound"},
		{action: "DisassociateSecurityGroups", params: set("SecurityGroupIds", []string{g, g2}, "InstanceIds", []string{ins}), want: "InvalidParameterValue.LimitExceeded"},
		{action: "ModifyInstancesAttribute", params: set("InstanceIds", []string{ins}, "InstanceName", "x", "SecurityGroups", []string{g}), want: "InvalidParameter.Coexist"},
		{action: "DescribeInstances", params: set("Limit", 101), want: "InvalidParameterValue.Range"},
		{action: "TerminateInstances", params: set(), want: "MissingParameter"},
		{action: "StopInstances", params: set("StopType", "SOFT"), want: "MissingParameter", message: "InstanceIds"},
		{action: "StartInstances", params: set("InstanceIds", []string{"ins-00000000"}), want: "InvalidInstanceId.NotFound", message: "ins-00000000"},

		{action: "RegisterInstances", params: set("AccountId", e.account, "Instances", []any{set("Zone", "ap-guangzhou-3")}), want: "UnauthorizedOperation"},
		{action: "RegisterInstances", as: e.platform, params: set("AccountId", e.account, "Instances", []any{set("Zone", "ap-guangzhou-9")}), want: "InvalidParameterValue.Malformed", message: "Zone"},
		{action: "PurgeInstances", params: set("InstanceIds", []string{"ins-00000000"}), want: "InvalidInstanceId.NotFound"},
		{action: "UnblockPort25", as: e.reader, params: set(), want: "UnauthorizedOperation"},
		{action: "DescribeAccount", as: e.host, params: set(), want: "UnauthorizedOperation"},
		{action: "DescribeSecurityGroupTemplates", as: e.host, params: set(), want: "UnauthorizedOperation"},
		{action: "DescribeCommonPorts", as: e.host, params: set(), want: "UnauthorizedOperation"},
		{action: "DescribeSecurityGroupHistory", params: set("SecurityGroupId", g, "Limit", "101"), want: "InvalidParameterValue.Range", message: "Limit"},
		{action: "RestoreSecurityGroupVersion", as: e.reader, params: set("SecurityGroupId", g, "Version", "1"), want: "UnauthorizedOperation"},
		{action: "RestoreSecurityGroupVersion", params: set("SecurityGroupId", g, "Version", "99"), want: "ResourceNotFound", message: "version 99"},
		{action: "SimulateTraffic", params: set("InstanceId", ins, "Direction", "UP", "Protocol", "TCP", "Address", "192.0.2.1", "Port", 22), want: "InvalidParameterValue.Malformed"},
		{action: "DescribeSecurityGroupFindings", params: set("SecurityGroupIds", []string{g}, "InstanceIds", []string{ins}), want: "InvalidParameterValue.Malformed", message: "not both"},
		{action: "DescribeSecurityGroupFindings", as: e.host, params: set("SecurityGroupIds", []string{g}), want: "UnauthorizedOperation"},
		{action: "CheckReachability", params: set("Source", "192.0.2.1", "Destination", ins, "Protocol", "TCP"), want: "MissingParameter", message: "Port"},
		{action: "CheckReachability", as: e.host, params: set("Source", "192.0.2.1", "Destination", ins, "Protocol", "TCP", "Port", 22), want: "UnauthorizedOperation"},
		{action: "PreviewSecurityGroupChange", params: set("SecurityGroupId", g), want: "MissingParameter", message: "SecurityGroupPolicySet"},
		{action: "PreviewSecurityGroupChange", params: set("InstanceId", ins, "SecurityGroupIds", []string{"sg-00000000"}), want: "ResourceNotFound", message: "sg-00000000"},
		{action: "ConfirmSecurityGroupChange", params: set("SecurityGroupId", g, "Version", "1"), want: "ResourceNotFound", message: "awaits confirmation"},
		{action: "ConfirmSecurityGroupChange", as: e.reader, params: set("SecurityGroupId", g, "Version", "1"), want: "UnauthorizedOperation"},
		{action: "DescribeHostState", params: set(), want: "UnauthorizedOperation", message: "host credential only"},
		{action: "WatchHostState", as: e.host, params: set("Revision", 0, "WaitSeconds", 61), want: "InvalidParameterValue.Range", message: "WaitSeconds"},
		{action: "WatchHostState", as: e.platform, params: set("Revision", 0), want: "UnauthorizedOperation"},
		{action: "DescribeSecurityGroupPropagation", params: set("SecurityGroupIds", []string{"sg-00000000"}), want: "ResourceNotFound", message: "sg-00000000"},
		{action: "DescribeSecurityGroupPolicyStatistics", params: set(), want: "MissingParameter", message: "SecurityGroupId"},
		{action: "ReportHostStatus", as: e.host, params: set("AppliedRevision", 1, "AgentStartTime", "noon"), want: "InvalidParameterValue.Malformed", message: "AgentStartTime"},

		{action: "DescribeResourceTagsByResourceIds", params: set("ServiceType", "cvm", "ResourcePrefix", "sg", "ResourceIds", []string{g}, "Limit", 401),
			want: "InvalidParameterValue.Range", message: "Limit"},
		{action: "ModifyResourceTags", params: set("Resource", "qcs::cvm:ap-guangzhou:uin/:sg/"+g, "ReplaceTags", []any{set("TagKey", "", "TagValue", "x")}),
			want: "InvalidParameterValue.TagKeyEmpty", message: "ReplaceTags.0.TagKey"},
	}
	services := map[string]string{
		"AssociateSecurityGroups": "cvm", "DisassociateSecurityGroups": "cvm", "ModifyInstancesAttribute": "cvm", "DescribeInstances": "cvm", "TerminateInstances": "cvm",
		"StopInstances": "cvm", "StartInstances": "cvm",
		"RegisterInstances": "palisade", "PurgeInstances": "palisade", "UnblockPort25": "palisade", "DescribeAccount": "palisade", "SimulateTraffic": "palisade",
		"DescribeSecurityGroupTemplates": "palisade", "DescribeCommonPorts": "palisade",
		"DescribeSecurityGroupHistory": "palisade", "RestoreSecurityGroupVersion": "palisade", "DescribeSecurityGroupFindings": "palisade",
		"DescribeHostState": "palisade", "WatchHostState": "palisade", "ReportHostStatus": "palisade",
		"DescribeSecurityGroupPropagation": "palisade",
		"CheckReachability":                "palisade", "PreviewSecurityGroupChange": "palisade",
		"DescribeResourceTagsByResourceIds": "tag", "ModifyResourceTags": "tag",
	}
	covered := map[string]bool{}
	// signed holds what was signed in the current second: the same
	// parameters for another action are a replay until the next second.
	signed := map[string]bool{}
	for _, r := range rows {
		covered[r.action] = true
		t.Run(r.action+"/"+r.want, func(t *testing.T) {
			as, region, svc := r.as, r.region, services[r.action]
			if as == (cred{}) {
				as = e.admin
			}
			if region == "" {
				region = gz
			}
			if svc == "" {
				svc = "vpc"
			}
			ver := version
			if svc == "tag" {
				ver = tagVersion
			}
			body, _ := json.Marshal(r.params)
			key := as.id + " " + svc + " " + string(body)
			if signed[key] {
				nextSecond()
				clear(signed)
			}
			signed[key] = true
			err := e.callAt(as, region, svc, ver, r.action, r.params, nil)
			wantCode(t, r.action, err, r.want)
			if !strings.Contains(message(err), r.message) {
				t.Errorf("%s: message %q does not name %q", r.action, message(err), r.message)
			}
		})
	}
	for _, a := range api.ActionNames() {
		if !covered[a] {
			t.Errorf("no error path tested for %s", a)
		}
	}
	// Nothing the rejected writes touched changed.
	nextSecond() // a write above had the body of this describe
	if got := compact(e.describe(e.vpc(), g).Ingress); !slices.Equal(got, []string{"ACCEPT TCP 22 10.0.0.0/8"}) {
		t.Errorf("%s after rejected writes: %q", g, got)
	}
}

// TestDeletePoliciesModes: one request deletes by index or by content, never
// both, in either order.
func TestDeletePoliciesModes(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("modes", []string{"ACCEPT TCP 1 10.0.0.0/8", "ACCEPT TCP 2 10.0.0.0/8"}, nil)
	for _, tt := range []struct {
		name string
		list []*vpc.SecurityGroupPolicy
		want string
	}{
		{"index then content", []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(0)}, pol("ACCEPT TCP 2 10.0.0.0/8")}, "InvalidParameter.Coexist"},
		{"content then index", []*vpc.SecurityGroupPolicy{pol("ACCEPT TCP 2 10.0.0.0/8"), {PolicyIndex: common.Int64Ptr(0)}}, "InvalidParameter.Coexist"},
		{"index and content in one entry", []*vpc.SecurityGroupPolicy{func() *vpc.SecurityGroupPolicy {
			p := pol("ACCEPT TCP 2 10.0.0.0/8")
			p.PolicyIndex = common.Int64Ptr(1)
			return p
		}()}, "InvalidParameter.Coexist"},
		{"index past the end", []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(2)}}, "InvalidParameterValue.Range"},
		{"negative index", []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(-1)}}, "InvalidParameterValue.Range"},
		{"both directions", nil, "InvalidParameter.Coexist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := vpc.NewDeleteSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &g
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: tt.list}
			if tt.list == nil {
				req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 1 10.0.0.0/8"), Egress: policies("ACCEPT TCP 1 10.0.0.0/8")}
			}
			_, err := e.vpc().DeleteSecurityGroupPolicies(req)
			wantCode(t, tt.name, err, tt.want)
		})
	}
	set := e.describe(e.vpc(), g)
	if got := compact(set.Ingress); len(got) != 2 || *set.Version != "1" {
		t.Errorf("rejected deletes changed the group: %q version %s", got, *set.Version)
	}
}

// TestDescribeSecurityGroupsPagingAndFilters: Offset and Limit as strings,
// their bounds, and filters: different names ANDed, values of one name
// ORed, the same name twice ANDed.
func TestDescribeSecurityGroupsPagingAndFilters(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	create := func(name, project string, tags ...string) string {
		req := vpc.NewCreateSecurityGroupRequest()
		req.GroupName, req.GroupDescription, req.ProjectId = &name, common.StringPtr(""), &project
		for i := 0; i < len(tags); i += 2 {
			req.Tags = append(req.Tags, &vpc.Tag{Key: &tags[i], Value: &tags[i+1]})
		}
		res, err := c.CreateSecurityGroup(req)
		if err != nil {
			t.Fatalf("CreateSecurityGroup %s: %v", name, err)
		}
		return *res.Response.SecurityGroup.SecurityGroupId
	}
	web := create("web", "1", "env", "prod", "team", "a")
	db := create("db", "1", "env", "test")
	cache := create("cache", "2", "env", "prod")
	create("bare", "2")

	filter := func(kv ...any) []*vpc.Filter {
		var out []*vpc.Filter
		for i := 0; i < len(kv); i += 2 {
			out = append(out, &vpc.Filter{Name: common.StringPtr(kv[i].(string)), Values: common.StringPtrs(kv[i+1].([]string))})
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		filters []*vpc.Filter
		want    []string
	}{
		{"values ORed", filter("security-group-name", []string{"web", "db"}), []string{web, db}},
		{"names ANDed", filter("security-group-name", []string{"web", "db", "cache"}, "project-id", []string{"1"}), []string{web, db}},
		{"same name twice ANDed", filter("security-group-name", []string{"web", "db"}, "security-group-name", []string{"db", "cache"}), []string{db}},
		{"tag value", filter("tag:env", []string{"prod"}), []string{web, cache}},
		{"tag values ORed", filter("tag:env", []string{"prod", "test"}), []string{web, db, cache}},
		{"tag and project", filter("tag:env", []string{"prod"}, "project-id", []string{"2"}), []string{cache}},
		{"tag-key", filter("tag-key", []string{"team"}), []string{web}},
		{"tag-key twice ANDed", filter("tag-key", []string{"team", "nope"}, "tag-key", []string{"env"}), []string{web}},
		{"id and name", filter("security-group-id", []string{web, db}, "security-group-name", []string{"db"}), []string{db}},
		{"disjoint", filter("project-id", []string{"1"}, "project-id", []string{"2"}), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := vpc.NewDescribeSecurityGroupsRequest()
			req.Filters = tt.filters
			res, err := c.DescribeSecurityGroups(req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range res.Response.SecurityGroupSet {
				got = append(got, *g.SecurityGroupId)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) || *res.Response.TotalCount != uint64(len(want)) {
				t.Errorf("groups %v (total %d), want %v", got, *res.Response.TotalCount, want)
			}
		})
	}

	page := func(offset, limit *string) (*vpc.DescribeSecurityGroupsResponse, error) {
		req := vpc.NewDescribeSecurityGroupsRequest()
		req.Offset, req.Limit = offset, limit
		return c.DescribeSecurityGroups(req)
	}
	s := common.StringPtr
	var seen []string
	for off := 0; off < 4; off += 3 {
		res, err := page(s(itoa(off)), s("3"))
		if err != nil {
			t.Fatalf("page at %d: %v", off, err)
		}
		if *res.Response.TotalCount != 4 {
			t.Errorf("page at %d: TotalCount %d, want 4", off, *res.Response.TotalCount)
		}
		for _, g := range res.Response.SecurityGroupSet {
			seen = append(seen, *g.SecurityGroupId)
		}
	}
	if slices.Sort(seen); len(slices.Compact(seen)) != 4 {
		t.Errorf("pages of 3 returned %v, want the 4 groups once each", seen)
	}
	if res, err := page(s("10"), s("3")); err != nil || len(res.Response.SecurityGroupSet) != 0 || *res.Response.TotalCount != 4 {
		t.Errorf("offset past the end: %v", err)
	}
	if res, err := page(nil, s("100")); err != nil || len(res.Response.SecurityGroupSet) != 4 {
		t.Errorf("Limit 100: %v", err)
	}
	for _, tt := range []struct {
		name          string
		offset, limit *string
		want          string
	}{
		{"Limit 101", nil, s("101"), "InvalidParameterValue.Range"},
		{"Limit -1", nil, s("-1"), "InvalidParameterValue.Range"},
		{"Limit ten", nil, s("ten"), "InvalidParameterValue.Malformed"},
		{"Offset -1", s("-1"), nil, "InvalidParameterValue.Range"},
		{"Offset 1.5", s("1.5"), nil, "InvalidParameterValue.Malformed"},
	} {
		_, err := page(tt.offset, tt.limit)
		wantCode(t, tt.name, err, tt.want)
	}
	req := vpc.NewDescribeSecurityGroupsRequest()
	req.SecurityGroupIds, req.Filters = common.StringPtrs([]string{web}), filter("project-id", []string{"1"})
	_, err := c.DescribeSecurityGroups(req)
	wantCode(t, "SecurityGroupIds with Filters", err, "InvalidParameter.Coexist")
	req = vpc.NewDescribeSecurityGroupsRequest()
	req.Filters = filter("project-id", []string{"1"}, "project-id", []string{"2"}, "colour", []string{"red"})
	_, err = c.DescribeSecurityGroups(req)
	wantCode(t, "an unknown filter after one that matches nothing", err, "InvalidParameter.FilterInvalidKey")
	req.Filters = filter("project-id", []string{"one"})
	_, err = c.DescribeSecurityGroups(req)
	wantCode(t, "project-id one", err, "InvalidParameterValue.Malformed")
}

// TestDescribeInstancesPaging: cvm's Offset and Limit are integers.
func TestDescribeInstancesPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	var specs []instance
	for i := range 5 {
		specs = append(specs, instance{name: "p" + itoa(i), ip: "10.0.1." + itoa(i+1)})
	}
	ids := e.register(gz, specs...)
	var seen []string
	for off := int64(0); off < 5; off += 2 {
		req := cvm.NewDescribeInstancesRequest()
		req.Offset, req.Limit = common.Int64Ptr(off), common.Int64Ptr(2)
		res, err := e.cvm().DescribeInstances(req)
		if err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		if *res.Response.TotalCount != 5 {
			t.Errorf("offset %d: TotalCount %d, want 5", off, *res.Response.TotalCount)
		}
		for _, in := range res.Response.InstanceSet {
			seen = append(seen, *in.InstanceId)
		}
	}
	if slices.Sort(seen); len(slices.Compact(seen)) != 5 {
		t.Errorf("pages of 2 returned %v, want the 5 instances once each", seen)
	}

	// security-group-id: values ORed, the filter twice ANDed.
	ga, gb := e.group("ga", nil, nil), e.group("gb", nil, nil)
	e.bind(ids[0], ga, gb)
	e.bind(ids[1], ga)
	e.bind(ids[2], gb)
	for _, tt := range []struct {
		name    string
		filters []*cvm.Filter
		want    []string
	}{
		{"one group", []*cvm.Filter{{Name: common.StringPtr("security-group-id"), Values: common.StringPtrs([]string{ga})}}, []string{ids[0], ids[1]}},
		{"values ORed", []*cvm.Filter{{Name: common.StringPtr("security-group-id"), Values: common.StringPtrs([]string{ga, gb})}}, ids[:3]},
		{"twice ANDed", []*cvm.Filter{
			{Name: common.StringPtr("security-group-id"), Values: common.StringPtrs([]string{ga})},
			{Name: common.StringPtr("security-group-id"), Values: common.StringPtrs([]string{gb})},
		}, ids[:1]},
		{"and a name", []*cvm.Filter{
			{Name: common.StringPtr("security-group-id"), Values: common.StringPtrs([]string{gb})},
			{Name: common.StringPtr("instance-name"), Values: common.StringPtrs([]string{"p2", "p3"})},
		}, ids[2:3]},
	} {
		req := cvm.NewDescribeInstancesRequest()
		req.Filters = tt.filters
		res, err := e.cvm().DescribeInstances(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, in := range res.Response.InstanceSet {
			got = append(got, *in.InstanceId)
		}
		if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(tt.want))) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct {
		name          string
		offset, limit int64
		want          string
	}{
		{"Limit 101", 0, 101, "InvalidParameterValue.Range"},
		{"Offset -1", -1, 10, "InvalidParameterValue.Range"},
	} {
		req := cvm.NewDescribeInstancesRequest()
		req.Offset, req.Limit = common.Int64Ptr(tt.offset), common.Int64Ptr(tt.limit)
		_, err := e.cvm().DescribeInstances(req)
		wantCode(t, tt.name, err, tt.want)
	}
}

// TestBindingsAllOrNothing: a binding change naming several instances,
// one of which is wrong (missing, in another region, over its quota,
// purged), changes none of them; groups and instances of another region
// are not found.
func TestBindingsAllOrNothing(t *testing.T) {
	e := newEnv(t, envOptions{quotas: service.Quotas{GroupsPerInstance: 2}})
	ids := e.register(gz, instance{name: "a", ip: "10.0.2.1"}, instance{name: "b", ip: "10.0.2.2"}, instance{name: "gone", ip: "10.0.2.3"})
	a, b, gone := ids[0], ids[1], ids[2]
	far := e.register(sh, instance{name: "far", ip: "10.0.2.4"})[0]
	g1, g2, g3 := e.group("g1", nil, nil), e.group("g2", nil, nil), e.group("g3", nil, nil)
	gsh := e.groupIn(e.admin, sh, "gsh", nil, nil)
	e.bind(a, g1, g2)
	e.bind(b, g1)
	e.bind(gone, g1)
	if err := e.call(e.admin, gz, "cvm", "TerminateInstances", map[string]any{"InstanceIds": []string{gone}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.call(e.admin, gz, "palisade", "PurgeInstances", map[string]any{"InstanceIds": []string{gone}}, nil); err != nil {
		t.Fatal(err)
	}

	bindings := func() map[string][]string {
		t.Helper()
		req := cvm.NewDescribeInstancesRequest()
		req.InstanceIds = common.StringPtrs([]string{a, b})
		res, err := e.cvm().DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, in := range res.Response.InstanceSet {
			out[*in.InstanceId] = common.StringValues(in.SecurityGroupIds)
		}
		return out
	}
	before := bindings()
	modify := func(instances, groups []string) error {
		req := cvm.NewModifyInstancesAttributeRequest()
		req.InstanceIds, req.SecurityGroups = common.StringPtrs(instances), common.StringPtrs(groups)
		_, err := e.cvm().ModifyInstancesAttribute(req)
		return err
	}
	associate := func(region string, instances []string, group string) error {
		req := cvm.NewAssociateSecurityGroupsRequest()
		req.InstanceIds, req.SecurityGroupIds = common.StringPtrs(instances), common.StringPtrs([]string{group})
		_, err := e.cvmAs(e.admin, region).AssociateSecurityGroups(req)
		return err
	}
	disassociate := func(instances []string, group string) error {
		req := cvm.NewDisassociateSecurityGroupsRequest()
		req.InstanceIds, req.SecurityGroupIds = common.StringPtrs(instances), common.StringPtrs([]string{group})
		_, err := e.cvm().DisassociateSecurityGroups(req)
		return err
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"modify with a missing instance last", modify([]string{a, b, "ins-00000000"}, []string{g3}), "InvalidInstanceId.NotFound"},
		{"modify with a missing group", modify([]string{a, b}, []string{g3, "sg-00000000"}), "InvalidSecurityGroupId.NotFound"},
		{"modify with a purged instance", modify([]string{a, b, gone}, []string{g3}), "UnsupportedOperation"},
		{"modify over the quota", modify([]string{b, a}, []string{g1, g2, g3}), "LimitExceeded.AssociateUSGLimitExceeded"},
		{"modify with a group of another region", modify([]string{a, b}, []string{gsh}), "InvalidSecurityGroupId.NotFound"},
		{"associate with an instance of another region", associate(gz, []string{b, far}, g3), "InvalidInstanceId.NotFound"},
		{"associate a group of another region", associate(gz, []string{b}, gsh), "InvalidSecurityGroupId.NotFound"},
		{"associate from the group's region to an instance elsewhere", associate(sh, []string{far, b}, gsh), "InvalidInstanceId.NotFound"},
		{"associate over the quota on the second instance", associate(gz, []string{b, a}, g3), "LimitExceeded.AssociateUSGLimitExceeded"},
		{"disassociate with a missing instance last", disassociate([]string{a, b, "ins-00000000"}, g1), "InvalidInstanceId.NotFound"},
	} {
		wantCode(t, tt.name, tt.err, tt.want)
		if got := bindings(); !maps.EqualFunc(got, before, slices.Equal) {
			t.Errorf("%s changed bindings: %v, want %v", tt.name, got, before)
		}
	}
}

// TestWrongTypesNeverInternal sends values of the wrong JSON kind in the
// fields the actions take, to every action: each answer is a success (a
// field the action does not take is ignored) or a parameter error, never an
// internal error.
func TestWrongTypesNeverInternal(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("types", nil, nil)
	bodies := []map[string]any{
		{"SecurityGroupId": map[string]any{"id": g}},
		{"SecurityGroupIds": g},
		{"InstanceIds": map[string]any{}},
		{"InstanceId": []string{"ins-00000000"}},
		{"SecurityGroupPolicySet": "Ingress"},
		{"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": "x"}},
		{"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Egress": []any{1, "x"}}},
		{"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": []any{map[string]any{"AddressTemplate": "ipm-00000000", "Action": "ACCEPT"}}}},
		{"SecurityGroupId": g, "SortPolicys": []any{}},
		{"Filters": []any{map[string]any{"Name": "project-id", "Values": map[string]any{}}}},
		{"Filters": "security-group-name"},
		{"Limit": []any{}, "Offset": map[string]any{}},
		{"Instances": []any{map[string]any{"ProjectId": map[string]any{}}}},
		{"Port": map[string]any{}, "Direction": 7},
		{"AddressesExtra": "x", "ServicesExtra": []any{"x"}},
		{"Tags": []any{map[string]any{"Key": []any{}}}},
		{"GroupName": map[string]any{}, "ProjectId": []any{}},
	}
	n := 0
	for _, action := range api.ActionNames() {
		for _, b := range bodies {
			svc := "vpc"
			switch action {
			case "AssociateSecurityGroups", "DisassociateSecurityGroups", "ModifyInstancesAttribute", "DescribeInstances", "TerminateInstances":
				svc = "cvm"
			}
			// A field no action takes, different in every request, so
			// that the same body sent to the next action is not a replay
			// of this one's signature.
			n++
			b := maps.Clone(b)
			b["Nonce"] = n
			err := e.call(e.admin, gz, svc, action, b, nil)
			if c := code(err); strings.HasPrefix(c, "InternalError") || strings.HasPrefix(c, "not an API error") || strings.HasPrefix(c, "AuthFailure") {
				t.Errorf("%s %s: %s (%s)", action, mustJSON(b), c, message(err))
			}
		}
	}
}
