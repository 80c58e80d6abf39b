package sdktest

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// The FAQ of the seed, point by point, through the official SDK.

func wantVerdict(t *testing.T, what string, got verdict, verdict, layer, group string, index int) {
	t.Helper()
	ok := got.Verdict == verdict && got.Layer == layer && got.SecurityGroupId == group
	if layer == "SECURITY_GROUP" {
		ok = ok && got.PolicyIndex != nil && *got.PolicyIndex == index
	} else {
		ok = ok && got.PolicyIndex == nil
	}
	if !ok {
		idx := "absent"
		if got.PolicyIndex != nil {
			idx = itoa(*got.PolicyIndex)
		}
		t.Errorf("%s: %s %s %q index %s, want %s %s %q index %d (trace %q)",
			what, got.Verdict, got.Layer, got.SecurityGroupId, idx, verdict, layer, group, index, got.Trace)
	}
}

// FAQ 1: port 22 must be open to log in to Linux, 3389 to Windows.
func TestFAQ1LoginPorts22And3389(t *testing.T) {
	e := newEnv(t, envOptions{})
	ids := e.register(gz, instance{name: "lin", os: "linux", ip: "10.0.0.2"}, instance{name: "win", os: "windows", ip: "10.0.0.3"})
	linux, windows := ids[0], ids[1]
	ssh := e.group("linux-login", []string{"ACCEPT TCP 22 0.0.0.0/0"}, nil)
	rdp := e.group("windows-login", []string{"ACCEPT TCP 3389 0.0.0.0/0"}, nil)
	e.bind(linux, ssh)
	e.bind(windows, rdp)

	wantVerdict(t, "ssh to linux", e.simulate(linux, "INGRESS", "TCP", "203.0.113.9", 22), "ACCEPT", "SECURITY_GROUP", ssh, 0)
	wantVerdict(t, "rdp to linux", e.simulate(linux, "INGRESS", "TCP", "203.0.113.9", 3389), "DROP", "DEFAULT", "", 0)
	wantVerdict(t, "rdp to windows", e.simulate(windows, "INGRESS", "TCP", "203.0.113.9", 3389), "ACCEPT", "SECURITY_GROUP", rdp, 0)
	wantVerdict(t, "ssh to windows", e.simulate(windows, "INGRESS", "TCP", "203.0.113.9", 22), "DROP", "DEFAULT", "", 0)
}

// FAQ 4: after moving a service to another port the rule must change too.
func TestFAQ4PortChangeRequiresRuleChange(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "web", ip: "10.0.0.5"})[0]
	web := e.group("web", []string{"ACCEPT TCP 8080 0.0.0.0/0"}, nil)
	e.bind(ins, web)
	wantVerdict(t, "old port", e.simulate(ins, "INGRESS", "TCP", "198.51.100.1", 8080), "ACCEPT", "SECURITY_GROUP", web, 0)
	wantVerdict(t, "new port before the rule changes", e.simulate(ins, "INGRESS", "TCP", "198.51.100.1", 8443), "DROP", "DEFAULT", "", 0)

	req := vpc.NewReplaceSecurityGroupPolicyRequest()
	req.SecurityGroupId = &web
	p := pol("ACCEPT TCP 8443 0.0.0.0/0")
	p.PolicyIndex = common.Int64Ptr(0)
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{p}}
	if _, err := e.vpc().ReplaceSecurityGroupPolicy(req); err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, "new port after the rule changed", e.simulate(ins, "INGRESS", "TCP", "198.51.100.1", 8443), "ACCEPT", "SECURITY_GROUP", web, 0)
	wantVerdict(t, "old port after the rule changed", e.simulate(ins, "INGRESS", "TCP", "198.51.100.1", 8080), "DROP", "DEFAULT", "", 0)
}

