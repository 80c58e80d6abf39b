package sdktest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// Every action through the official SDK: its success and its error paths.

func TestGroupActions(t *testing.T) {
	skipShort(t)
	e := newEnv(t, envOptions{})
	c := e.vpc()

	// CreateSecurityGroup
	create := vpc.NewCreateSecurityGroupRequest()
	create.GroupName, create.GroupDescription, create.ProjectId = common.StringPtr("app"), common.StringPtr(""), common.StringPtr("2")
	create.Tags = []*vpc.Tag{{Key: common.StringPtr("env"), Value: common.StringPtr("prod")}}
	res, err := c.CreateSecurityGroup(create)
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	g := res.Response.SecurityGroup
	if !strings.HasPrefix(*g.SecurityGroupId, "sg-") || *g.ProjectId != "2" || *g.IsDefault || *g.CreatedTime == "" ||
		len(g.TagSet) != 1 || *g.TagSet[0].Key != "env" {
		t.Errorf("created %s project %s default %v created %q tags %d", *g.SecurityGroupId, *g.ProjectId, *g.IsDefault, *g.CreatedTime, len(g.TagSet))
	}
	app := *g.SecurityGroupId
	nextSecond() // the same request again within one second is a replay
	_, err = c.CreateSecurityGroup(create)
	wantCode(t, "CreateSecurityGroup with a taken name", err, "InvalidParameterValue.Duplicate")
	noName := vpc.NewCreateSecurityGroupRequest()
	noName.GroupDescription = common.StringPtr("x")
	_, err = c.CreateSecurityGroup(noName)
	wantCode(t, "CreateSecurityGroup without a name", err, "MissingParameter")
	long := vpc.NewCreateSecurityGroupRequest()
	long.GroupName, long.GroupDescription = common.StringPtr(strings.Repeat("n", 61)), common.StringPtr("")
	_, err = c.CreateSecurityGroup(long)
	wantCode(t, "CreateSecurityGroup with a 61-character name", err, "InvalidParameterValue.TooLong")
	badProject := vpc.NewCreateSecurityGroupRequest()
	badProject.GroupName, badProject.ProjectId = common.StringPtr("p"), common.StringPtr("two")
	_, err = c.CreateSecurityGroup(badProject)
	wantCode(t, "CreateSecurityGroup with ProjectId two", err, "InvalidParameterValue.Malformed")

	// CreateSecurityGroupWithPolicies
	with := vpc.NewCreateSecurityGroupWithPoliciesRequest()
	with.GroupName, with.GroupDescription = common.StringPtr("with"), common.StringPtr("d")
	with.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT tcp 22 10.0.0.0/8", "accept icmp ALL 0.0.0.0/0")}
	wres, err := c.CreateSecurityGroupWithPolicies(with)
	if err != nil {
		t.Fatalf("CreateSecurityGroupWithPolicies: %v", err)
	}
	withID := *wres.Response.SecurityGroup.SecurityGroupId
	set := e.describe(c, withID)
	if got := compact(set.Ingress); !slices.Equal(got, []string{"ACCEPT TCP 22 10.0.0.0/8", "ACCEPT ICMP ALL 0.0.0.0/0"}) {
		t.Errorf("created policies = %q (Protocol and Action must come back upper case)", got)
	}
	with.GroupName = common.StringPtr("with-bad")
	with.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 70000 10.0.0.0/8")}
	_, err = c.CreateSecurityGroupWithPolicies(with)
	if got := code(err); got != "InvalidParameterValue.Range" && got != "InvalidParameterValue.Malformed" {
		t.Errorf("CreateSecurityGroupWithPolicies with port 70000: code %q", got)
	}

	// DescribeSecurityGroups: ids, filters, paging, order.
	for i := range 5 {
		e.group("page-"+itoa(i), nil, nil)
	}
	desc := vpc.NewDescribeSecurityGroupsRequest()
	desc.Filters = []*vpc.Filter{{Name: common.StringPtr("security-group-name"), Values: common.StringPtrs([]string{"app"})}}
	dres, err := c.DescribeSecurityGroups(desc)
	if err != nil {
		t.Fatal(err)
	}
	if *dres.Response.TotalCount != 1 || *dres.Response.SecurityGroupSet[0].SecurityGroupId != app {
		t.Errorf("filter by name: %d groups", *dres.Response.TotalCount)
	}
	desc = vpc.NewDescribeSecurityGroupsRequest()
	desc.Offset, desc.Limit = common.StringPtr("1"), common.StringPtr("2")
	dres, err = c.DescribeSecurityGroups(desc)
	if err != nil {
		t.Fatal(err)
	}
	if *dres.Response.TotalCount != 7 || len(dres.Response.SecurityGroupSet) != 2 {
		t.Errorf("paging: total %d, page %d; want 7 and 2", *dres.Response.TotalCount, len(dres.Response.SecurityGroupSet))
	}
	desc = vpc.NewDescribeSecurityGroupsRequest()
	desc.SecurityGroupIds = common.StringPtrs([]string{app, withID})
	dres, err = c.DescribeSecurityGroups(desc)
	if err != nil || *dres.Response.TotalCount != 2 {
		t.Errorf("by ids: %v", err)
	}
	desc.Filters = []*vpc.Filter{{Name: common.StringPtr("project-id"), Values: common.StringPtrs([]string{"2"})}}
	_, err = c.DescribeSecurityGroups(desc)
	wantCode(t, "DescribeSecurityGroups with ids and filters", err, "InvalidParameter.Coexist")
	desc = vpc.NewDescribeSecurityGroupsRequest()
	desc.Limit = common.StringPtr("many")
	_, err = c.DescribeSecurityGroups(desc)
	wantCode(t, "DescribeSecurityGroups with Limit many", err, "InvalidParameterValue.Malformed")

	// ModifySecurityGroupAttribute
	mod := vpc.NewModifySecurityGroupAttributeRequest()
	mod.SecurityGroupId, mod.GroupName, mod.GroupDescription = &app, common.StringPtr("app-renamed"), common.StringPtr("new description")
	if _, err := c.ModifySecurityGroupAttribute(mod); err != nil {
		t.Fatalf("ModifySecurityGroupAttribute: %v", err)
	}
	desc = vpc.NewDescribeSecurityGroupsRequest()
	desc.SecurityGroupIds = common.StringPtrs([]string{app})
	dres, _ = c.DescribeSecurityGroups(desc)
	if g := dres.Response.SecurityGroupSet[0]; *g.SecurityGroupName != "app-renamed" || *g.SecurityGroupDesc != "new description" {
		t.Errorf("after modify: %q %q", *g.SecurityGroupName, *g.SecurityGroupDesc)
	}
	mod.GroupName = common.StringPtr("with")
	_, err = c.ModifySecurityGroupAttribute(mod)
	wantCode(t, "ModifySecurityGroupAttribute to a taken name", err, "InvalidParameterValue.Duplicate")
	mod.SecurityGroupId, mod.GroupName = common.StringPtr("sg-00000000"), common.StringPtr("x")
	_, err = c.ModifySecurityGroupAttribute(mod)
	wantCode(t, "ModifySecurityGroupAttribute of a missing group", err, "ResourceNotFound")

	// CreateDefaultSecurityGroup: create or get.
	def := vpc.NewCreateDefaultSecurityGroupRequest()
	d1, err := c.CreateDefaultSecurityGroup(def)
	if err != nil {
		t.Fatalf("CreateDefaultSecurityGroup: %v", err)
	}
	nextSecond()
	d2, err := c.CreateDefaultSecurityGroup(def)
	if err != nil || *d2.Response.SecurityGroup.SecurityGroupId != *d1.Response.SecurityGroup.SecurityGroupId || !*d1.Response.SecurityGroup.IsDefault {
		t.Errorf("CreateDefaultSecurityGroup again: %v", err)
	}
	defID := *d1.Response.SecurityGroup.SecurityGroupId
	if got := compact(e.describe(c, defID).Ingress); !slices.Equal(got, []string{"ACCEPT ALL ALL 0.0.0.0/0"}) {
		t.Errorf("default group ingress = %q", got)
	}
	def.ProjectId = common.StringPtr("-1")
	_, err = c.CreateDefaultSecurityGroup(def)
	wantCode(t, "CreateDefaultSecurityGroup in project -1", err, "InvalidParameterValue.Range")

	// DescribeSecurityGroupLimits, whose body {} CreateDefaultSecurityGroup
	// signed already.
	nextSecond()
	lim, err := c.DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest())
	if err != nil {
		t.Fatal(err)
	}
	if l := lim.Response.SecurityGroupLimitSet; *l.SecurityGroupLimit != 50 || *l.SecurityGroupPolicyLimit != 100 ||
		*l.InstanceSecurityGroupLimit != 5 || *l.SecurityGroupInstanceLimit != 2000 || *l.ReferedSecurityGroupLimit != 10 {
		t.Errorf("limits = %d %d %d %d %d", *l.SecurityGroupLimit, *l.SecurityGroupPolicyLimit, *l.InstanceSecurityGroupLimit,
			*l.SecurityGroupInstanceLimit, *l.ReferedSecurityGroupLimit)
	}
	_, err = e.vpcAs(e.admin, "ap-nowhere").DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest())
	wantCode(t, "DescribeSecurityGroupLimits in an unknown region", err, "UnsupportedRegion")

	// DescribeSecurityGroupReferences and DeleteSecurityGroup while referenced.
	ref := e.group("referrer", []string{"ACCEPT TCP 5432 " + app}, nil)
	rreq := vpc.NewDescribeSecurityGroupReferencesRequest()
	rreq.SecurityGroupIds = common.StringPtrs([]string{app})
	rres, err := c.DescribeSecurityGroupReferences(rreq)
	if err != nil {
		t.Fatal(err)
	}
	if r := rres.Response.ReferredSecurityGroupSet; len(r) != 1 || !slices.Equal(common.StringValues(r[0].ReferredSecurityGroupIds), []string{ref}) {
		t.Errorf("references = %v", r)
	}
	rreq.SecurityGroupIds = common.StringPtrs([]string{"sg-00000000"})
	_, err = c.DescribeSecurityGroupReferences(rreq)
	wantCode(t, "DescribeSecurityGroupReferences of a missing group", err, "ResourceNotFound")
	del := vpc.NewDeleteSecurityGroupRequest()
	del.SecurityGroupId = &app
	_, err = c.DeleteSecurityGroup(del)
	wantCode(t, "DeleteSecurityGroup while referenced", err, "ResourceInUse")
	if !strings.Contains(message(err), ref) {
		t.Errorf("message %q does not name the referrer %s", message(err), ref)
	}

	// DescribeSecurityGroupAssociationStatistics: all five counts.
	sreq := vpc.NewDescribeSecurityGroupAssociationStatisticsRequest()
	sreq.SecurityGroupIds = common.StringPtrs([]string{app})
	nextSecond() // the body was signed for DescribeSecurityGroupReferences
	sres, err := c.DescribeSecurityGroupAssociationStatistics(sreq)
	if err != nil {
		t.Fatal(err)
	}
	s := sres.Response.SecurityGroupAssociationStatisticsSet[0]
	if s.CVM == nil || s.CDB == nil || s.ENI == nil || s.CLB == nil || s.SG == nil || *s.SG != 1 || *s.TotalCount != 0 {
		t.Errorf("statistics missing a count or wrong: %+v", s)
	}
	sreq.SecurityGroupIds = common.StringPtrs([]string{"sg-00000000"})
	_, err = c.DescribeSecurityGroupAssociationStatistics(sreq)
	wantCode(t, "statistics of a missing group", err, "ResourceNotFound")

	// DeleteSecurityGroup
	del.SecurityGroupId = &ref
	if _, err := c.DeleteSecurityGroup(del); err != nil {
		t.Errorf("DeleteSecurityGroup: %v", err)
	}
	nextSecond() // the same request again within one second is a replay
	_, err = c.DeleteSecurityGroup(del)
	wantCode(t, "DeleteSecurityGroup twice", err, "InvalidSecurityGroupID.NotFound")
	del.SecurityGroupId = &defID
	_, err = c.DeleteSecurityGroup(del)
	wantCode(t, "DeleteSecurityGroup of the default group", err, "UnsupportedOperation")
	del.SecurityGroupId = common.StringPtr("sg-x")
	_, err = c.DeleteSecurityGroup(del)
	if got := code(err); got != "InvalidSecurityGroupID.NotFound" && got != "InvalidParameterValue.Malformed" {
		t.Errorf("DeleteSecurityGroup sg-x: code %q", got)
	}
}

