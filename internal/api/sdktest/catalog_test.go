package sdktest

import (
	"slices"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// FAQ 1, 2 and 5 as data: the login port of each OS, the common server
// ports, the one port the platform blocks and the ports ISPs block.
func TestFAQ1And2And5CommonPorts(t *testing.T) {
	e := newEnv(t, envOptions{})
	var out struct {
		PortSet []struct {
			Protocol, Port, Service, Description, LoginFor string
		}
		BlockedPortSet []struct {
			Protocol, Port, Direction, BlockedBy string
		}
	}
	if err := e.call(e.reader, gz, "vpc", "DescribeCommonPorts", nil, &out); err != nil {
		t.Fatal(err)
	}
	login := map[string]string{}
	services := map[string]string{}
	for _, p := range out.PortSet {
		services[p.Protocol+" "+p.Port] = p.Service
		if p.LoginFor != "" {
			login[p.LoginFor] = p.Protocol + " " + p.Port
		}
	}
	if login["linux"] != "TCP 22" || login["windows"] != "TCP 3389" || len(login) != 2 {
		t.Errorf("login ports = %v, want linux TCP 22 and windows TCP 3389", login)
	}
	for port, svc := range map[string]string{"TCP 80": "HTTP", "TCP 443": "HTTPS", "TCP 20-21": "FTP", "TCP 3306": "MySQL", "TCP 1433": "SQL Server"} {
		if services[port] != svc {
			t.Errorf("common port %s = %q, want %q", port, services[port], svc)
		}
	}
	blocked := map[string]string{}
	for _, b := range out.BlockedPortSet {
		blocked[b.BlockedBy+" "+b.Protocol+" "+b.Direction] = b.Port
	}
	want := map[string]string{
		"PLATFORM TCP EGRESS": "25",
		"ISP TCP ALL":         "42,135,137,138,139,445,593,1025,1434,1068,3127,3128,3129,3130,4444,5554,9996",
		"ISP UDP ALL":         "1026,1027,1434,1068,5554,9996,1028,1433,135,136,137,138,139",
	}
	if len(blocked) != len(want) {
		t.Errorf("blocked ports = %v, want %v", blocked, want)
	}
	for k, v := range want {
		if blocked[k] != v {
			t.Errorf("blocked %s = %q, want %q", k, blocked[k], v)
		}
	}
}

// The template catalogue lists exactly the policies CreateSecurityGroup
// builds from each template.
func TestSecurityGroupTemplatesMatchCreatedGroups(t *testing.T) {
	e := newEnv(t, envOptions{})
	var out struct {
		TemplateSet []struct {
			TemplateName           string
			SecurityGroupPolicySet vpc.SecurityGroupPolicySet
		}
		TotalCount int
	}
	if err := e.call(e.admin, gz, "vpc", "DescribeSecurityGroupTemplates", nil, &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tpl := range out.TemplateSet {
		names = append(names, tpl.TemplateName)
	}
	for _, want := range []string{"open-all", "open-common", "linux-login", "windows-login", "web"} {
		if !slices.Contains(names, want) {
			t.Errorf("templates %v lack %s", names, want)
		}
	}
	if out.TotalCount != len(out.TemplateSet) {
		t.Errorf("TotalCount = %d for %d templates", out.TotalCount, len(out.TemplateSet))
	}
	for _, tpl := range out.TemplateSet {
		var created struct{ SecurityGroup vpc.SecurityGroup }
		params := map[string]any{"GroupName": "from-" + tpl.TemplateName, "GroupDescription": "", "Template": tpl.TemplateName}
		if err := e.call(e.admin, gz, "vpc", "CreateSecurityGroup", params, &created); err != nil {
			t.Fatalf("create from %s: %v", tpl.TemplateName, err)
		}
		got := e.describe(e.vpc(), *created.SecurityGroup.SecurityGroupId)
		listed := tpl.SecurityGroupPolicySet
		if !slices.Equal(compact(got.Ingress), compact(listed.Ingress)) || !slices.Equal(compact(got.Egress), compact(listed.Egress)) {
			t.Errorf("template %s: created %q / %q, listed %q / %q", tpl.TemplateName,
				compact(got.Ingress), compact(got.Egress), compact(listed.Ingress), compact(listed.Egress))
		}
	}
	// The open-common template is the console's, point by point.
	for _, tpl := range out.TemplateSet {
		if tpl.TemplateName != "open-common" {
			continue
		}
		want := []string{
			"ACCEPT TCP 3389 0.0.0.0/0", "ACCEPT TCP 3389 ::/0", "ACCEPT TCP 22 0.0.0.0/0", "ACCEPT TCP 22 ::/0",
			"ACCEPT TCP 80,443 0.0.0.0/0", "ACCEPT TCP 80,443 ::/0", "ACCEPT ICMP ALL 0.0.0.0/0", "ACCEPT ICMPv6 ALL ::/0",
			"ACCEPT ALL ALL 10.0.0.0/8", "ACCEPT ALL ALL 172.16.0.0/12", "ACCEPT ALL ALL 192.168.0.0/16",
		}
		var got []string
		for _, p := range tpl.SecurityGroupPolicySet.Ingress {
			p.PolicyDescription = common.StringPtr("")
			got = append(got, compact([]*vpc.SecurityGroupPolicy{p})[0])
		}
		if !slices.Equal(got, want) || len(tpl.SecurityGroupPolicySet.Egress) != 2 {
			t.Errorf("open-common ingress = %q (egress %d), want %q and 2 egress", got, len(tpl.SecurityGroupPolicySet.Egress), want)
		}
	}
}