// FAQ 5: the platform blocks outbound TCP 25 whatever the groups say, until
// the account lifts the block itself.
func TestFAQ5Port25BlockedUntilUnblocked(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "mail", ip: "10.0.0.6"})[0]
	out := e.group("all-out", nil, []string{"ACCEPT ALL ALL 0.0.0.0/0"})
	e.bind(ins, out)
	wantVerdict(t, "smtp while blocked", e.simulate(ins, "EGRESS", "TCP", "192.0.2.25", 25), "DROP", "PLATFORM", "", 0)
	wantVerdict(t, "submission port is not blocked", e.simulate(ins, "EGRESS", "TCP", "192.0.2.25", 587), "ACCEPT", "SECURITY_GROUP", out, 0)

	// A policy for outbound 25 while the block is on is accepted with a warning.
	var w struct{ Warnings []struct{ Code string } }
	err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
		"SecurityGroupId":        out,
		"SecurityGroupPolicySet": map[string]any{"Egress": []map[string]any{{"Protocol": "TCP", "Port": "25", "CidrBlock": "0.0.0.0/0", "Action": "ACCEPT"}}},
	}, &w)
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(w.Warnings, "PORT25_BLOCKED") {
		t.Errorf("egress 25 while blocked: warnings %v, want PORT25_BLOCKED", w.Warnings)
	}

	wantCode(t, "readonly unblock", e.call(e.reader, gz, "palisade", "UnblockPort25", nil, nil), "UnauthorizedOperation")
	if err := e.call(e.admin, gz, "palisade", "UnblockPort25", nil, nil); err != nil {
		t.Fatalf("UnblockPort25: %v", err)
	}
	wantVerdict(t, "smtp after unblocking", e.simulate(ins, "EGRESS", "TCP", "192.0.2.25", 25), "ACCEPT", "SECURITY_GROUP", out, 0)
	nextSecond() // the same request again within one second is a replay
	if err := e.call(e.admin, gz, "palisade", "UnblockPort25", nil, nil); err != nil {
		t.Errorf("UnblockPort25 again: %v", err)
	}
}

func hasWarning(ws []struct{ Code string }, code string) bool {
	return slices.ContainsFunc(ws, func(w struct{ Code string }) bool { return w.Code == code })
}

// FAQ 5: ports that ISPs block are accepted with a warning.
func TestFAQ5ISPBlockedPortWarnings(t *testing.T) {
	e := newEnv(t, envOptions{})
	g := e.group("isp", nil, nil)
	tests := []struct {
		name, proto, port string
		want              bool
	}{
		{"TCP 445", "TCP", "445", true},
		{"TCP 135-139 range", "TCP", "135-139", true},
		{"TCP 4444", "TCP", "4444", true},
		{"UDP 1434", "UDP", "1434", true},
		{"UDP 137 in 135-139", "UDP", "137", true},
		{"TCP 443 is fine", "TCP", "443", false},
		{"UDP 53 is fine", "UDP", "53", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w struct{ Warnings []struct{ Code string } }
			err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
				"SecurityGroupId": g,
				"SecurityGroupPolicySet": map[string]any{"Ingress": []map[string]any{
					{"Protocol": tt.proto, "Port": tt.port, "CidrBlock": "10.0.0.0/8", "Action": "ACCEPT", "PolicyDescription": tt.name}}},
			}, &w)
			if err != nil {
				t.Fatal(err)
			}
			if got := hasWarning(w.Warnings, "ISP_BLOCKED_PORT"); got != tt.want {
				t.Errorf("ISP_BLOCKED_PORT warning = %v, want %v (warnings %v)", got, tt.want, w.Warnings)
			}
		})
	}
}

// FAQ 6: a group denies by default: with no policies, or when none matches.
func TestFAQ6DefaultDeny(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.7"})[0]
	wantVerdict(t, "no group at all", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 22), "DROP", "DEFAULT", "", 0)
	empty := e.group("empty", nil, nil)
	e.bind(ins, empty)
	wantVerdict(t, "empty group, inbound", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 22), "DROP", "DEFAULT", "", 0)
	wantVerdict(t, "empty group, outbound", e.simulate(ins, "EGRESS", "UDP", "198.51.100.7", 53), "DROP", "DEFAULT", "", 0)
	web := e.group("web-only", []string{"ACCEPT TCP 80,443 0.0.0.0/0"}, nil)
	e.bind(ins, web)
	wantVerdict(t, "unmatched port", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 22), "DROP", "DEFAULT", "", 0)
	wantVerdict(t, "matched port", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 443), "ACCEPT", "SECURITY_GROUP", web, 0)
	// Opening everything means the final deny never takes effect.
	all := e.group("open-everything", []string{"ACCEPT ALL ALL 0.0.0.0/0"}, nil)
	e.bind(ins, all)
	wantVerdict(t, "all open", e.simulate(ins, "INGRESS", "UDP", "198.51.100.7", 9), "ACCEPT", "SECURITY_GROUP", all, 0)
}

