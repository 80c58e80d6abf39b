package cli

import (
	"context"
	"fmt"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
)

// demoAccountName names the demo account; account names are unique, so a
// second seeding finds it taken.
const demoAccountName = "demo"

// demo describes what seedDemo created.
type demo struct {
	Account     service.AccountCredentials
	Host        service.HostCredentials
	InstanceIDs []string
	GroupIDs    []string
	TemplateIDs []string
}

// seedDemo creates, through the service like any client, a demo account with
// a host, instances across zones, groups (open-common, web, a db group
// referencing web), templates and bindings, in the first configured region.
// If the account name "demo" is taken, it changes nothing and fails with
// service.KindDuplicate naming that account.
func seedDemo(ctx context.Context, s *service.Service) (demo, error) {
	var d demo
	fail := func(err error) (demo, error) { return d, fmt.Errorf("seed demo: %w", err) }
	acct, err := s.CreateAccount(ctx, demoAccountName)
	if err != nil {
		return fail(err)
	}
	d.Account = acct
	if d.Host, err = s.CreateHost(ctx, "demo-host-1"); err != nil {
		return fail(err)
	}
	region := s.Regions()[0]
	c := service.Caller{AccountID: acct.AccountID, SecretID: acct.SecretID, Role: service.RoleAdmin, Region: region.Name, RequestID: "seed-demo"}

	office, err := s.CreateAddressTemplate(ctx, c, service.TemplateInput{Name: "office", Entries: []service.TemplateEntry{
		{Value: "203.0.113.0/24", Description: "office network"}, {Value: "198.51.100.10-198.51.100.20", Description: "VPN pool"}}})
	if err != nil {
		return fail(err)
	}
	webPorts, err := s.CreateServiceTemplate(ctx, c, service.TemplateInput{Name: "web-ports", Entries: []service.TemplateEntry{{Value: "tcp:80,443", Description: "HTTP and HTTPS"}}})
	if err != nil {
		return fail(err)
	}
	d.TemplateIDs = []string{office.ID, webPorts.ID}

	common, _, err := s.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "demo-open-common", Description: "console template: login, web and ping", Template: "open-common"})
	if err != nil {
		return fail(err)
	}
	web, _, err := s.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "demo-web", Description: "web servers", Template: "web"})
	if err != nil {
		return fail(err)
	}
	ssh := service.PolicyInput{Raw: policy.Raw{Protocol: "TCP", Port: "22", AddressId: office.ID, Action: "ACCEPT", PolicyDescription: "SSH from the office"}}
	if _, err := s.CreateSecurityGroupPolicies(ctx, c, service.PoliciesInput{SecurityGroupID: web.ID, Set: service.PolicySetInput{Ingress: []service.PolicyInput{ssh}}}); err != nil {
		return fail(err)
	}
	db, _, err := s.CreateSecurityGroup(ctx, c, service.CreateGroupInput{Name: "demo-db", Description: "databases: MySQL from the web group only",
		Policies: &service.PolicySetInput{
			Ingress: []service.PolicyInput{
				{Raw: policy.Raw{Protocol: "TCP", Port: "3306", SecurityGroupId: web.ID, Action: "ACCEPT", PolicyDescription: "MySQL from web servers"}},
				ssh,
				{Raw: policy.Raw{Protocol: "ALL", Port: "ALL", CidrBlock: "0.0.0.0/0", Action: "DROP", PolicyDescription: "nothing else"}},
			},
			Egress: []service.PolicyInput{{Raw: policy.Raw{Protocol: "ALL", Port: "ALL", CidrBlock: "10.0.0.0/8", Action: "ACCEPT", PolicyDescription: "private network only"}}},
		}})
	if err != nil {
		return fail(err)
	}
	d.GroupIDs = []string{common.ID, web.ID, db.ID}

	platform := service.Caller{Role: service.RolePlatform, Region: region.Name, SecretID: "seed-demo", RequestID: "seed-demo"}
	zone := func(i int) string { return region.Zones[i%len(region.Zones)] }
	specs := []service.InstanceSpec{
		{InstanceName: "web-1", OsType: "linux", Zone: zone(0), PrivateIpAddresses: []string{"10.0.1.11"}, PublicIpAddress: "192.0.2.11", HostID: d.Host.HostID, Interface: "tap-web1", SecurityGroupIDs: []string{web.ID, common.ID}},
		{InstanceName: "web-2", OsType: "linux", Zone: zone(1), PrivateIpAddresses: []string{"10.0.2.12"}, Ipv6Addresses: []string{"fd00:2::12"}, HostID: d.Host.HostID, Interface: "tap-web2", SecurityGroupIDs: []string{web.ID}},
		{InstanceName: "db-1", OsType: "linux", Zone: zone(2), PrivateIpAddresses: []string{"10.0.3.21"}, HostID: d.Host.HostID, Interface: "tap-db1", SecurityGroupIDs: []string{db.ID}},
		{InstanceName: "win-1", OsType: "windows", Zone: zone(0), PrivateIpAddresses: []string{"10.0.1.31"}, HostID: d.Host.HostID, Interface: "tap-win1", SecurityGroupIDs: []string{common.ID}},
	}
	if d.InstanceIDs, err = s.RegisterInstances(ctx, platform, service.RegisterInstancesInput{AccountID: acct.AccountID, Instances: specs}); err != nil {
		return fail(err)
	}
	return d, nil
}
