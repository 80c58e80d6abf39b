package sdktest

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// The Terraform provider's flows (tencentcloud_security_group,
// tencentcloud_security_group_rule_set, the lite and legacy rule resources,
// tencentcloud_cvm_security_group_attachment), replayed call by call with the
// request shapes the provider builds and the read-back checks its acceptance
// tests make against the cloud.

// tfRule is a rule_set block: what the configuration says.
type tfRule struct {
	action, cidr, ipv6, sg, addressID, addressGroup, protocol, port, serviceID, serviceGroup, desc string
}

// request builds the policy as the provider's unmarshalSecurityPolicy does:
// only non-empty fields are set.
func (r tfRule) request() *vpc.SecurityGroupPolicy {
	p := &vpc.SecurityGroupPolicy{Action: common.StringPtr(r.action)}
	set := func(v string) *string {
		if v == "" {
			return nil
		}
		return common.StringPtr(v)
	}
	p.CidrBlock, p.Ipv6CidrBlock, p.SecurityGroupId = set(r.cidr), set(r.ipv6), set(r.sg)
	p.Protocol, p.Port, p.PolicyDescription = set(r.protocol), set(r.port), set(r.desc)
	if r.addressID != "" || r.addressGroup != "" {
		p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressId: set(r.addressID), AddressGroupId: set(r.addressGroup)}
	}
	if r.serviceID != "" || r.serviceGroup != "" {
		p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: set(r.serviceID), ServiceGroupId: set(r.serviceGroup)}
	}
	return p
}

func tfRequests(rules []tfRule) []*vpc.SecurityGroupPolicy {
	out := make([]*vpc.SecurityGroupPolicy, len(rules))
	for i, r := range rules {
		out[i] = r.request()
	}
	return out
}