// FAQ 8 and 9: inbound and outbound are separate lists, evaluated top to
// bottom, first match wins; inserting at PolicyIndex 0 puts a policy first.
func TestFAQ9TopToBottomFirstMatch(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.8"})[0]
	g := e.group("ordered", []string{"ACCEPT TCP 22 0.0.0.0/0"}, []string{"DROP TCP 22 0.0.0.0/0"})
	e.bind(ins, g)
	wantVerdict(t, "ssh in", e.simulate(ins, "INGRESS", "TCP", "198.51.100.9", 22), "ACCEPT", "SECURITY_GROUP", g, 0)
	wantVerdict(t, "ssh out is another list", e.simulate(ins, "EGRESS", "TCP", "198.51.100.9", 22), "DROP", "SECURITY_GROUP", g, 0)

	req := vpc.NewCreateSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &g
	p := pol("DROP TCP 22 198.51.100.0/24 # block a bad network")
	p.PolicyIndex = common.Int64Ptr(0)
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: []*vpc.SecurityGroupPolicy{p}}
	if _, err := e.vpc().CreateSecurityGroupPolicies(req); err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, "the inserted DROP comes first", e.simulate(ins, "INGRESS", "TCP", "198.51.100.9", 22), "DROP", "SECURITY_GROUP", g, 0)
	wantVerdict(t, "others reach the ACCEPT, now second", e.simulate(ins, "INGRESS", "TCP", "203.0.113.1", 22), "ACCEPT", "SECURITY_GROUP", g, 1)
	if got := compact(e.describe(e.vpc(), g).Ingress); !slices.Equal(got, []string{"DROP TCP 22 198.51.100.0/24 # block a bad network", "ACCEPT TCP 22 0.0.0.0/0"}) {
		t.Errorf("ingress = %q", got)
	}
}

// FAQ 10: an address the group does not allow still reaches the instance
// when another of its groups allows it, or when it is a platform address.
func TestFAQ10AllowedByAnotherGroup(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.9"})[0]
	office := e.group("office", []string{"ACCEPT TCP 22 192.0.2.0/24"}, nil)
	vendor := e.group("vendor", []string{"ACCEPT TCP 22 198.51.100.4"}, nil)
	e.bind(ins, office, vendor)
	wantVerdict(t, "office", e.simulate(ins, "INGRESS", "TCP", "192.0.2.10", 22), "ACCEPT", "SECURITY_GROUP", office, 0)
	wantVerdict(t, "vendor, allowed by the second group", e.simulate(ins, "INGRESS", "TCP", "198.51.100.4", 22), "ACCEPT", "SECURITY_GROUP", vendor, 0)
	wantVerdict(t, "anyone else", e.simulate(ins, "INGRESS", "TCP", "203.0.113.4", 22), "DROP", "DEFAULT", "", 0)

	// Binding order is priority order: a DROP in the first group wins.
	deny := e.group("deny-vendor", []string{"DROP ALL ALL 198.51.100.4"}, nil)
	e.bind(ins, deny, office, vendor)
	wantVerdict(t, "vendor denied by the first group", e.simulate(ins, "INGRESS", "TCP", "198.51.100.4", 22), "DROP", "SECURITY_GROUP", deny, 0)
	desc := cvm.NewDescribeInstancesRequest()
	desc.InstanceIds = common.StringPtrs([]string{ins})
	res, err := e.cvm().DescribeInstances(desc)
	if err != nil {
		t.Fatal(err)
	}
	if got := common.StringValues(res.Response.InstanceSet[0].SecurityGroupIds); !slices.Equal(got, []string{deny, office, vendor}) {
		t.Errorf("SecurityGroupIds = %v, want the binding order", got)
	}
}

