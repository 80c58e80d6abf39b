package sdktest

import (
	"fmt"
	"testing"

	"github.com/palisade-sg/palisade/internal/service"
)

// strs returns n distinct strings made by f.
func strs(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// filters returns n filters of one name, each with the given values.
func filters(n int, name string, values []string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"Name": name, "Values": values}
	}
	return out
}

// Every list in a request has a cap, answered with a LimitExceeded code
// rather than an internal error, and refused before anything changes.
func TestListCaps(t *testing.T) {
	e := newEnv(t, envOptions{quotas: service.Quotas{TemplatesPerRegion: 3}})
	sgIDs := strs(101, func(i int) string { return fmt.Sprintf("sg-%08d", i) })
	insIDs := strs(101, func(i int) string { return fmt.Sprintf("ins-%08d", i) })
	for _, tt := range []struct {
		name, service, action string
		params                map[string]any
		code                  string
	}{
		{"101 group ids", "vpc", "DescribeSecurityGroups", map[string]any{"SecurityGroupIds": sgIDs}, "InvalidParameterValue.LimitExceeded"},
		{"11 filters", "vpc", "DescribeSecurityGroups", map[string]any{"Filters": filters(11, "security-group-name", []string{"a"})}, "InvalidParameterValue.LimitExceeded"},
		{"5,000 tag-key filters", "vpc", "DescribeSecurityGroups", map[string]any{"Filters": filters(5000, "tag-key", []string{"k"})}, "InvalidParameterValue.LimitExceeded"},
		{"101 filter values", "vpc", "DescribeSecurityGroups", map[string]any{"Filters": filters(1, "security-group-name", strs(101, func(i int) string { return fmt.Sprint(i) }))}, "InvalidParameterValue.LimitExceeded"},
		{"40,000 filter values", "vpc", "DescribeSecurityGroups", map[string]any{"Filters": filters(1, "security-group-id", strs(40_000, func(i int) string { return fmt.Sprintf("sg-%08d", i) }))}, "InvalidParameterValue.LimitExceeded"},
		{"policy filters", "vpc", "DescribeSecurityGroupPolicies", map[string]any{"SecurityGroupId": "sg-00000000", "Filters": filters(11, "protocol", []string{"TCP"})}, "InvalidParameterValue.LimitExceeded"},
		{"101 instance ids", "cvm", "DescribeInstances", map[string]any{"InstanceIds": insIDs}, "InvalidParameterValue.LimitExceeded"},
		{"instance filters", "cvm", "DescribeInstances", map[string]any{"Filters": filters(11, "instance-name", []string{"a"})}, "InvalidParameterValue.LimitExceeded"},
		{"template filters", "vpc", "DescribeAddressTemplates", map[string]any{"Filters": filters(11, "address-template-name", []string{"a"})}, "InvalidParameterValue.LimitExceeded"},
		{"51 tags", "vpc", "CreateSecurityGroup", map[string]any{"GroupName": "tagged", "GroupDescription": "",
			"Tags": func() []map[string]string {
				out := make([]map[string]string, 51)
				for i := range out {
					out[i] = map[string]string{"Key": fmt.Sprint("k", i), "Value": "v"}
				}
				return out
			}()}, "LimitExceeded"},
		{"101 addresses in a template", "vpc", "CreateAddressTemplate", map[string]any{"AddressTemplateName": "big",
			"Addresses": strs(101, func(i int) string { return fmt.Sprintf("10.0.%d.%d", i/256, i%256) })}, "LimitExceeded"},
		{"101 services in a template", "vpc", "CreateServiceTemplate", map[string]any{"ServiceTemplateName": "big",
			"Services": strs(101, func(i int) string { return fmt.Sprintf("tcp:%d", 1000+i) })}, "LimitExceeded"},
		{"11 addresses of one instance", "palisade", "RegisterInstances", map[string]any{"AccountId": e.account, "Instances": []map[string]any{{
			"InstanceName": "many", "Zone": gz + "-4", "HostId": e.hostID,
			"PrivateIpAddresses": strs(11, func(i int) string { return fmt.Sprintf("10.1.0.%d", i+1) })}}}, "InvalidParameterValue.LimitExceeded"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := e.admin
			if tt.action == "RegisterInstances" {
				c = e.platform
			}
			err := e.call(c, gz, tt.service, tt.action, tt.params, nil)
			if code(err) != tt.code {
				t.Errorf("%s: %s (%s), want %s", tt.action, code(err), message(err), tt.code)
			}
		})
	}

	// The templates-per-region quota (3 here) counts each kind apart.
	for i := range 3 {
		if err := e.call(e.admin, gz, "vpc", "CreateAddressTemplate", map[string]any{"AddressTemplateName": fmt.Sprint("a", i), "Addresses": []string{"10.0.0.1"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	err := e.call(e.admin, gz, "vpc", "CreateAddressTemplate", map[string]any{"AddressTemplateName": "a3", "Addresses": []string{"10.0.0.1"}}, nil)
	wantCode(t, "a fourth address template", err, "LimitExceeded")
	if err := e.call(e.admin, gz, "vpc", "CreateServiceTemplate", map[string]any{"ServiceTemplateName": "s0", "Services": []string{"tcp:80"}}, nil); err != nil {
		t.Errorf("a first service template: %v", err)
	}
	var list struct{ TotalCount int }
	if err := e.call(e.admin, gz, "vpc", "DescribeAddressTemplates", nil, &list); err != nil || list.TotalCount != 3 {
		t.Errorf("address templates after the refused one: %d, %v; want 3", list.TotalCount, err)
	}
}