// wantRead checks a described direction the way the provider reads it back:
// every field it dereferences present, PolicyIndex 0..n in order, and each
// configured field echoed exactly. Protocol and Port, optional and computed
// in the provider, must read back as ALL when the rule left them out.
func wantRead(t *testing.T, what string, got []*vpc.SecurityGroupPolicy, want []tfRule) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d policies, want %d", what, len(got), len(want))
	}
	for i, p := range got {
		if p.PolicyIndex == nil || p.Action == nil || p.Protocol == nil || p.Port == nil || p.CidrBlock == nil || p.Ipv6CidrBlock == nil ||
			p.SecurityGroupId == nil || p.PolicyDescription == nil || p.AddressTemplate == nil || p.AddressTemplate.AddressId == nil ||
			p.AddressTemplate.AddressGroupId == nil || p.ServiceTemplate == nil || p.ServiceTemplate.ServiceId == nil ||
			p.ServiceTemplate.ServiceGroupId == nil || p.ModifyTime == nil {
			t.Fatalf("%s.%d: a field the provider dereferences is missing: %s", what, i, mustJSON(p))
		}
		w := want[i]
		if w.serviceID == "" && w.serviceGroup == "" {
			if w.protocol == "" {
				w.protocol = "ALL"
			}
			if w.port == "" {
				w.port = "ALL"
			}
		}
		r := tfRule{action: *p.Action, cidr: *p.CidrBlock, ipv6: *p.Ipv6CidrBlock, sg: *p.SecurityGroupId,
			addressID: *p.AddressTemplate.AddressId, addressGroup: *p.AddressTemplate.AddressGroupId,
			protocol: strings.ToUpper(*p.Protocol), port: *p.Port,
			serviceID: *p.ServiceTemplate.ServiceId, serviceGroup: *p.ServiceTemplate.ServiceGroupId, desc: *p.PolicyDescription}
		w.action, w.protocol = strings.ToUpper(w.action), strings.ToUpper(w.protocol)
		if *p.PolicyIndex != int64(i) || r != w {
			t.Errorf("%s.%d: index %d %+v, want %+v", what, i, *p.PolicyIndex, r, w)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// modify sends ModifySecurityGroupPolicies as the provider does; nil
// directions are left out of the request, version "" sends no Version.
func (e *env) modify(id, version string, sort bool, ingress, egress []*vpc.SecurityGroupPolicy) error {
	req := vpc.NewModifySecurityGroupPoliciesRequest()
	req.SecurityGroupId = &id
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: ingress, Egress: egress}
	if version != "" {
		req.SecurityGroupPolicySet.Version = &version
	}
	if sort {
		req.SortPolicys = common.BoolPtr(true)
	}
	_, err := e.vpc().ModifySecurityGroupPolicies(req)
	return err
}

// deleteByIndex deletes a direction's policies by index, without Version, as
// DeleteSecurityGroupPolicyByPolicyIndexList does.
func (e *env) deleteByIndex(id string, ingress bool, n int) error {
	list := make([]*vpc.SecurityGroupPolicy, n)
	for i := range list {
		list[i] = &vpc.SecurityGroupPolicy{PolicyIndex: common.Int64Ptr(int64(i))}
	}
	req := vpc.NewDeleteSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &id
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{}
	if ingress {
		req.SecurityGroupPolicySet.Ingress = list
	} else {
		req.SecurityGroupPolicySet.Egress = list
	}
	_, err := e.vpc().DeleteSecurityGroupPolicies(req)
	return err
}

// TestTerraformSecurityGroup: tencentcloud_security_group creates with an
// empty description, reads back by id, runs Atoi on ProjectId and reads
// CreatedTime without a nil check.
func TestTerraformSecurityGroup(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	for _, tt := range []struct {
		name    string
		project *string
		want    int
	}{
		{"no project", nil, 0},
		{"project 3", common.StringPtr("3"), 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := vpc.NewCreateSecurityGroupRequest()
			req.GroupName, req.GroupDescription, req.ProjectId = common.StringPtr("tf-"+strings.ReplaceAll(tt.name, " ", "-")), common.StringPtr(""), tt.project
			res, err := c.CreateSecurityGroup(req)
			if err != nil {
				t.Fatalf("CreateSecurityGroup with GroupDescription \"\": %v", err)
			}
			id := *res.Response.SecurityGroup.SecurityGroupId
			desc := vpc.NewDescribeSecurityGroupsRequest()
			desc.SecurityGroupIds = common.StringPtrs([]string{id})
			dres, err := c.DescribeSecurityGroups(desc)
			if err != nil || len(dres.Response.SecurityGroupSet) != 1 {
				t.Fatalf("DescribeSecurityGroups %s: %v", id, err)
			}
			g := dres.Response.SecurityGroupSet[0]
			if *g.SecurityGroupName != *req.GroupName || *g.SecurityGroupDesc != "" {
				t.Errorf("read back name %q description %q", *g.SecurityGroupName, *g.SecurityGroupDesc)
			}
			if p, err := strconv.Atoi(*g.ProjectId); err != nil || p != tt.want {
				t.Errorf("ProjectId %q: Atoi = %d, %v; want %d", *g.ProjectId, p, err, tt.want)
			}
			if g.CreatedTime == nil {
				t.Fatal("CreatedTime absent")
			}
			if _, err := time.Parse(time.DateTime, *g.CreatedTime); err != nil {
				t.Errorf("CreatedTime %q: %v", *g.CreatedTime, err)
			}
		})
	}
	// A group that is gone reads as an empty set (the provider also accepts
	// ResourceNotFound).
	desc := vpc.NewDescribeSecurityGroupsRequest()
	desc.SecurityGroupIds = common.StringPtrs([]string{"sg-00000000"})
	dres, err := c.DescribeSecurityGroups(desc)
	if got := code(err); got != "ResourceNotFound" && (err != nil || len(dres.Response.SecurityGroupSet) != 0) {
		t.Errorf("describe a missing group: %v", err)
	}
}