func TestFAQ10PlatformAddressReachesInstance(t *testing.T) {
	e := newEnv(t, envOptions{platformAddresses: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.10"})[0]
	e.bind(ins, e.group("nothing", nil, nil))
	wantVerdict(t, "metadata service in", e.simulate(ins, "INGRESS", "TCP", "169.254.0.23", 80), "ACCEPT", "PLATFORM", "", 0)
	wantVerdict(t, "metadata service out", e.simulate(ins, "EGRESS", "UDP", "169.254.0.23", 53), "ACCEPT", "PLATFORM", "", 0)
	wantVerdict(t, "anyone else", e.simulate(ins, "INGRESS", "TCP", "169.253.0.23", 80), "DROP", "DEFAULT", "", 0)
}

// FAQ 7: bound to the wrong group, nothing works; binding an open group
// fixes it.
func TestFAQ7WrongGroupFixedByRebinding(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.11"})[0]
	wrong := e.group("wrong", []string{"ACCEPT TCP 5432 10.0.0.0/8"}, nil)
	e.bind(ins, wrong)
	for _, c := range []struct {
		what, proto string
		port        int
	}{{"ssh", "TCP", 22}, {"ping", "ICMP", 0}, {"http", "TCP", 80}} {
		wantVerdict(t, c.what+" with the wrong group", e.simulate(ins, "INGRESS", c.proto, "203.0.113.7", c.port), "DROP", "DEFAULT", "", 0)
	}
	open := e.group("open", []string{"ACCEPT ALL ALL 0.0.0.0/0"}, []string{"ACCEPT ALL ALL 0.0.0.0/0"})
	e.bind(ins, open)
	for _, c := range []struct {
		what, proto string
		port        int
	}{{"ssh", "TCP", 22}, {"ping", "ICMP", 0}, {"http", "TCP", 80}} {
		wantVerdict(t, c.what+" after rebinding", e.simulate(ins, "INGRESS", c.proto, "203.0.113.7", c.port), "ACCEPT", "SECURITY_GROUP", open, 0)
	}
	wantVerdict(t, "outbound https after rebinding", e.simulate(ins, "EGRESS", "TCP", "203.0.113.7", 443), "ACCEPT", "SECURITY_GROUP", open, 0)
}

// FAQ 12: a group bound to an instance in the recycle bin cannot be deleted.
func TestFAQ12RecycleBinBlocksDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "old", ip: "10.0.0.12"})[0]
	g := e.group("keep", nil, nil)
	e.bind(ins, g)

	term := cvm.NewTerminateInstancesRequest()
	term.InstanceIds = common.StringPtrs([]string{ins})
	if _, err := e.cvm().TerminateInstances(term); err != nil {
		t.Fatal(err)
	}
	del := vpc.NewDeleteSecurityGroupRequest()
	del.SecurityGroupId = &g
	_, err := e.vpc().DeleteSecurityGroup(del)
	wantCode(t, "delete while in the recycle bin", err, "ResourceInUse")
	if !strings.Contains(message(err), ins) {
		t.Errorf("message %q does not name the instance %s", message(err), ins)
	}
	stats := vpc.NewDescribeSecurityGroupAssociationStatisticsRequest()
	stats.SecurityGroupIds = common.StringPtrs([]string{g})
	sres, err := e.vpc().DescribeSecurityGroupAssociationStatistics(stats)
	if err != nil {
		t.Fatal(err)
	}
	if s := sres.Response.SecurityGroupAssociationStatisticsSet[0]; *s.CVM != 1 || *s.TotalCount != 1 {
		t.Errorf("statistics CVM=%d TotalCount=%d, want 1 and 1", *s.CVM, *s.TotalCount)
	}

	if err := e.call(e.admin, gz, "palisade", "PurgeInstances", map[string]any{"InstanceIds": []string{ins}}, nil); err != nil {
		t.Fatalf("PurgeInstances: %v", err)
	}
	nextSecond() // the same request again within one second is a replay
	if _, err := e.vpc().DeleteSecurityGroup(del); err != nil {
		t.Errorf("delete after purging the recycle bin: %v", err)
	}
}

// FAQ 13: a clone's name must not exist in the target region.
func TestFAQ13CloneNameClashInTargetRegion(t *testing.T) {
	e := newEnv(t, envOptions{})
	src := e.group("web", []string{"ACCEPT TCP 80 0.0.0.0/0"}, nil)
	nextSecond() // the same request, to another region, within one second is a replay
	e.groupIn(e.admin, sh, "web", nil, nil)

	clone := vpc.NewCloneSecurityGroupRequest()
	clone.SecurityGroupId, clone.RemoteRegion = &src, common.StringPtr(gz)
	_, err := e.vpcAs(e.admin, sh).CloneSecurityGroup(clone)
	wantCode(t, "clone keeping a name taken in the target region", err, "InvalidParameterValue.Duplicate")

	clone.GroupName = common.StringPtr("web-copy")
	res, err := e.vpcAs(e.admin, sh).CloneSecurityGroup(clone)
	if err != nil {
		t.Fatalf("clone with a new name: %v", err)
	}
	if got := *res.Response.SecurityGroup.SecurityGroupName; got != "web-copy" {
		t.Errorf("clone name = %q", got)
	}
}