func TestPolicyActions(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	g := e.group("rules", nil, nil)
	peer := e.group("peer", nil, nil)

	// CreateSecurityGroupPolicies: append, then insert at 0, and the
	// described wire shape.
	create := func(version string, index *int64, specs ...string) error {
		req := vpc.NewCreateSecurityGroupPoliciesRequest()
		req.SecurityGroupId = &g
		ps := policies(specs...)
		for _, p := range ps {
			p.PolicyIndex = index
		}
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: ps}
		if version != "" {
			req.SecurityGroupPolicySet.Version = &version
		}
		_, err := c.CreateSecurityGroupPolicies(req)
		return err
	}
	if err := create("", nil, "ACCEPT TCP 80 0.0.0.0/0", "ACCEPT TCP 443 0.0.0.0/0"); err != nil {
		t.Fatal(err)
	}
	if err := create("", common.Int64Ptr(0), "ACCEPT ICMPv6 ALL ::/0", "DROP UDP 53 "+peer); err != nil {
		t.Fatal(err)
	}
	set := e.describe(c, g)
	if want := []string{"ACCEPT ICMPv6 ALL ::/0", "DROP UDP 53 " + peer, "ACCEPT TCP 80 0.0.0.0/0", "ACCEPT TCP 443 0.0.0.0/0"}; !slices.Equal(compact(set.Ingress), want) {
		t.Errorf("ingress = %q, want %q", compact(set.Ingress), want)
	}
	if *set.Version != "2" {
		t.Errorf("Version = %q after two writes, want \"2\"", *set.Version)
	}
	for i, p := range set.Ingress {
		if *p.PolicyIndex != int64(i) || p.ModifyTime == nil || *p.ModifyTime == "" {
			t.Errorf("policy %d: index %d modify time %v", i, *p.PolicyIndex, p.ModifyTime)
		}
	}
	if st := set.PolicyStatistics; *st.IngressIPv4TotalCount != 3 || *st.IngressIPv6TotalCount != 1 || *st.EgressIPv4TotalCount != 0 {
		t.Errorf("statistics = %d/%d/%d", *st.IngressIPv4TotalCount, *st.IngressIPv6TotalCount, *st.EgressIPv4TotalCount)
	}
	wantCode(t, "create naming a stale Version", create("1", nil, "ACCEPT TCP 8080 0.0.0.0/0"), "UnsupportedOperation.VersionMismatch")
	wantCode(t, "create a duplicate policy", create("", nil, "ACCEPT TCP 80 0.0.0.0/0"), "UnsupportedOperation.DuplicatePolicy")
	wantCode(t, "create past the end", create("", common.Int64Ptr(9), "ACCEPT TCP 81 0.0.0.0/0"), "InvalidParameterValue.Range")
	both := vpc.NewCreateSecurityGroupPoliciesRequest()
	both.SecurityGroupId = &g
	both.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 1 0.0.0.0/0"), Egress: policies("ACCEPT TCP 1 0.0.0.0/0")}
	_, err := c.CreateSecurityGroupPolicies(both)
	if got := code(err); !strings.HasPrefix(got, "InvalidParameter") {
		t.Errorf("create in both directions at once: code %q", got)
	}
	missing := vpc.NewCreateSecurityGroupPoliciesRequest()
	missing.SecurityGroupId = common.StringPtr("sg-00000000")
	missing.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 1 0.0.0.0/0")}
	_, err = c.CreateSecurityGroupPolicies(missing)
	wantCode(t, "create in a missing group", err, "ResourceNotFound")

	// ReplaceSecurityGroupPolicy
	rep := vpc.NewReplaceSecurityGroupPolicyRequest()
	rep.SecurityGroupId = &g
	p := pol("ACCEPT TCP 8443 0.0.0.0/0 # replaced")
	p.PolicyIndex = common.Int64Ptr(3)
	rep.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: common.StringPtr("2"), Ingress: []*vpc.SecurityGroupPolicy{p}}
	if _, err := c.ReplaceSecurityGroupPolicy(rep); err != nil {
		t.Fatalf("ReplaceSecurityGroupPolicy: %v", err)
	}
	if got := compact(e.describe(c, g).Ingress)[3]; got != "ACCEPT TCP 8443 0.0.0.0/0 # replaced" {
		t.Errorf("replaced policy = %q", got)
	}
	nextSecond()
	_, err = c.ReplaceSecurityGroupPolicy(rep)
	wantCode(t, "replace naming a stale Version", err, "UnsupportedOperation.VersionMismatch")
	rep.SecurityGroupPolicySet.Version = nil
	p.PolicyIndex = common.Int64Ptr(40)
	_, err = c.ReplaceSecurityGroupPolicy(rep)
	wantCode(t, "replace index 40 of 4", err, "InvalidParameterValue.Range")

	// ReplaceSecurityGroupPolicies
	reps := vpc.NewReplaceSecurityGroupPoliciesRequest()
	reps.SecurityGroupId = &g
	a, b := pol("ACCEPT TCP 8000-8080 10.0.0.0/8"), pol("DROP ALL ALL 0.0.0.0/0")
	a.PolicyIndex, b.PolicyIndex = common.Int64Ptr(2), common.Int64Ptr(3)
	reps.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{a, b}}
	if _, err := c.ReplaceSecurityGroupPolicies(reps); err != nil {
		t.Fatalf("ReplaceSecurityGroupPolicies: %v", err)
	}
	if got := compact(e.describe(c, g).Ingress)[2:]; !slices.Equal(got, []string{"ACCEPT TCP 8000-8080 10.0.0.0/8", "DROP ALL ALL 0.0.0.0/0"}) {
		t.Errorf("after replacing two = %q", got)
	}
	reps.SecurityGroupPolicySet.Version = common.StringPtr("1")
	_, err = c.ReplaceSecurityGroupPolicies(reps)
	wantCode(t, "replace several naming a stale Version", err, "UnsupportedOperation.VersionMismatch")

	// DeleteSecurityGroupPolicies by index and by content.
	dl := vpc.NewDeleteSecurityGroupPoliciesRequest()
	dl.SecurityGroupId = &g
	dl.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(0)}}}
	if _, err := c.DeleteSecurityGroupPolicies(dl); err != nil {
		t.Fatalf("delete by index: %v", err)
	}
	content := &vpc.SecurityGroupPolicy{Action: common.StringPtr("drop"), Protocol: common.StringPtr("all"), Port: common.StringPtr("all"), CidrBlock: common.StringPtr("0.0.0.0/0")}
	dl.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{content}}
	if _, err := c.DeleteSecurityGroupPolicies(dl); err != nil {
		t.Fatalf("delete by content (mixed case): %v", err)
	}
	if got := compact(e.describe(c, g).Ingress); !slices.Equal(got, []string{"DROP UDP 53 " + peer, "ACCEPT TCP 8000-8080 10.0.0.0/8"}) {
		t.Errorf("after deletes = %q", got)
	}
	dl.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(7)}}}
	_, err = c.DeleteSecurityGroupPolicies(dl)
	wantCode(t, "delete index 7 of 2", err, "InvalidParameterValue.Range")
	dl.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: common.StringPtr("3"), Ingress: []*vpc.SecurityGroupPolicy{{PolicyIndex: common.Int64Ptr(0)}}}
	_, err = c.DeleteSecurityGroupPolicies(dl)
	wantCode(t, "delete naming a stale Version", err, "UnsupportedOperation.VersionMismatch")

	// ModifySecurityGroupPolicies: replace a direction, keep the other,
	// Version is not compared, "0" clears both.
	mp := vpc.NewModifySecurityGroupPoliciesRequest()
	mp.SecurityGroupId = &g
	mp.SortPolicys = common.BoolPtr(true)
	mp.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: common.StringPtr("42"), Egress: policies("ACCEPT ALL ALL 0.0.0.0/0", "ACCEPT ALL ALL ::/0")}
	if _, err := c.ModifySecurityGroupPolicies(mp); err != nil {
		t.Fatalf("ModifySecurityGroupPolicies: %v", err)
	}
	set = e.describe(c, g)
	if len(set.Ingress) != 2 || !slices.Equal(compact(set.Egress), []string{"ACCEPT ALL ALL 0.0.0.0/0", "ACCEPT ALL ALL ::/0"}) {
		t.Errorf("after modify: ingress %q egress %q", compact(set.Ingress), compact(set.Egress))
	}
	mp.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: common.StringPtr("0"), Ingress: []*vpc.SecurityGroupPolicy{}, Egress: []*vpc.SecurityGroupPolicy{}}
	if _, err := c.ModifySecurityGroupPolicies(mp); err != nil {
		t.Fatalf("ModifySecurityGroupPolicies Version 0: %v", err)
	}
	if set = e.describe(c, g); len(set.Ingress)+len(set.Egress) != 0 {
		t.Errorf("Version 0 left %d policies", len(set.Ingress)+len(set.Egress))
	}
	mp.SecurityGroupId = common.StringPtr("sg-00000000")
	_, err = c.ModifySecurityGroupPolicies(mp)
	wantCode(t, "modify a missing group", err, "ResourceNotFound")

	// DescribeSecurityGroupPolicies of a missing group, and the raw wire
	// shape: every field present, both template objects, Version a string.
	dreq := vpc.NewDescribeSecurityGroupPoliciesRequest()
	dreq.SecurityGroupId = common.StringPtr("sg-00000000")
	_, err = c.DescribeSecurityGroupPolicies(dreq)
	wantCode(t, "describe a missing group", err, "ResourceNotFound")
	if err := create("", nil, "ACCEPT TCP 22 10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		SecurityGroupPolicySet struct {
			Version json.RawMessage
			Ingress []map[string]json.RawMessage
		}
	}
	if err := e.call(e.admin, gz, "vpc", "DescribeSecurityGroupPolicies", map[string]any{"SecurityGroupId": g}, &raw); err != nil {
		t.Fatal(err)
	}
	if v := string(raw.SecurityGroupPolicySet.Version); !strings.HasPrefix(v, `"`) {
		t.Errorf("Version on the wire = %s, want a JSON string", v)
	}
	for _, f := range []string{"PolicyIndex", "Protocol", "Port", "ServiceTemplate", "CidrBlock", "Ipv6CidrBlock", "SecurityGroupId", "AddressTemplate", "Action", "PolicyDescription", "ModifyTime"} {
		v, ok := raw.SecurityGroupPolicySet.Ingress[0][f]
		if !ok {
			t.Errorf("policy field %s missing on the wire", f)
		}
		if f == "ServiceTemplate" || f == "AddressTemplate" {
			var sub map[string]string
			if err := json.Unmarshal(v, &sub); err != nil || len(sub) != 2 {
				t.Errorf("%s = %s, want both ids present", f, v)
			}
		}
		if f == "PolicyIndex" && string(v) != "0" {
			t.Errorf("PolicyIndex = %s, want the number 0", v)
		}
	}
}