// TestTerraformRuleSet replays tencentcloud_security_group_rule_set through
// its acceptance test's configurations, then its update paths that empty one
// direction or both, and its delete.
func TestTerraformRuleSet(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	base := e.group("test-set-sg", nil, nil)
	relative := e.group("for-relative", nil, nil)
	ipm := e.addressTemplate("test-set-aTemp", "10.0.0.1", "10.0.1.0/24", "10.0.0.1-10.0.0.100")
	ipmg := e.addressTemplateGroup("test-set-atg", ipm)

	version := func() int {
		t.Helper()
		v, err := strconv.Atoi(*e.describe(c, base).Version)
		if err != nil {
			t.Fatalf("Version is not a number: %v", err)
		}
		return v
	}
	check := func(step string, ingress, egress []tfRule) {
		t.Helper()
		set := e.describe(c, base)
		wantRead(t, step+" ingress", set.Ingress, ingress)
		wantRead(t, step+" egress", set.Egress, egress)
	}

	// Step 1 (create): Modify without Version or SortPolicys. Two ingress
	// rules differ only in their description; two egress rules give neither
	// Protocol nor Port.
	basicIn := []tfRule{
		{action: "ACCEPT", cidr: "10.0.0.0/22", protocol: "TCP", port: "80-90", desc: "A:Allow Ips and 80-90"},
		{action: "ACCEPT", cidr: "10.0.2.1", protocol: "UDP", port: "8080", desc: "B:Allow UDP 8080"},
		{action: "ACCEPT", cidr: "10.0.2.1", protocol: "UDP", port: "8080", desc: "C:Allow UDP 8080"},
		{action: "ACCEPT", cidr: "172.18.1.2", protocol: "ALL", port: "ALL", desc: "D:Allow ALL"},
		{action: "DROP", protocol: "TCP", port: "80", sg: relative, desc: "E:Block relative"},
	}
	basicOut := []tfRule{
		{action: "DROP", cidr: "10.0.0.0/16", protocol: "ICMP", desc: "A:Block ping3"},
		{action: "DROP", addressID: ipm, desc: "B:Allow template"},
		{action: "DROP", addressGroup: ipmg, desc: "C:DROP template group"},
	}
	if err := e.modify(base, "", false, tfRequests(basicIn), tfRequests(basicOut)); err != nil {
		t.Fatalf("create: ModifySecurityGroupPolicies: %v", err)
	}
	check("create", basicIn, basicOut)

	// Step 2 (sort): Version = last + 1, SortPolicys, the order given kept.
	sortIn := []tfRule{
		{action: "DROP", protocol: "TCP", port: "82", sg: relative, desc: "E:Block relative and set 82"},
		basicIn[0], basicIn[1], basicIn[3], basicIn[2],
	}
	sortOut := []tfRule{basicOut[0], basicOut[1], {action: "ACCEPT", addressGroup: ipmg, desc: "C:ACCEPT template group"}}
	last := version()
	if err := e.modify(base, itoa(last+1), true, tfRequests(sortIn), tfRequests(sortOut)); err != nil {
		t.Fatalf("sort: %v", err)
	}
	check("sort", sortIn, sortOut)
	if v := version(); v != last+1 {
		t.Errorf("Version after one write = %d, want %d", v, last+1)
	}

	// Step 3 (modify): fewer ingress, more egress rules; a lower-case
	// protocol and a comma port list are accepted and echoed.
	modIn := []tfRule{basicIn[0], basicIn[2], basicIn[4], {action: "accept", cidr: "8.8.8.8", protocol: "udp", port: "80,90"}}
	modOut := []tfRule{basicOut[0], {action: "DROP", cidr: "172.18.1.2", protocol: "ICMP", desc: "A:Block ping4"}, basicOut[1], basicOut[2]}
	if err := e.modify(base, itoa(version()+1), true, tfRequests(modIn), tfRequests(modOut)); err != nil {
		t.Fatalf("modify: %v", err)
	}
	check("modify", modIn, modOut)

	// Step 4: egress emptied. The provider deletes the old egress rules by
	// index, then sends Modify with ingress only and Version = last + 2.
	last = version()
	if err := e.deleteByIndex(base, false, len(modOut)); err != nil {
		t.Fatalf("delete egress by index: %v", err)
	}
	if err := e.modify(base, itoa(last+2), true, tfRequests(basicIn), nil); err != nil {
		t.Fatalf("modify ingress only: %v", err)
	}
	check("egress emptied", basicIn, nil)

	// Step 5: the other way round.
	last = version()
	if err := e.deleteByIndex(base, true, len(basicIn)); err != nil {
		t.Fatalf("delete ingress by index: %v", err)
	}
	if err := e.modify(base, itoa(last+2), true, nil, tfRequests(basicOut)); err != nil {
		t.Fatalf("modify egress only: %v", err)
	}
	check("ingress emptied", nil, basicOut)

	// Step 6: both emptied: Version "0" and no directions at all.
	if err := e.modify(base, "0", true, nil, nil); err != nil {
		t.Fatalf("modify Version 0: %v", err)
	}
	check("both emptied", nil, nil)

	// Delete: Version "0" with both directions [].
	nextSecond() // the recreate repeats an earlier request
	if err := e.modify(base, "", false, tfRequests(basicIn), tfRequests(basicOut)); err != nil {
		t.Fatalf("recreate: %v", err)
	}
	if err := e.modify(base, "0", false, []*vpc.SecurityGroupPolicy{}, []*vpc.SecurityGroupPolicy{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	check("deleted", nil, nil)
}

// liteString renders a described policy as the lite-rule resource reads it:
// ACTION#SOURCE#PORT#PROTOCOL.
func liteString(p *vpc.SecurityGroupPolicy) string {
	source := *p.CidrBlock
	for _, s := range []string{*p.SecurityGroupId, *p.AddressTemplate.AddressId, *p.AddressTemplate.AddressGroupId} {
		if s != "" {
			source = s
		}
	}
	return *p.Action + "#" + source + "#" + *p.Port + "#" + strings.ToUpper(*p.Protocol)
}

func liteStrings(ps []*vpc.SecurityGroupPolicy) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = liteString(p)
	}
	return out
}