// FAQ 14: no clone across accounts: the source is not found.
func TestFAQ14NoCrossAccountClone(t *testing.T) {
	e := newEnv(t, envOptions{})
	src := e.group("private", []string{"ACCEPT TCP 22 192.0.2.0/24"}, nil)
	clone := vpc.NewCloneSecurityGroupRequest()
	clone.SecurityGroupId, clone.GroupName = &src, common.StringPtr("stolen")
	_, err := e.vpcAs(e.other, gz).CloneSecurityGroup(clone)
	wantCode(t, "clone another account's group", err, "ResourceNotFound")
}

// FAQ 15 and 16: the API clones across projects and regions, copying the
// rules and no instance.
func TestFAQ15And16CrossRegionProjectCloneCopiesRulesNotInstances(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "a", ip: "10.0.0.13"})[0]
	rules := []string{"ACCEPT TCP 22 192.0.2.0/24 # ssh", "DROP ALL ALL 0.0.0.0/0"}
	src := e.group("base", rules, []string{"ACCEPT ALL ALL ::/0"})
	e.bind(ins, src)

	clone := vpc.NewCloneSecurityGroupRequest()
	clone.SecurityGroupId, clone.RemoteRegion, clone.ProjectId = &src, common.StringPtr(gz), common.StringPtr("5")
	res, err := e.vpcAs(e.admin, sh).CloneSecurityGroup(clone)
	if err != nil {
		t.Fatalf("CloneSecurityGroup: %v", err)
	}
	g := res.Response.SecurityGroup
	if *g.SecurityGroupName != "base" || *g.ProjectId != "5" || *g.SecurityGroupId == src {
		t.Errorf("clone = %s %s project %s", *g.SecurityGroupId, *g.SecurityGroupName, *g.ProjectId)
	}
	set := e.describe(e.vpcAs(e.admin, sh), *g.SecurityGroupId)
	if got := compact(set.Ingress); !slices.Equal(got, rules) {
		t.Errorf("clone ingress = %q, want %q", got, rules)
	}
	if got := compact(set.Egress); !slices.Equal(got, []string{"ACCEPT ALL ALL ::/0"}) {
		t.Errorf("clone egress = %q", got)
	}
	stats := vpc.NewDescribeSecurityGroupAssociationStatisticsRequest()
	stats.SecurityGroupIds = []*string{g.SecurityGroupId}
	sres, err := e.vpcAs(e.admin, sh).DescribeSecurityGroupAssociationStatistics(stats)
	if err != nil {
		t.Fatal(err)
	}
	if n := *sres.Response.SecurityGroupAssociationStatisticsSet[0].CVM; n != 0 {
		t.Errorf("clone has %d instances, want 0", n)
	}
	// The group lives in Shanghai only: Guangzhou does not find it.
	dreq := vpc.NewDescribeSecurityGroupPoliciesRequest()
	dreq.SecurityGroupId = g.SecurityGroupId
	_, err = e.vpc().DescribeSecurityGroupPolicies(dreq)
	wantCode(t, "the clone seen from the source region", err, "ResourceNotFound")
}

// FAQ 3: a service listening on a port is unreachable until a policy
// allows that port.
func TestFAQ3ServiceUnreachableUntilPortAllowed(t *testing.T) {
	e := newEnv(t, envOptions{})
	ins := e.register(gz, instance{name: "app", ip: "10.0.0.20"})[0]
	g := e.group("app", []string{"ACCEPT TCP 22 0.0.0.0/0"}, nil)
	e.bind(ins, g)
	wantVerdict(t, "8080 before the rule", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 8080), "DROP", "DEFAULT", "", 0)
	wantVerdict(t, "22 before the rule", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 22), "ACCEPT", "SECURITY_GROUP", g, 0)

	req := vpc.NewCreateSecurityGroupPoliciesRequest()
	req.SecurityGroupId = &g
	req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{Ingress: policies("ACCEPT TCP 8080 0.0.0.0/0 # app")}
	if _, err := e.vpc().CreateSecurityGroupPolicies(req); err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, "8080 after the rule", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 8080), "ACCEPT", "SECURITY_GROUP", g, 1)
	wantVerdict(t, "8080 over UDP after the TCP rule", e.simulate(ins, "INGRESS", "UDP", "198.51.100.7", 8080), "DROP", "DEFAULT", "", 0)
	wantVerdict(t, "8081 after the rule", e.simulate(ins, "INGRESS", "TCP", "198.51.100.7", 8081), "DROP", "DEFAULT", "", 0)
}