func TestTemplateActions(t *testing.T) {
	skipShort(t)
	e := newEnv(t, envOptions{})
	c := e.vpc()

	// Address templates.
	at := vpc.NewCreateAddressTemplateRequest()
	at.AddressTemplateName = common.StringPtr("offices")
	at.Addresses = common.StringPtrs([]string{"192.0.2.0/24", "198.51.100.7"})
	at.AddressesExtra = []*vpc.AddressInfo{{Address: common.StringPtr("10.0.0.1-10.0.0.9"), Description: common.StringPtr("lab")}}
	ares, err := c.CreateAddressTemplate(at)
	if err != nil {
		t.Fatalf("CreateAddressTemplate: %v", err)
	}
	ipm := *ares.Response.AddressTemplate.AddressTemplateId
	if !strings.HasPrefix(ipm, "ipm-") || len(ares.Response.AddressTemplate.AddressSet) != 3 {
		t.Errorf("address template %s with %d addresses", ipm, len(ares.Response.AddressTemplate.AddressSet))
	}
	at.AddressTemplateName, at.Addresses, at.AddressesExtra = common.StringPtr("bad"), common.StringPtrs([]string{"300.1.1.1"}), nil
	_, err = c.CreateAddressTemplate(at)
	wantCode(t, "CreateAddressTemplate with 300.1.1.1", err, "InvalidParameterValue.Malformed")
	at.Addresses = nil
	_, err = c.CreateAddressTemplate(at)
	wantCode(t, "CreateAddressTemplate without addresses", err, "MissingParameter")

	mat := vpc.NewModifyAddressTemplateAttributeRequest()
	mat.AddressTemplateId, mat.AddressTemplateName = &ipm, common.StringPtr("offices-2")
	mat.Addresses = common.StringPtrs([]string{"192.0.2.0/24"})
	if _, err := c.ModifyAddressTemplateAttribute(mat); err != nil {
		t.Fatalf("ModifyAddressTemplateAttribute: %v", err)
	}
	mat.AddressTemplateId = common.StringPtr("ipm-00000000")
	_, err = c.ModifyAddressTemplateAttribute(mat)
	wantCode(t, "ModifyAddressTemplateAttribute of a missing template", err, "ResourceNotFound")

	dat := vpc.NewDescribeAddressTemplatesRequest()
	dat.Filters = []*vpc.Filter{{Name: common.StringPtr("address-template-id"), Values: common.StringPtrs([]string{ipm})}}
	dares, err := c.DescribeAddressTemplates(dat)
	if err != nil {
		t.Fatal(err)
	}
	if *dares.Response.TotalCount != 1 || *dares.Response.AddressTemplateSet[0].AddressTemplateName != "offices-2" ||
		!slices.Equal(common.StringValues(dares.Response.AddressTemplateSet[0].AddressSet), []string{"192.0.2.0/24"}) {
		t.Errorf("described address templates: %d", *dares.Response.TotalCount)
	}
	dat.Filters = []*vpc.Filter{{Name: common.StringPtr("no-such-filter"), Values: common.StringPtrs([]string{"x"})}}
	_, err = c.DescribeAddressTemplates(dat)
	if got := code(err); !strings.HasPrefix(got, "InvalidParameter") {
		t.Errorf("DescribeAddressTemplates with an unknown filter: code %q", got)
	}

	atg := vpc.NewCreateAddressTemplateGroupRequest()
	atg.AddressTemplateGroupName, atg.AddressTemplateIds = common.StringPtr("all-offices"), common.StringPtrs([]string{ipm})
	agres, err := c.CreateAddressTemplateGroup(atg)
	if err != nil {
		t.Fatalf("CreateAddressTemplateGroup: %v", err)
	}
	ipmg := *agres.Response.AddressTemplateGroup.AddressTemplateGroupId
	atg.AddressTemplateGroupName, atg.AddressTemplateIds = common.StringPtr("ghost"), common.StringPtrs([]string{"ipm-00000000"})
	_, err = c.CreateAddressTemplateGroup(atg)
	wantCode(t, "CreateAddressTemplateGroup with a missing member", err, "ResourceNotFound")
	matg := vpc.NewModifyAddressTemplateGroupAttributeRequest()
	matg.AddressTemplateGroupId, matg.AddressTemplateGroupName = &ipmg, common.StringPtr("offices-all")
	if _, err := c.ModifyAddressTemplateGroupAttribute(matg); err != nil {
		t.Fatalf("ModifyAddressTemplateGroupAttribute: %v", err)
	}
	datg := vpc.NewDescribeAddressTemplateGroupsRequest()
	dagres, err := c.DescribeAddressTemplateGroups(datg)
	if err != nil {
		t.Fatal(err)
	}
	if *dagres.Response.TotalCount != 1 || *dagres.Response.AddressTemplateGroupSet[0].AddressTemplateGroupName != "offices-all" ||
		!slices.Equal(common.StringValues(dagres.Response.AddressTemplateGroupSet[0].AddressTemplateIdSet), []string{ipm}) {
		t.Errorf("described address template groups: %d", *dagres.Response.TotalCount)
	}

	// Service templates.
	st := vpc.NewCreateServiceTemplateRequest()
	st.ServiceTemplateName, st.Services = common.StringPtr("web"), common.StringPtrs([]string{"tcp:80", "tcp:443"})
	sres, err := c.CreateServiceTemplate(st)
	if err != nil {
		t.Fatalf("CreateServiceTemplate: %v", err)
	}
	ppm := *sres.Response.ServiceTemplate.ServiceTemplateId
	st.ServiceTemplateName, st.Services = common.StringPtr("bad"), common.StringPtrs([]string{"tcp:99999"})
	_, err = c.CreateServiceTemplate(st)
	if got := code(err); got != "InvalidParameterValue.Malformed" && got != "InvalidParameterValue.Range" {
		t.Errorf("CreateServiceTemplate tcp:99999: code %q", got)
	}
	mst := vpc.NewModifyServiceTemplateAttributeRequest()
	mst.ServiceTemplateId, mst.ServicesExtra = &ppm, []*vpc.ServicesInfo{{Service: common.StringPtr("tcp:8080"), Description: common.StringPtr("alt")}}
	if _, err := c.ModifyServiceTemplateAttribute(mst); err != nil {
		t.Fatalf("ModifyServiceTemplateAttribute: %v", err)
	}
	dst := vpc.NewDescribeServiceTemplatesRequest()
	nextSecond() // {} was signed for DescribeAddressTemplateGroups already
	dsres, err := c.DescribeServiceTemplates(dst)
	if err != nil {
		t.Fatal(err)
	}
	if *dsres.Response.TotalCount != 1 || !slices.Equal(common.StringValues(dsres.Response.ServiceTemplateSet[0].ServiceSet), []string{"tcp:8080"}) {
		t.Errorf("described service templates: %d", *dsres.Response.TotalCount)
	}
	stg := vpc.NewCreateServiceTemplateGroupRequest()
	stg.ServiceTemplateGroupName, stg.ServiceTemplateIds = common.StringPtr("webs"), common.StringPtrs([]string{ppm})
	sgres, err := c.CreateServiceTemplateGroup(stg)
	if err != nil {
		t.Fatalf("CreateServiceTemplateGroup: %v", err)
	}
	ppmg := *sgres.Response.ServiceTemplateGroup.ServiceTemplateGroupId
	mstg := vpc.NewModifyServiceTemplateGroupAttributeRequest()
	mstg.ServiceTemplateGroupId, mstg.ServiceTemplateGroupName = &ppmg, common.StringPtr("webs-2")
	if _, err := c.ModifyServiceTemplateGroupAttribute(mstg); err != nil {
		t.Fatalf("ModifyServiceTemplateGroupAttribute: %v", err)
	}
	dstg := vpc.NewDescribeServiceTemplateGroupsRequest()
	nextSecond() // {} was signed for DescribeServiceTemplates
	dsgres, err := c.DescribeServiceTemplateGroups(dstg)
	if err != nil {
		t.Fatal(err)
	}
	if *dsgres.Response.TotalCount != 1 || *dsgres.Response.ServiceTemplateGroupSet[0].ServiceTemplateGroupName != "webs-2" {
		t.Errorf("described service template groups: %d", *dsgres.Response.TotalCount)
	}

	// A policy using templates, and templates in use cannot be deleted.
	g := e.group("templated", []string{"ACCEPT " + ppmg + " " + ipmg}, nil)
	if got := compact(e.describe(c, g).Ingress); !slices.Equal(got, []string{"ACCEPT " + ppmg + " " + ipmg}) {
		t.Errorf("templated policy = %q", got)
	}
	dg := vpc.NewDeleteAddressTemplateGroupRequest()
	dg.AddressTemplateGroupId = &ipmg
	_, err = c.DeleteAddressTemplateGroup(dg)
	wantCode(t, "DeleteAddressTemplateGroup in use", err, "ResourceInUse")
	if !strings.Contains(message(err), g) {
		t.Errorf("message %q does not name the group %s", message(err), g)
	}
	dsg := vpc.NewDeleteServiceTemplateGroupRequest()
	dsg.ServiceTemplateGroupId = &ppmg
	_, err = c.DeleteServiceTemplateGroup(dsg)
	wantCode(t, "DeleteServiceTemplateGroup in use", err, "ResourceInUse")
	da := vpc.NewDeleteAddressTemplateRequest()
	da.AddressTemplateId = &ipm
	_, err = c.DeleteAddressTemplate(da)
	wantCode(t, "DeleteAddressTemplate in a group", err, "ResourceInUse")
	ds := vpc.NewDeleteServiceTemplateRequest()
	ds.ServiceTemplateId = &ppm
	_, err = c.DeleteServiceTemplate(ds)
	wantCode(t, "DeleteServiceTemplate in a group", err, "ResourceInUse")

	// Templates are regional: Shanghai does not see them.
	nextSecond() // X-TC-Region is not signed: to another region it is the same request
	_, err = e.vpcAs(e.admin, sh).DeleteAddressTemplate(da)
	wantCode(t, "DeleteAddressTemplate from another region", err, "ResourceNotFound")

	// Free everything, then delete in order.
	del := vpc.NewDeleteSecurityGroupRequest()
	del.SecurityGroupId = &g
	nextSecond() // the body was signed for DescribeSecurityGroupPolicies
	if _, err := c.DeleteSecurityGroup(del); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"DeleteAddressTemplateGroup": func() error { _, err := c.DeleteAddressTemplateGroup(dg); return err }(),
		"DeleteServiceTemplateGroup": func() error { _, err := c.DeleteServiceTemplateGroup(dsg); return err }(),
	} {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if _, err := c.DeleteAddressTemplate(da); err != nil {
		t.Errorf("DeleteAddressTemplate: %v", err)
	}
	if _, err := c.DeleteServiceTemplate(ds); err != nil {
		t.Errorf("DeleteServiceTemplate: %v", err)
	}
	nextSecond() // the same requests again within one second are replays
	_, err = c.DeleteServiceTemplate(ds)
	wantCode(t, "DeleteServiceTemplate twice", err, "ResourceNotFound")
	_, err = c.DeleteServiceTemplateGroup(dsg)
	wantCode(t, "DeleteServiceTemplateGroup twice", err, "ResourceNotFound")
	_, err = c.DeleteAddressTemplateGroup(dg)
	wantCode(t, "DeleteAddressTemplateGroup twice", err, "ResourceNotFound")
	mstg.ServiceTemplateGroupId = common.StringPtr("ppmg-00000000")
	_, err = c.ModifyServiceTemplateGroupAttribute(mstg)
	wantCode(t, "ModifyServiceTemplateGroupAttribute of a missing group", err, "ResourceNotFound")
	matg.AddressTemplateGroupId = common.StringPtr("ipmg-00000000")
	_, err = c.ModifyAddressTemplateGroupAttribute(matg)
	wantCode(t, "ModifyAddressTemplateGroupAttribute of a missing group", err, "ResourceNotFound")
	mst.ServiceTemplateId = common.StringPtr("ppm-00000000")
	_, err = c.ModifyServiceTemplateAttribute(mst)
	wantCode(t, "ModifyServiceTemplateAttribute of a missing template", err, "ResourceNotFound")
	stg.ServiceTemplateGroupName = nil
	_, err = c.CreateServiceTemplateGroup(stg)
	wantCode(t, "CreateServiceTemplateGroup without a name", err, "MissingParameter")
	for _, f := range []func() error{
		func() error { _, err := c.DescribeServiceTemplateGroups(withLimit(dstg, "x")); return err },
		func() error { _, err := c.DescribeServiceTemplates(withLimitST(dst, "x")); return err },
		func() error { _, err := c.DescribeAddressTemplateGroups(withLimitATG(datg, "x")); return err },
	} {
		nextSecond() // the same body for three actions
		wantCode(t, "Describe…Templates with Limit x", f(), "InvalidParameterValue.Malformed")
	}
}