// litePolicies parses ACTION#CIDR#PORT#PROTOCOL into the policies the lite
// resource sends (getSecurityGroupPolicies).
func litePolicies(rules ...string) []*vpc.SecurityGroupPolicy {
	out := make([]*vpc.SecurityGroupPolicy, len(rules))
	for i, r := range rules {
		f := strings.Split(r, "#")
		out[i] = &vpc.SecurityGroupPolicy{Action: common.StringPtr(f[0]), CidrBlock: common.StringPtr(f[1]), Port: common.StringPtr(f[2]), Protocol: common.StringPtr(f[3])}
	}
	return out
}

// TestTerraformLiteAndLegacyRules: the lite-rule resource's Modify with both
// directions and its read-back strings, its update that sends [] for an
// unchanged direction, the legacy rule resource's delete by content (ALL
// protocol and port left out, upper-cased action), the documentation's
// mixed-case content with empty template objects, and detach-all.
func TestTerraformLiteAndLegacyRules(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	g := e.group("ci-temp-test-sg", nil, nil)
	in := []string{"ACCEPT#192.168.1.0/24#80#TCP", "DROP#8.8.8.8#80,90#UDP", "ACCEPT#0.0.0.0/0#80-90#TCP"}
	out := []string{"ACCEPT#192.168.0.0/16#ALL#TCP", "ACCEPT#10.0.0.0/8#ALL#ICMP", "DROP#0.0.0.0/0#ALL#ALL"}
	if err := e.modify(g, "", false, litePolicies(in...), litePolicies(out...)); err != nil {
		t.Fatalf("attach lite rules: %v", err)
	}
	set := e.describe(c, g)
	if !slices.Equal(liteStrings(set.Ingress), in) || !slices.Equal(liteStrings(set.Egress), out) {
		t.Errorf("lite read-back %q %q, want %q %q", liteStrings(set.Ingress), liteStrings(set.Egress), in, out)
	}

	// Update with only egress changed: ingress goes as [].
	out2 := []string{"ACCEPT#192.168.0.0/16#ALL#TCP", "ACCEPT#192.168.0.0/24#ALL#UDP", "ACCEPT#10.0.0.0/8#ALL#ICMP", "DROP#0.0.0.0/0#ALL#ALL"}
	if err := e.modify(g, "", false, []*vpc.SecurityGroupPolicy{}, litePolicies(out2...)); err != nil {
		t.Fatalf("update egress: %v", err)
	}
	set = e.describe(c, g)
	if !slices.Equal(liteStrings(set.Ingress), in) || !slices.Equal(liteStrings(set.Egress), out2) {
		t.Errorf("after an egress-only update %q %q", liteStrings(set.Ingress), liteStrings(set.Egress))
	}

	// The legacy rule resource deletes by content: Action upper-cased,
	// Protocol left out when ALL, Port left out when ALL.
	legacy := func(dir string, p *vpc.SecurityGroupPolicy) error {
		req := vpc.NewDeleteSecurityGroupPoliciesRequest()
		req.SecurityGroupId = &g
		req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{}
		if dir == "ingress" {
			req.SecurityGroupPolicySet.Ingress = []*vpc.SecurityGroupPolicy{p}
		} else {
			req.SecurityGroupPolicySet.Egress = []*vpc.SecurityGroupPolicy{p}
		}
		_, err := c.DeleteSecurityGroupPolicies(req)
		return err
	}
	if err := legacy("egress", &vpc.SecurityGroupPolicy{Action: common.StringPtr("DROP"), CidrBlock: common.StringPtr("0.0.0.0/0")}); err != nil {
		t.Errorf("legacy delete of DROP ALL ALL 0.0.0.0/0 by content: %v", err)
	}
	if err := legacy("egress", &vpc.SecurityGroupPolicy{Action: common.StringPtr("ACCEPT"), CidrBlock: common.StringPtr("192.168.0.0/24"), Protocol: common.StringPtr("UDP")}); err != nil {
		t.Errorf("legacy delete of ACCEPT UDP ALL by content: %v", err)
	}
	if err := legacy("ingress", &vpc.SecurityGroupPolicy{Action: common.StringPtr("DROP"), CidrBlock: common.StringPtr("8.8.8.8"), Protocol: common.StringPtr("UDP"),
		Port: common.StringPtr("80,90"), PolicyDescription: common.StringPtr("")}); err != nil {
		t.Errorf("legacy delete of DROP UDP 80,90 8.8.8.8 by content: %v", err)
	}
	// The documentation's example: mixed case, empty template objects.
	err := e.call(e.admin, gz, "vpc", "DeleteSecurityGroupPolicies", map[string]any{
		"SecurityGroupId": g,
		"SecurityGroupPolicySet": map[string]any{"Egress": []map[string]any{
			{"Action": "accept", "Protocol": "icmp", "CidrBlock": "10.0.0.0/8", "Port": "all", "AddressTemplate": map[string]any{}, "ServiceTemplate": map[string]any{}},
		}},
	}, nil)
	if err != nil {
		t.Errorf("delete by mixed-case content with {} templates: %v", err)
	}
	set = e.describe(c, g)
	if want := []string{in[0], in[2]}; !slices.Equal(liteStrings(set.Ingress), want) {
		t.Errorf("ingress after deletes %q, want %q", liteStrings(set.Ingress), want)
	}
	if want := []string{out2[0]}; !slices.Equal(liteStrings(set.Egress), want) {
		t.Errorf("egress after deletes %q, want %q", liteStrings(set.Egress), want)
	}
	err = legacy("ingress", &vpc.SecurityGroupPolicy{Action: common.StringPtr("DROP"), CidrBlock: common.StringPtr("8.8.8.8"), Protocol: common.StringPtr("UDP"), Port: common.StringPtr("80,90")})
	wantCode(t, "delete by content that matches nothing", err, "ResourceNotFound")

	// Two policies that differ only in their description: the legacy
	// resource's delete, which sends its description, removes its own.
	twins := []tfRule{
		{action: "ACCEPT", cidr: "10.0.2.1", protocol: "UDP", port: "8080", desc: "B:Allow UDP 8080"},
		{action: "ACCEPT", cidr: "10.0.2.1", protocol: "UDP", port: "8080", desc: "C:Allow UDP 8080"},
	}
	if err := e.modify(g, "", false, tfRequests(twins), nil); err != nil {
		t.Fatalf("write twins: %v", err)
	}
	if err := legacy("ingress", twins[1].request()); err != nil {
		t.Fatalf("legacy delete of the second twin: %v", err)
	}
	wantRead(t, "twins after deleting C", e.describe(c, g).Ingress, twins[:1])

	// Detach all: Version "0" and nothing else.
	if err := e.modify(g, "0", false, nil, nil); err != nil {
		t.Fatalf("detach all: %v", err)
	}
	if set = e.describe(c, g); len(set.Ingress)+len(set.Egress) != 0 {
		t.Errorf("detach all left %d policies", len(set.Ingress)+len(set.Egress))
	}
}