// FAQ 15: groups and templates are regional, so a group whose policies
// reference them cannot be cloned to another region; within its region the
// clone keeps the references.
func TestFAQ15CloneWithReferences(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.vpc()
	at := vpc.NewCreateAddressTemplateRequest()
	at.AddressTemplateName, at.Addresses = common.StringPtr("office"), common.StringPtrs([]string{"192.0.2.0/24"})
	ares, err := c.CreateAddressTemplate(at)
	if err != nil {
		t.Fatalf("CreateAddressTemplate: %v", err)
	}
	ipm := *ares.Response.AddressTemplate.AddressTemplateId
	st := vpc.NewCreateServiceTemplateRequest()
	st.ServiceTemplateName, st.Services = common.StringPtr("web-ports"), common.StringPtrs([]string{"tcp:80,443"})
	sres, err := c.CreateServiceTemplate(st)
	if err != nil {
		t.Fatalf("CreateServiceTemplate: %v", err)
	}
	ppm := *sres.Response.ServiceTemplate.ServiceTemplateId
	web := e.group("web", []string{"ACCEPT TCP 80 0.0.0.0/0"}, nil)

	tests := []struct {
		name     string
		ingress  []string
		egress   []string
		blockers []string // the policies the refusal names
		clean    []string // policies it must not name
	}{
		{"security group peer", []string{"ACCEPT TCP 22 10.0.0.0/8", "ACCEPT TCP 3306 " + web}, nil, []string{"Ingress.1", web}, []string{"Ingress.0"}},
		{"address template peer", []string{"ACCEPT TCP 22 " + ipm}, []string{"ACCEPT ALL ALL 0.0.0.0/0"}, []string{"Ingress.0", ipm}, []string{"Egress.0"}},
		{"service template", nil, []string{"ACCEPT ALL ALL 10.0.0.0/8", "ACCEPT " + ppm + " 0.0.0.0/0"}, []string{"Egress.1", ppm}, []string{"Egress.0"}},
		{"several", []string{"ACCEPT TCP 22 " + ipm, "DROP ALL ALL 0.0.0.0/0"}, []string{"ACCEPT TCP 5432 " + web}, []string{"Ingress.0", "Egress.0", ipm, web}, []string{"Ingress.1"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "src-" + itoa(i)
			src := e.group(name, tt.ingress, tt.egress)
			want := e.describe(c, src)

			clone := vpc.NewCloneSecurityGroupRequest()
			clone.SecurityGroupId, clone.RemoteRegion = &src, common.StringPtr(gz)
			_, err := e.vpcAs(e.admin, sh).CloneSecurityGroup(clone)
			wantCode(t, "cross-region clone", err, "UnsupportedOperation")
			msg := message(err)
			for _, s := range tt.blockers {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not name %s", msg, s)
				}
			}
			for _, s := range tt.clean {
				if strings.Contains(msg, s+" ") {
					t.Errorf("message %q names %s, which references nothing", msg, s)
				}
			}
			list := vpc.NewDescribeSecurityGroupsRequest()
			list.Filters = []*vpc.Filter{{Name: common.StringPtr("security-group-name"), Values: common.StringPtrs([]string{name})}}
			if res, err := e.vpcAs(e.admin, sh).DescribeSecurityGroups(list); err != nil || *res.Response.TotalCount != 0 {
				t.Errorf("a refused clone left a group in %s (%v)", sh, err)
			}

			clone = vpc.NewCloneSecurityGroupRequest()
			clone.SecurityGroupId, clone.GroupName = &src, common.StringPtr(name+"-copy")
			res, err := c.CloneSecurityGroup(clone)
			if err != nil {
				t.Fatalf("same-region clone: %v", err)
			}
			got := e.describe(c, *res.Response.SecurityGroup.SecurityGroupId)
			if !slices.Equal(compact(got.Ingress), compact(want.Ingress)) || !slices.Equal(compact(got.Egress), compact(want.Egress)) {
				t.Errorf("same-region clone = %q %q, want %q %q", compact(got.Ingress), compact(got.Egress), compact(want.Ingress), compact(want.Egress))
			}
		})
	}
	// The clone of a referencing group is itself a referrer.
	refs := vpc.NewDescribeSecurityGroupReferencesRequest()
	refs.SecurityGroupIds = common.StringPtrs([]string{web})
	rres, err := c.DescribeSecurityGroupReferences(refs)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rres.Response.ReferredSecurityGroupSet[0].ReferredSecurityGroupIds); n != 4 {
		t.Errorf("%s is referred to by %d groups, want 2 sources and their 2 clones", web, n)
	}
}