func withLimit(r *vpc.DescribeServiceTemplateGroupsRequest, l string) *vpc.DescribeServiceTemplateGroupsRequest {
	r.Limit = &l
	return r
}

func withLimitST(r *vpc.DescribeServiceTemplatesRequest, l string) *vpc.DescribeServiceTemplatesRequest {
	r.Limit = &l
	return r
}

func withLimitATG(r *vpc.DescribeAddressTemplateGroupsRequest, l string) *vpc.DescribeAddressTemplateGroupsRequest {
	r.Limit = &l
	return r
}

func TestInstanceActions(t *testing.T) {
	skipShort(t)
	e := newEnv(t, envOptions{})
	c := e.cvm()
	ids := e.register(gz,
		instance{name: "a", ip: "10.0.0.21", project: 3, zone: "ap-guangzhou-3"},
		instance{name: "b", ip: "10.0.0.22", os: "windows"})
	a, b := ids[0], ids[1]
	g1, g2 := e.group("g1", nil, nil), e.group("g2", nil, nil)

	// RegisterInstances: platform only.
	err := e.call(e.admin, gz, "palisade", "RegisterInstances", map[string]any{"AccountId": e.account, "Instances": []map[string]any{{"InstanceName": "x", "Zone": "ap-guangzhou-3", "PrivateIpAddresses": []string{"10.0.0.99"}}}}, nil)
	wantCode(t, "RegisterInstances by a tenant", err, "UnauthorizedOperation")
	err = e.call(e.platform, gz, "palisade", "RegisterInstances", map[string]any{"AccountId": e.account, "Instances": []map[string]any{{"InstanceName": "x", "Zone": "ap-guangzhou-3", "PrivateIpAddresses": []string{"10.0.0.300"}}}}, nil)
	wantCode(t, "RegisterInstances with address 10.0.0.300", err, "InvalidParameterValue.Malformed")

	// AssociateSecurityGroups appends in order.
	as := cvm.NewAssociateSecurityGroupsRequest()
	as.InstanceIds = common.StringPtrs([]string{a, b})
	as.SecurityGroupIds = common.StringPtrs([]string{g1})
	if _, err := c.AssociateSecurityGroups(as); err != nil {
		t.Fatalf("AssociateSecurityGroups: %v", err)
	}
	as.SecurityGroupIds = common.StringPtrs([]string{g2})
	if _, err := c.AssociateSecurityGroups(as); err != nil {
		t.Fatalf("AssociateSecurityGroups: %v", err)
	}
	as.SecurityGroupIds = common.StringPtrs([]string{"sg-00000000"})
	_, err = c.AssociateSecurityGroups(as)
	wantCode(t, "associate a missing group", err, "InvalidSecurityGroupId.NotFound")
	as.SecurityGroupIds, as.InstanceIds = common.StringPtrs([]string{g1}), common.StringPtrs([]string{"ins-00000000"})
	_, err = c.AssociateSecurityGroups(as)
	wantCode(t, "associate to a missing instance", err, "InvalidInstanceId.NotFound")
	as.InstanceIds = nil
	_, err = c.AssociateSecurityGroups(as)
	wantCode(t, "associate without instances", err, "MissingParameter")

	// DescribeInstances: integers for Offset, Limit and Placement.ProjectId.
	di := cvm.NewDescribeInstancesRequest()
	di.InstanceIds = common.StringPtrs([]string{a})
	res, err := c.DescribeInstances(di)
	if err != nil {
		t.Fatalf("DescribeInstances: %v", err)
	}
	in := res.Response.InstanceSet[0]
	if *in.InstanceId != a || *in.Placement.ProjectId != 3 || *in.Placement.Zone != "ap-guangzhou-3" || *in.InstanceState != "RUNNING" ||
		!slices.Equal(common.StringValues(in.SecurityGroupIds), []string{g1, g2}) ||
		!slices.Equal(common.StringValues(in.PrivateIpAddresses), []string{"10.0.0.21"}) {
		t.Errorf("instance = %s project %d zone %s state %s groups %v", *in.InstanceId, *in.Placement.ProjectId, *in.Placement.Zone,
			*in.InstanceState, common.StringValues(in.SecurityGroupIds))
	}
	di = cvm.NewDescribeInstancesRequest()
	di.Offset, di.Limit = common.Int64Ptr(1), common.Int64Ptr(1)
	res, err = c.DescribeInstances(di)
	if err != nil || *res.Response.TotalCount != 2 || len(res.Response.InstanceSet) != 1 {
		t.Errorf("paging instances: %v", err)
	}
	di = cvm.NewDescribeInstancesRequest()
	di.Filters = []*cvm.Filter{{Name: common.StringPtr("security-group-id"), Values: common.StringPtrs([]string{g2})}}
	if res, err = c.DescribeInstances(di); err != nil || *res.Response.TotalCount != 2 {
		t.Errorf("filter by group: %v", err)
	}
	di.Limit = common.Int64Ptr(500)
	_, err = c.DescribeInstances(di)
	wantCode(t, "DescribeInstances with Limit 500", err, "InvalidParameterValue.Range")

	// DisassociateSecurityGroups
	dis := cvm.NewDisassociateSecurityGroupsRequest()
	dis.InstanceIds, dis.SecurityGroupIds = common.StringPtrs([]string{b}), common.StringPtrs([]string{g1})
	if _, err := c.DisassociateSecurityGroups(dis); err != nil {
		t.Fatalf("DisassociateSecurityGroups: %v", err)
	}
	dis.SecurityGroupIds = common.StringPtrs([]string{"sg-00000000"})
	_, err = c.DisassociateSecurityGroups(dis)
	wantCode(t, "disassociate a missing group", err, "InvalidSecurityGroupId.NotFound")

	// ModifyInstancesAttribute sets the whole ordered list.
	e.bind(b, g2, g1)
	di = cvm.NewDescribeInstancesRequest()
	di.InstanceIds = common.StringPtrs([]string{b})
	res, _ = c.DescribeInstances(di)
	if got := common.StringValues(res.Response.InstanceSet[0].SecurityGroupIds); !slices.Equal(got, []string{g2, g1}) {
		t.Errorf("after ModifyInstancesAttribute: %v", got)
	}
	mi := cvm.NewModifyInstancesAttributeRequest()
	mi.InstanceIds, mi.SecurityGroups = common.StringPtrs([]string{b}), common.StringPtrs([]string{g1, "sg-00000000"})
	_, err = c.ModifyInstancesAttribute(mi)
	wantCode(t, "ModifyInstancesAttribute with a missing group", err, "InvalidSecurityGroupId.NotFound")
	mi.InstanceIds, mi.SecurityGroups = common.StringPtrs([]string{"ins-00000000"}), common.StringPtrs([]string{g1})
	_, err = c.ModifyInstancesAttribute(mi)
	wantCode(t, "ModifyInstancesAttribute of a missing instance", err, "InvalidInstanceId.NotFound")

	// Quota: at most 5 groups per instance.
	six := []string{g1, g2}
	for i := range 4 {
		six = append(six, e.group("extra-"+itoa(i), nil, nil))
	}
	mi.InstanceIds, mi.SecurityGroups = common.StringPtrs([]string{a}), common.StringPtrs(six)
	_, err = c.ModifyInstancesAttribute(mi)
	wantCode(t, "bind 6 groups", err, "LimitExceeded.AssociateUSGLimitExceeded")
	e.bind(a, six[:5]...)
	as = cvm.NewAssociateSecurityGroupsRequest()
	as.InstanceIds, as.SecurityGroupIds = common.StringPtrs([]string{a}), common.StringPtrs([]string{six[5]})
	_, err = c.AssociateSecurityGroups(as)
	wantCode(t, "associate a 6th group", err, "LimitExceeded.AssociateUSGLimitExceeded")

	// TerminateInstances → recycle bin; PurgeInstances → terminated.
	ti := cvm.NewTerminateInstancesRequest()
	ti.InstanceIds = common.StringPtrs([]string{b})
	nextSecond() // the body was signed for DescribeInstances already
	if _, err := c.TerminateInstances(ti); err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	nextSecond() // and back to DescribeInstances
	res, _ = c.DescribeInstances(di)
	if s := *res.Response.InstanceSet[0].InstanceState; s != "RECYCLED" {
		t.Errorf("state after TerminateInstances = %s", s)
	}
	ti.InstanceIds = common.StringPtrs([]string{"ins-00000000"})
	_, err = c.TerminateInstances(ti)
	wantCode(t, "terminate a missing instance", err, "InvalidInstanceId.NotFound")
	wantCode(t, "purge by another account", e.call(e.other, gz, "palisade", "PurgeInstances", map[string]any{"InstanceIds": []string{b}}, nil), "InvalidInstanceId.NotFound")
	if err := e.call(e.platform, gz, "palisade", "PurgeInstances", map[string]any{"InstanceIds": []string{b}}, nil); err != nil {
		t.Fatalf("PurgeInstances by the platform: %v", err)
	}
	res, _ = c.DescribeInstances(di)
	if in := res.Response.InstanceSet[0]; *in.InstanceState != "TERMINATED" || len(in.SecurityGroupIds) != 0 {
		t.Errorf("after purge: %s groups %v", *in.InstanceState, common.StringValues(in.SecurityGroupIds))
	}
	wantCode(t, "PurgeInstances without ids", e.call(e.admin, gz, "palisade", "PurgeInstances", nil, nil), "MissingParameter")
}

func TestSimulateTrafficErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.31"})[0]
	tests := []struct {
		name    string
		params  map[string]any
		want    string
		message string // the message has it; a value the request did not send must not appear
	}{
		{"no port for TCP", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "TCP", "Address": "192.0.2.1"}, "MissingParameter", "Port: is required for TCP"},
		{"port 0 for UDP", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "UDP", "Address": "192.0.2.1", "Port": 0}, "InvalidParameterValue.Range", `"0"`},
		{"ICMP with an IPv6 address", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "ICMP", "Address": "2001:db8::1"}, "InvalidParameterValue.Malformed", "use ICMPv6"},
		{"ICMPv6 with an IPv4 address", map[string]any{"InstanceId": ins, "Direction": "EGRESS", "Protocol": "ICMPv6", "Address": "192.0.2.1"}, "InvalidParameterValue.Malformed", "use ICMP"},
		{"missing instance", map[string]any{"InstanceId": "ins-00000000", "Direction": "INGRESS", "Protocol": "TCP", "Address": "192.0.2.1", "Port": 22}, "InvalidInstanceId.NotFound", ""},
		{"bad direction", map[string]any{"InstanceId": ins, "Direction": "SIDEWAYS", "Protocol": "TCP", "Address": "192.0.2.1", "Port": 22}, "InvalidParameterValue.Malformed", ""},
		{"bad protocol", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "SCTP", "Address": "192.0.2.1", "Port": 22}, "InvalidParameterValue.Malformed", ""},
		{"bad address", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "TCP", "Address": "192.0.2", "Port": 22}, "InvalidParameterValue.Malformed", ""},
		{"port out of range", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "TCP", "Address": "192.0.2.1", "Port": 70000}, "InvalidParameterValue.Range", ""},
		{"no address", map[string]any{"InstanceId": ins, "Direction": "INGRESS", "Protocol": "TCP", "Port": 22}, "MissingParameter", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.call(e.admin, gz, "palisade", "SimulateTraffic", tt.params, nil)
			wantCode(t, "SimulateTraffic", err, tt.want)
			if msg := message(err); !strings.Contains(msg, tt.message) || tt.params["Port"] == nil && strings.Contains(msg, `"0"`) {
				t.Errorf("SimulateTraffic message %q, want it to say %q and no value the request did not send", msg, tt.message)
			}
		})
	}
	// Readonly credentials may simulate; Palisade actions answer under any
	// service name.
	var v verdict
	if err := e.call(e.reader, gz, "vpc", "SimulateTraffic", map[string]any{"InstanceId": ins, "Direction": "EGRESS", "Protocol": "UDP", "Address": "192.0.2.1", "Port": 53}, &v); err != nil || v.Verdict != "DROP" {
		t.Errorf("readonly SimulateTraffic: %v %+v", err, v)
	}
}