// TestTerraformDeleteBoundGroup: before deleting, the provider polls
// DescribeSecurityGroupAssociationStatistics and dereferences CVM, CLB, CDB,
// ENI and SG; DeleteSecurityGroup of a bound group answers ResourceInUse,
// which it retries. The attachment resource binds one group to one instance
// and reads Instance.SecurityGroupIds back.
func TestTerraformDeleteBoundGroup(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "tf", ip: "10.0.0.61"})[0]
	g := e.group("tf-bound", nil, nil)

	as := cvm.NewAssociateSecurityGroupsRequest()
	as.SecurityGroupIds, as.InstanceIds = common.StringPtrs([]string{g}), common.StringPtrs([]string{ins})
	if _, err := e.cvm().AssociateSecurityGroups(as); err != nil {
		t.Fatalf("AssociateSecurityGroups: %v", err)
	}
	di := cvm.NewDescribeInstancesRequest()
	di.InstanceIds = common.StringPtrs([]string{ins})
	res, err := e.cvm().DescribeInstances(di)
	if err != nil || !slices.Contains(common.StringValues(res.Response.InstanceSet[0].SecurityGroupIds), g) {
		t.Fatalf("attachment read-back: %v", err)
	}

	counts := func() map[string]json.RawMessage {
		t.Helper()
		var out struct{ SecurityGroupAssociationStatisticsSet []map[string]json.RawMessage }
		if err := e.call(e.admin, gz, "vpc", "DescribeSecurityGroupAssociationStatistics", map[string]any{"SecurityGroupIds": []string{g}}, &out); err != nil {
			t.Fatalf("DescribeSecurityGroupAssociationStatistics: %v", err)
		}
		if len(out.SecurityGroupAssociationStatisticsSet) != 1 {
			t.Fatalf("statistics set has %d rows", len(out.SecurityGroupAssociationStatisticsSet))
		}
		row := out.SecurityGroupAssociationStatisticsSet[0]
		for _, k := range []string{"CVM", "CLB", "CDB", "ENI", "SG", "TotalCount"} {
			var n uint64
			if err := json.Unmarshal(row[k], &n); err != nil {
				t.Errorf("statistics %s = %s, want a number", k, row[k])
			}
		}
		return row
	}
	if row := counts(); string(row["CVM"]) != "1" {
		t.Errorf("CVM = %s while bound, want 1", row["CVM"])
	}
	del := vpc.NewDeleteSecurityGroupRequest()
	del.SecurityGroupId = &g
	_, err = e.vpc().DeleteSecurityGroup(del)
	wantCode(t, "delete a bound group", err, "ResourceInUse")

	dis := cvm.NewDisassociateSecurityGroupsRequest()
	dis.SecurityGroupIds, dis.InstanceIds = as.SecurityGroupIds, as.InstanceIds
	nextSecond() // the body was signed for AssociateSecurityGroups
	if _, err := e.cvm().DisassociateSecurityGroups(dis); err != nil {
		t.Fatalf("DisassociateSecurityGroups: %v", err)
	}
	if row := counts(); string(row["CVM"]) != "0" || string(row["SG"]) != "0" {
		t.Errorf("after unbinding CVM = %s SG = %s", row["CVM"], row["SG"])
	}
	if _, err := e.vpc().DeleteSecurityGroup(del); err != nil {
		t.Errorf("delete after unbinding: %v", err)
	}
}

