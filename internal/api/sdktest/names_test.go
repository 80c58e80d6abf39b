package sdktest

import (
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// Names are unique per account and region; "default" belongs to the
// projects' default groups, so no other group may take it.
func TestDefaultNameIsReserved(t *testing.T) {
	e := newEnv(t, envOptions{})
	def, err := e.vpc().CreateDefaultSecurityGroup(vpc.NewCreateDefaultSecurityGroupRequest())
	if err != nil {
		t.Fatal(err)
	}
	// Another project has its own default group of the same name.
	req1 := vpc.NewCreateDefaultSecurityGroupRequest()
	req1.ProjectId = common.StringPtr("1")
	other, err := e.vpc().CreateDefaultSecurityGroup(req1)
	if err != nil || *other.Response.SecurityGroup.SecurityGroupId == *def.Response.SecurityGroup.SecurityGroupId {
		t.Fatalf("default group of project 1 = %v, %v", other, err)
	}

	create := vpc.NewCreateSecurityGroupRequest()
	create.GroupName, create.GroupDescription = common.StringPtr("default"), common.StringPtr("")
	_, err = e.vpc().CreateSecurityGroup(create)
	if code(err) != "InvalidParameterValue.Duplicate" {
		t.Errorf("CreateSecurityGroup named default: %s (%s), want InvalidParameterValue.Duplicate", code(err), message(err))
	}

	g := e.group("web", nil, nil)
	rename := vpc.NewModifySecurityGroupAttributeRequest()
	rename.SecurityGroupId, rename.GroupName = &g, common.StringPtr("default")
	if _, err := e.vpc().ModifySecurityGroupAttribute(rename); code(err) != "InvalidParameterValue.Duplicate" {
		t.Errorf("rename to default: %s (%s), want InvalidParameterValue.Duplicate", code(err), message(err))
	}

	clone := vpc.NewCloneSecurityGroupRequest()
	clone.SecurityGroupId = def.Response.SecurityGroup.SecurityGroupId
	if _, err := e.vpc().CloneSecurityGroup(clone); code(err) != "InvalidParameterValue.Duplicate" {
		t.Errorf("clone of the default group keeping its name: %s (%s), want InvalidParameterValue.Duplicate", code(err), message(err))
	}
	clone.GroupName = common.StringPtr("default-copy")
	if _, err := e.vpc().CloneSecurityGroup(clone); err != nil {
		t.Errorf("clone of the default group under a new name: %v", err)
	}

	var names []string
	nextSecond() // {} was signed for CreateDefaultSecurityGroup
	res, err := e.vpc().DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range res.Response.SecurityGroupSet {
		names = append(names, *sg.SecurityGroupName)
	}
	n := 0
	for _, name := range names {
		if name == "default" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("groups %q: want exactly the two projects' default groups named default", names)
	}
}

// Names that would look like another name, or like the reserved "default",
// are refused with the field named; descriptions refuse bidi controls. A
// refused name creates nothing.
func TestNamesRefuseLookalikes(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tt := range []struct {
		name, group, desc, code string
	}{
		{name: "leading space", group: " web", code: "InvalidParameterValue.Malformed"},
		{name: "trailing space", group: "web ", code: "InvalidParameterValue.Malformed"},
		{name: "space before default", group: " default", code: "InvalidParameterValue.Malformed"},
		{name: "upper-case default", group: "DEFAULT", code: "InvalidParameterValue.Duplicate"},
		{name: "mixed-case default", group: "Default", code: "InvalidParameterValue.Duplicate"},
		{name: "zero-width space", group: "we\u200bb", code: "InvalidParameterValue.Malformed"},
		{name: "zero-width joiner", group: "web\u200d", code: "InvalidParameterValue.Malformed"},
		{name: "byte order mark", group: "\ufeffweb", code: "InvalidParameterValue.Malformed"},
		{name: "right-to-left override", group: "bew\u202e", code: "InvalidParameterValue.Malformed"},
		{name: "control character", group: "web\x07", code: "InvalidParameterValue.Malformed"},
		{name: "newline", group: "web\nprod", code: "InvalidParameterValue.Malformed"},
		{name: "bidi in description", group: "web", desc: "safe\u202egnp.exe", code: "InvalidParameterValue.Malformed"},
		{name: "plain", group: "web-prod", desc: "line one\nline two", code: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := vpc.NewCreateSecurityGroupRequest()
			req.GroupName, req.GroupDescription = common.StringPtr(tt.group), common.StringPtr(tt.desc)
			_, err := e.vpc().CreateSecurityGroup(req)
			if code(err) != tt.code {
				t.Errorf("CreateSecurityGroup(%q, %q) = %s (%s), want %q", tt.group, tt.desc, code(err), message(err), tt.code)
			}
		})
	}
	res, err := e.vpc().DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Response.SecurityGroupSet); n != 1 {
		t.Errorf("%d groups after the refused names, want only web-prod", n)
	}
}

// A CIDR written as a prefix of the unspecified address is the whole
// family, as in the cloud, and the write says so.
func TestWidenedCIDRIsWarned(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("web", nil, nil)
	var out struct {
		Warnings []struct{ Code, Direction, Message string }
	}
	err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{"SecurityGroupId": g,
		"SecurityGroupPolicySet": map[string]any{"Ingress": []map[string]any{{"Protocol": "TCP", "Port": "80", "CidrBlock": "0.0.0.0/8", "Action": "ACCEPT"}}}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Warnings) != 1 || out.Warnings[0].Code != "WIDENED_CIDR" || !strings.Contains(out.Warnings[0].Message, "0.0.0.0/8 was widened to 0.0.0.0/0") {
		t.Errorf("warnings = %+v, want one WIDENED_CIDR naming 0.0.0.0/8", out.Warnings)
	}
	if got := compact(e.describe(e.vpc(), g).Ingress); len(got) != 1 || got[0] != "ACCEPT TCP 80 0.0.0.0/0" {
		t.Errorf("stored %q, want the whole family", got)
	}
}