// Another account's resources are simply not found, and a readonly
// credential cannot write.
func TestTenancyAndRoles(t *testing.T) {
	skipShort(t)
	e := newEnv(t, envOptions{})
	g := e.group("mine", []string{"ACCEPT TCP 22 0.0.0.0/0"}, nil)
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.41"})[0]
	bob := e.vpcAs(e.other, gz)

	dreq := vpc.NewDescribeSecurityGroupPoliciesRequest()
	dreq.SecurityGroupId = &g
	_, err := bob.DescribeSecurityGroupPolicies(dreq)
	wantCode(t, "describe another account's group", err, "ResourceNotFound")
	del := vpc.NewDeleteSecurityGroupRequest()
	del.SecurityGroupId = &g
	nextSecond() // the body was signed for DescribeSecurityGroupPolicies
	_, err = bob.DeleteSecurityGroup(del)
	wantCode(t, "delete another account's group", err, "InvalidSecurityGroupID.NotFound")
	list, err := bob.DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	if err != nil || *list.Response.TotalCount != 0 {
		t.Errorf("another account lists %v groups (%v)", list, err)
	}
	as := cvm.NewAssociateSecurityGroupsRequest()
	as.InstanceIds, as.SecurityGroupIds = common.StringPtrs([]string{ins}), common.StringPtrs([]string{g})
	_, err = e.cvmAs(e.other, gz).AssociateSecurityGroups(as)
	if got := code(err); got != "InvalidInstanceId.NotFound" && got != "InvalidSecurityGroupId.NotFound" {
		t.Errorf("bind another account's group and instance: code %q", got)
	}
	// Bob's own group in a policy of Alice's: not found for Alice.
	bobs := e.groupIn(e.other, gz, "bobs", nil, nil)
	cp := vpc.NewCreateSecurityGroupPoliciesRequest()
	cp.SecurityGroupId = &g
	cp.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 80 " + bobs)}
	_, err = e.vpc().CreateSecurityGroupPolicies(cp)
	wantCode(t, "reference another account's group", err, "ResourceNotFound")

	reader := e.vpcAs(e.reader, gz)
	if _, err := reader.DescribeSecurityGroupPolicies(dreq); err != nil {
		t.Errorf("readonly describe: %v", err)
	}
	cp.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 80 0.0.0.0/0")}
	_, err = reader.CreateSecurityGroupPolicies(cp)
	wantCode(t, "readonly CreateSecurityGroupPolicies", err, "UnauthorizedOperation")
	nextSecond()
	_, err = reader.DeleteSecurityGroup(del)
	wantCode(t, "readonly DeleteSecurityGroup", err, "UnauthorizedOperation")
	_, err = e.cvmAs(e.reader, gz).AssociateSecurityGroups(as)
	wantCode(t, "readonly AssociateSecurityGroups", err, "UnauthorizedOperation")
}