// tfReadTags reads a group's tags as the provider's DescribeResourceTags
// does: pages of 20 from offset 0 until a short page, keeping the rows of
// the one resource asked for; no tags is a nil map.
func (e *env) tfReadTags(t *testing.T, id string) map[string]string {
	t.Helper()
	var tags map[string]string
	for offset, count := 0, 20; count == 20; offset += count {
		p, err := e.describeTags(e.admin, gz, offset, 20, id)
		if err != nil {
			t.Fatalf("DescribeResourceTagsByResourceIds: %v", err)
		}
		count = len(p.Tags)
		for _, r := range p.Tags {
			if r.ResourceId != id {
				continue
			}
			if tags == nil {
				tags = map[string]string{}
			}
			tags[r.TagKey] = r.TagValue
		}
	}
	return tags
}

// tfDiffTags is the provider's DiffTags: keys new or changed are replaced,
// keys gone are deleted.
func tfDiffTags(old, new map[string]string) (map[string]string, []string) {
	replace := map[string]string{}
	var del []string
	for k, v := range new {
		if o, ok := old[k]; !ok || o != v {
			replace[k] = v
		}
	}
	for _, k := range sortedKeys(old) {
		if _, ok := new[k]; !ok {
			del = append(del, k)
		}
	}
	return replace, del
}

