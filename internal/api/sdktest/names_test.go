package sdktest

import (
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