// Authentication failures against the real server, through the SDK: wrong
// credentials, and a client whose clock is six minutes off the server's.
func TestAuthFailures(t *testing.T) {
	skewed := newEnv(t, envOptions{clock: func() time.Time { return time.Now().Add(6 * time.Minute) }})
	_, err := skewed.vpc().DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	wantCode(t, "timestamp six minutes behind", err, "AuthFailure.SignatureExpire")

	e := newEnv(t, envOptions{})
	_, err = e.vpcAs(cred{"AKIDnobody", "x"}, gz).DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	wantCode(t, "unknown SecretId", err, "AuthFailure.SecretIdNotFound")
	_, err = e.vpcAs(e.host, gz).DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	wantCode(t, "a host credential", err, "UnauthorizedOperation")
	wantCode(t, "DescribeAccount by a host", e.call(e.host, gz, "palisade", "DescribeAccount", nil, nil), "UnauthorizedOperation")
	if a := e.describeAccount(); a.AccountId != e.account {
		t.Errorf("DescribeAccount = %+v, want account %s", a, e.account)
	}
	_, err = e.vpcAs(cred{e.admin.id, e.admin.key + "x"}, gz).DescribeSecurityGroups(vpc.NewDescribeSecurityGroupsRequest())
	wantCode(t, "wrong SecretKey", err, "AuthFailure.SignatureFailure")
	_, err = e.cvmAs(cred{e.admin.id, "short"}, gz).DescribeInstances(cvm.NewDescribeInstancesRequest())
	wantCode(t, "wrong SecretKey on cvm", err, "AuthFailure.SignatureFailure")
}