// TestTerraformSecurityGroupTags replays tencentcloud_security_group with
// tags: create (CreateSecurityGroup with Tags, then ModifyResourceTags with
// them all), refresh (DescribeSecurityGroups and the tag read), a change of
// tags (ModifyResourceTags with the diff), refresh, import (a read by id
// alone) and the removal of every tag.
func TestTerraformSecurityGroupTags(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	refresh := func(step, id string, wantTags map[string]string) {
		t.Helper()
		req := vpc.NewDescribeSecurityGroupsRequest()
		req.SecurityGroupIds = common.StringPtrs([]string{id})
		res, err := c.DescribeSecurityGroups(req)
		if err != nil || len(res.Response.SecurityGroupSet) != 1 {
			t.Fatalf("%s: DescribeSecurityGroups: %v", step, err)
		}
		g := res.Response.SecurityGroupSet[0]
		if *g.SecurityGroupName != "tf-tagged" {
			t.Errorf("%s: name %q", step, *g.SecurityGroupName)
		}
		if _, err := strconv.Atoi(*g.ProjectId); err != nil {
			t.Errorf("%s: ProjectId %q: %v", step, *g.ProjectId, err)
		}
		got := e.tfReadTags(t, id)
		if len(got) != len(wantTags) {
			t.Fatalf("%s: tags %v, want %v", step, got, wantTags)
		}
		for k, v := range wantTags {
			if got[k] != v {
				t.Errorf("%s: tags %v, want %v", step, got, wantTags)
			}
		}
	}

	// Create.
	config := map[string]string{"env": "prod", "app": "web"}
	req := vpc.NewCreateSecurityGroupRequest()
	req.GroupName, req.GroupDescription = common.StringPtr("tf-tagged"), common.StringPtr("")
	for _, k := range sortedKeys(config) {
		req.Tags = append(req.Tags, &vpc.Tag{Key: common.StringPtr(k), Value: common.StringPtr(config[k])})
	}
	res, err := c.CreateSecurityGroup(req)
	if err != nil {
		t.Fatalf("CreateSecurityGroup with Tags: %v", err)
	}
	id := *res.Response.SecurityGroup.SecurityGroupId
	if err := e.modifyTags(e.admin, gz, tfTagName(gz, id), config, nil); err != nil {
		t.Fatalf("create: ModifyResourceTags: %v", err)
	}
	refresh("create", id, config)
	refresh("refresh", id, config)

	// Change the tags: one value changed, one key removed, one added.
	changed := map[string]string{"env": "staging", "team": "net"}
	replace, del := tfDiffTags(config, changed)
	if err := e.modifyTags(e.admin, gz, tfTagName(gz, id), replace, del); err != nil {
		t.Fatalf("update: ModifyResourceTags: %v", err)
	}
	refresh("after the change", id, changed)

	// Import: the id alone, then a read.
	refresh("import", id, changed)

	// Remove every tag: DeleteTags only.
	replace, del = tfDiffTags(changed, nil)
	if len(replace) != 0 {
		t.Fatalf("diff to no tags replaces %v", replace)
	}
	if err := e.modifyTags(e.admin, gz, tfTagName(gz, id), replace, del); err != nil {
		t.Fatalf("remove the tags: %v", err)
	}
	refresh("no tags", id, nil)
	if got := e.tfReadTags(t, id); got != nil {
		t.Errorf("tags of an untagged group read as %v, want nil", got)
	}
}