// TestGETForm: the SDK's GET form (flattened query, everything as text)
// drives writes and reads as POST does, PolicyIndex 0 included.
func TestGETForm(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("get", []string{"ACCEPT TCP 80 0.0.0.0/0"}, nil)
	prof := e.profile()
	prof.HttpProfile.ReqMethod = "GET"
	c, err := vpc.NewClient(common.NewCredential(e.admin.id, e.admin.key), gz, prof)
	if err != nil {
		t.Fatal(err)
	}
	req := vpc.NewCreateSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &g
	p := pol("DROP TCP 22 198.51.100.0/24 # via GET")
	p.PolicyIndex = common.Int64Ptr(0)
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Version: common.StringPtr("1"), Ingress: []*vpc.SecurityGroupPolicy{p}}
	if _, err := c.CreateSecurityGroupPolicies(req); err != nil {
		t.Fatalf("CreateSecurityGroupPolicies by GET: %v", err)
	}
	set := e.describe(c, g)
	if got := compact(set.Ingress); !slices.Equal(got, []string{"DROP TCP 22 198.51.100.0/24 # via GET", "ACCEPT TCP 80 0.0.0.0/0"}) || *set.Version != "2" {
		t.Errorf("after GET write: %q version %s", got, *set.Version)
	}
	nextSecond()
	_, err = c.CreateSecurityGroupPolicies(req)
	wantCode(t, "stale Version by GET", err, "UnsupportedOperation.VersionMismatch")

	di := cvm.NewDescribeInstancesRequest()
	di.Offset, di.Limit = common.Int64Ptr(0), common.Int64Ptr(10)
	cc, err := cvm.NewClient(common.NewCredential(e.admin.id, e.admin.key), gz, prof)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.DescribeInstances(di); err != nil {
		t.Errorf("DescribeInstances by GET: %v", err)
	}
}

// TestLenientInput: what other SDKs, tccli, Terraform and the documentation's
// examples send is accepted: numbers as strings and strings as numbers,
// mixed case, empty template objects, Port ALL on ICMP.
func TestLenientInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("lenient", []string{"ACCEPT TCP 80 0.0.0.0/0"}, nil)
	err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
		"SecurityGroupId": g,
		"SecurityGroupPolicySet": map[string]any{
			"Version": 1, // a number where the SDK sends a string
			"Ingress": []map[string]any{
				{"PolicyIndex": "0", "Protocol": "icmp", "Port": "all", "CidrBlock": "0.0.0.0/0", "Action": "Accept",
					"AddressTemplate": map[string]any{}, "ServiceTemplate": map[string]any{"ServiceId": "", "ServiceGroupId": ""}},
				{"PolicyIndex": "0", "Protocol": "Tcp", "Port": 22, "CidrBlock": "10.0.0.0/8", "Action": "drop", "PolicyDescription": 7},
			},
		},
	}, nil)
	if err != nil {
		t.Fatalf("lenient CreateSecurityGroupPolicies: %v", err)
	}
	set := e.describe(e.vpc(), g)
	if got := compact(set.Ingress); !slices.Equal(got, []string{"ACCEPT ICMP ALL 0.0.0.0/0", "DROP TCP 22 10.0.0.0/8 # 7", "ACCEPT TCP 80 0.0.0.0/0"}) {
		t.Errorf("ingress = %q", got)
	}
	var list struct{ TotalCount int }
	if err := e.call(e.admin, gz, "vpc", "DescribeSecurityGroups", map[string]any{"Offset": 0, "Limit": "1"}, &list); err != nil || list.TotalCount != 1 {
		t.Errorf("numeric Offset: %v %+v", err, list)
	}
	if err := e.call(e.admin, gz, "cvm", "DescribeInstances", map[string]any{"Offset": "0", "Limit": "5"}, nil); err != nil {
		t.Errorf("string Offset in cvm: %v", err)
	}
	wantCode(t, "an object where a string belongs", e.call(e.admin, gz, "vpc", "DescribeSecurityGroupPolicies",
		map[string]any{"SecurityGroupId": map[string]any{"id": g}}, nil), "InvalidParameterValue.Malformed")
}
