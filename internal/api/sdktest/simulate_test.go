package sdktest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	cvm "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm/v20170312"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/reference"
)

// TestSimulateTrafficAgreesWithReference builds random groups (CIDR, IPv6,
// group-reference and template peers, service templates, every protocol),
// binds them in random order to instances, and checks that SimulateTraffic
// through the API decides several hundred random packets exactly as the
// reference evaluator does — verdict, layer, group and policy index. The
// reference's input is rebuilt from what the API describes, independently
// of the service's own resolution and simulation.
func TestSimulateTrafficAgreesWithReference(t *testing.T) {
	skipShort(t)
	const (
		groups  = 24
		packets = 1000
	)
	platform := []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fd00:ec2::/64")}
	e := newEnv(t, envOptions{platformAddresses: platform})
	rng := rand.New(rand.NewPCG(3, 2026))
	c := e.vpc()

	// Instances with IPv4 and some IPv6 addresses, all in the pool.
	var specs []instance
	for i := range 8 {
		in := instance{name: fmt.Sprintf("i%d", i), ip: fmt.Sprintf("10.0.%d.%d", i%3, 10+i)}
		if i%2 == 0 {
			in.ipv6 = fmt.Sprintf("2001:db8::%x", 0x10+i)
		}
		specs = append(specs, in)
	}
	ids := e.register(gz, specs...)

	// Templates.
	ipm := e.addressTemplate("nets", "10.0.0.0/24", "192.0.2.5-192.0.2.20", "2001:db8::/120")
	ipm2 := e.addressTemplate("hosts", "198.51.100.7", "10.0.2.0/25")
	ipmg := e.addressTemplateGroup("all-nets", ipm, ipm2)
	ppm := e.serviceTemplate("web", "tcp:80", "tcp:8000-8080", "udp:53")
	ppm2 := e.serviceTemplate("misc", "icmp", "tcp:22,443", "gre")
	ppmg := e.serviceTemplateGroup("svc-all", ppm, ppm2)

	cidrs := []string{"0.0.0.0/0", "10.0.0.0/8", "10.0.1.0/24", "10.0.2.12", "192.0.2.0/28", "198.51.100.0/24", "169.254.0.0/17"}
	cidr6s := []string{"::/0", "2001:db8::/64", "2001:db8::12", "fd00:ec2::/80"}
	ports := []string{"ALL", "22", "25", "53", "80,443", "8000-8080", "1-1024", "25,53,8080", "443"}
	protos := []string{"TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"}
	var gids []string
	for g := range groups {
		gids = append(gids, e.group(fmt.Sprintf("rand-%d", g), nil, nil))
	}
	for g, id := range gids {
		for _, dir := range []string{"Ingress", "Egress"} {
			n := rng.IntN(8)
			var list []*vpc.SecurityGroupPolicy
			seen := map[string]bool{}
			for len(list) < n {
				p := &vpc.SecurityGroupPolicy{Action: common.StringPtr([]string{"ACCEPT", "DROP"}[rng.IntN(2)])}
				proto := protos[rng.IntN(len(protos))]
				v6 := rng.IntN(3) == 0
				if proto == "ICMP" {
					v6 = false
				}
				if proto == "ICMPv6" {
					v6 = true
				}
				switch k := rng.IntN(10); {
				case k < 5 && !v6:
					p.CidrBlock = common.StringPtr(cidrs[rng.IntN(len(cidrs))])
				case k < 5:
					p.Ipv6CidrBlock = common.StringPtr(cidr6s[rng.IntN(len(cidr6s))])
				case k < 8 && g > 0:
					p.SecurityGroupId = common.StringPtr(gids[rng.IntN(g)]) // earlier groups: at most 10 references
				default:
					ref := []string{ipm, ipm2, ipmg}[rng.IntN(3)]
					if strings.HasPrefix(ref, "ipmg-") {
						p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressGroupId: common.StringPtr(ref)}
					} else {
						p.AddressTemplate = &vpc.AddressTemplateSpecification{AddressId: common.StringPtr(ref)}
					}
				}
				if rng.IntN(6) == 0 {
					svc := []string{ppm, ppm2, ppmg}[rng.IntN(3)]
					if strings.HasPrefix(svc, "ppmg-") {
						p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceGroupId: common.StringPtr(svc)}
					} else {
						p.ServiceTemplate = &vpc.ServiceTemplateSpecification{ServiceId: common.StringPtr(svc)}
					}
				} else {
					p.Protocol, p.Port = common.StringPtr(proto), common.StringPtr("ALL")
					if proto == "TCP" || proto == "UDP" {
						p.Port = common.StringPtr(ports[rng.IntN(len(ports))])
					}
					if (proto == "ICMP" || proto == "ICMPv6") && p.CidrBlock == nil && p.Ipv6CidrBlock == nil {
						p.Protocol = common.StringPtr("TCP") // keep ICMP with a CIDR of its family
					}
				}
				key := strings.Join(compact([]*vpc.SecurityGroupPolicy{fill(p)}), "")
				if seen[key] {
					continue
				}
				seen[key] = true
				list = append(list, p)
			}
			if len(list) == 0 {
				continue
			}
			req := vpc.NewCreateSecurityGroupPoliciesRequest()
			req.SecurityGroupId = &gids[g]
			req.SecurityGroupPolicySet = &vpc.SecurityGroupPolicySet{}
			if dir == "Ingress" {
				req.SecurityGroupPolicySet.Ingress = list
			} else {
				req.SecurityGroupPolicySet.Egress = list
			}
			if _, err := c.CreateSecurityGroupPolicies(req); err != nil {
				t.Fatalf("CreateSecurityGroupPolicies %s %s: %v", id, dir, err)
			}
		}
	}
	for _, ins := range ids {
		n := rng.IntN(6)
		perm := rng.Perm(len(gids))[:n]
		var bound []string
		for _, i := range perm {
			bound = append(bound, gids[i])
		}
		if len(bound) > 0 { // the SDK cannot send an empty list
			e.bind(ins, bound...)
		}
	}

	peers := []string{"10.0.0.5", "10.0.1.77", "10.0.2.12", "10.0.2.200", "192.0.2.9", "192.0.2.30", "198.51.100.7", "203.0.113.1",
		"169.254.0.23", "169.254.200.1", "2001:db8::12", "2001:db8::80", "2001:db8:1::1", "fd00:ec2::1", "fd00:ec2:0:1::1", "2001:db8::ff"}
	for _, s := range specs {
		peers = append(peers, s.ip)
		if s.ipv6 != "" {
			peers = append(peers, s.ipv6)
		}
	}
	pktPorts := []int{22, 25, 53, 80, 443, 1024, 1025, 8000, 8080, 8081, 65535}
	pktProtos := map[string]uint8{"TCP": 6, "UDP": 17, "ICMP": 1, "ICMPv6": 58, "GRE": 47}
	protoNames := []string{"TCP", "UDP", "ICMP", "ICMPv6", "GRE"}

	// The first half of the packets runs with the account's outbound TCP 25
	// block on, the second half after UnblockPort25.
	blocked := e.describeAccount().Port25Blocked
	if !blocked {
		t.Fatal("a new account must start with outbound TCP 25 blocked")
	}
	mismatches := 0
	seen := map[string]int{}
	inputs := map[string]reference.Input{}
	for i := range packets {
		if i == packets/2 {
			nextSecond() // {} was signed for DescribeAccount
			if err := e.call(e.admin, gz, "palisade", "UnblockPort25", nil, nil); err != nil {
				t.Fatal(err)
			}
			nextSecond() // and {} for UnblockPort25
			if blocked = e.describeAccount().Port25Blocked; blocked {
				t.Fatal("UnblockPort25 left the block on")
			}
		}
		ins := ids[rng.IntN(len(ids))]
		dir := []string{"INGRESS", "EGRESS"}[rng.IntN(2)]
		proto := protoNames[rng.IntN(len(protoNames))]
		peer := peers[rng.IntN(len(peers))]
		port := pktPorts[rng.IntN(len(pktPorts))]
		// ICMP is IPv4's and ICMPv6 IPv6's: SimulateTraffic refuses the
		// mismatch, so a packet takes its family's.
		if is6 := strings.Contains(peer, ":"); proto == "ICMP" && is6 {
			proto = "ICMPv6"
		} else if proto == "ICMPv6" && !is6 {
			proto = "ICMP"
		}
		got := e.simulate(ins, dir, proto, peer, port)

		key := fmt.Sprint(ins, dir, blocked)
		in, ok := inputs[key]
		if !ok {
			in = e.referenceInput(ins, dir, platform, blocked)
			inputs[key] = in
		}
		seen[got.Layer+" "+got.Verdict]++
		want, err := reference.Decide(in, netip.MustParseAddr(peer), pktProtos[proto], uint16(port))
		if err != nil {
			t.Fatalf("reference: %v", err)
		}
		wantIdx := -1
		if got.PolicyIndex != nil {
			wantIdx = *got.PolicyIndex
		}
		if got.Verdict != want.Verdict.String() || got.Layer != want.Layer || got.SecurityGroupId != want.GroupID || wantIdx != want.PolicyIndex {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("packet %d: %s %s %s %s:%d: API %s %s %q %d, reference %v\n trace %q", i, ins, dir, proto, peer, port,
					got.Verdict, got.Layer, got.SecurityGroupId, wantIdx, want, got.Trace)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d packets disagree", mismatches, packets)
	}
	for _, want := range []string{"PLATFORM ACCEPT", "PLATFORM DROP", "SECURITY_GROUP ACCEPT", "SECURITY_GROUP DROP", "DEFAULT DROP"} {
		if seen[want] == 0 {
			t.Errorf("no packet decided %s: the random sets are too narrow (%v)", want, seen)
		}
	}
	t.Logf("decisions: %v", seen)
}

// fill sets every string field of a policy so that compact can print it.
func fill(p *vpc.SecurityGroupPolicy) *vpc.SecurityGroupPolicy {
	q := *p
	for _, f := range []**string{&q.Protocol, &q.Port, &q.CidrBlock, &q.Ipv6CidrBlock, &q.SecurityGroupId, &q.Action, &q.PolicyDescription} {
		if *f == nil {
			*f = common.StringPtr("")
		}
	}
	st := vpc.ServiceTemplateSpecification{ServiceId: common.StringPtr(""), ServiceGroupId: common.StringPtr("")}
	if q.ServiceTemplate != nil {
		if q.ServiceTemplate.ServiceId != nil {
			st.ServiceId = q.ServiceTemplate.ServiceId
		}
		if q.ServiceTemplate.ServiceGroupId != nil {
			st.ServiceGroupId = q.ServiceTemplate.ServiceGroupId
		}
	}
	at := vpc.AddressTemplateSpecification{AddressId: common.StringPtr(""), AddressGroupId: common.StringPtr("")}
	if q.AddressTemplate != nil {
		if q.AddressTemplate.AddressId != nil {
			at.AddressId = q.AddressTemplate.AddressId
		}
		if q.AddressTemplate.AddressGroupId != nil {
			at.AddressGroupId = q.AddressTemplate.AddressGroupId
		}
	}
	q.ServiceTemplate, q.AddressTemplate = &st, &at
	return &q
}

type account struct {
	AccountId     string
	Port25Blocked bool
}

func (e *env) describeAccount() account {
	e.t.Helper()
	var a account
	if err := e.call(e.admin, gz, "palisade", "DescribeAccount", nil, &a); err != nil {
		e.t.Fatalf("DescribeAccount: %v", err)
	}
	return a
}

// referenceInput rebuilds, from what the API describes, the reference
// evaluator's input for one instance and direction: the stored data as
// strings, parsed by the reference itself.
func (e *env) referenceInput(instanceID, dir string, platform []netip.Prefix, port25Blocked bool) reference.Input {
	e.t.Helper()
	d, err := policy.ParseDirection(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	in := reference.Input{Direction: d, Port25Blocked: port25Blocked,
		Members: map[string][]reference.Member{}, Templates: map[string][]string{}}
	for _, p := range platform {
		in.PlatformAddresses = append(in.PlatformAddresses, p.String())
	}

	// Instances: their groups, states and addresses.
	res, err := e.cvm().DescribeInstances(withLimit100(cvm.NewDescribeInstancesRequest()))
	if err != nil {
		e.t.Fatal(err)
	}
	var bound []string
	for _, ins := range res.Response.InstanceSet {
		if *ins.InstanceId == instanceID {
			bound = common.StringValues(ins.SecurityGroupIds)
		}
		m := reference.Member{State: *ins.InstanceState,
			Addresses: append(common.StringValues(ins.PrivateIpAddresses), common.StringValues(ins.IPv6Addresses)...)}
		for _, g := range common.StringValues(ins.SecurityGroupIds) {
			in.Members[g] = append(in.Members[g], m)
		}
	}

	// Templates: their entries as described, template groups their members.
	// The four listings carry different parameters, so that their
	// signatures differ when sent within one second (a signature is
	// accepted for one action only).
	ats, err := e.vpc().DescribeAddressTemplates(vpc.NewDescribeAddressTemplatesRequest())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, t := range ats.Response.AddressTemplateSet {
		in.Templates[*t.AddressTemplateId] = common.StringValues(t.AddressSet)
	}
	atgReq := vpc.NewDescribeAddressTemplateGroupsRequest()
	atgReq.Limit = common.StringPtr("100")
	atgs, err := e.vpc().DescribeAddressTemplateGroups(atgReq)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, g := range atgs.Response.AddressTemplateGroupSet {
		in.Templates[*g.AddressTemplateGroupId] = common.StringValues(g.AddressTemplateIdSet)
	}
	stReq := vpc.NewDescribeServiceTemplatesRequest()
	stReq.Offset = common.StringPtr("0")
	sts, err := e.vpc().DescribeServiceTemplates(stReq)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, t := range sts.Response.ServiceTemplateSet {
		in.Templates[*t.ServiceTemplateId] = common.StringValues(t.ServiceSet)
	}
	stgReq := vpc.NewDescribeServiceTemplateGroupsRequest()
	stgReq.Offset, stgReq.Limit = common.StringPtr("0"), common.StringPtr("100")
	stgs, err := e.vpc().DescribeServiceTemplateGroups(stgReq)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, g := range stgs.Response.ServiceTemplateGroupSet {
		in.Templates[*g.ServiceTemplateGroupId] = common.StringValues(g.ServiceTemplateIdSet)
	}

	// The bound groups' policies, parsed from the wire.
	for _, gid := range bound {
		set := e.describe(e.vpc(), gid)
		list := set.Ingress
		if d == policy.Egress {
			list = set.Egress
		}
		g := reference.Group{ID: gid}
		for _, p := range list {
			pp, err := policy.ParseRaw(policy.Raw{
				Protocol: *p.Protocol, Port: *p.Port, CidrBlock: *p.CidrBlock, Ipv6CidrBlock: *p.Ipv6CidrBlock,
				SecurityGroupId: *p.SecurityGroupId, AddressId: *p.AddressTemplate.AddressId, AddressGroupId: *p.AddressTemplate.AddressGroupId,
				ServiceId: *p.ServiceTemplate.ServiceId, ServiceGroupId: *p.ServiceTemplate.ServiceGroupId,
				Action: *p.Action, PolicyDescription: *p.PolicyDescription,
			})
			if err != nil {
				e.t.Fatalf("described policy of %s does not parse: %v", gid, err)
			}
			g.Policies = append(g.Policies, pp)
		}
		in.Groups = append(in.Groups, g)
	}
	return in
}

func withLimit100(r *cvm.DescribeInstancesRequest) *cvm.DescribeInstancesRequest {
	r.Limit = common.Int64Ptr(100)
	return r
}

// Template helpers.

func (e *env) addressTemplate(name string, addrs ...string) string {
	e.t.Helper()
	req := vpc.NewCreateAddressTemplateRequest()
	req.AddressTemplateName, req.Addresses = &name, common.StringPtrs(addrs)
	res, err := e.vpc().CreateAddressTemplate(req)
	if err != nil {
		e.t.Fatalf("CreateAddressTemplate: %v", err)
	}
	return *res.Response.AddressTemplate.AddressTemplateId
}

func (e *env) addressTemplateGroup(name string, ids ...string) string {
	e.t.Helper()
	req := vpc.NewCreateAddressTemplateGroupRequest()
	req.AddressTemplateGroupName, req.AddressTemplateIds = &name, common.StringPtrs(ids)
	res, err := e.vpc().CreateAddressTemplateGroup(req)
	if err != nil {
		e.t.Fatalf("CreateAddressTemplateGroup: %v", err)
	}
	return *res.Response.AddressTemplateGroup.AddressTemplateGroupId
}

func (e *env) serviceTemplate(name string, services ...string) string {
	e.t.Helper()
	req := vpc.NewCreateServiceTemplateRequest()
	req.ServiceTemplateName, req.Services = &name, common.StringPtrs(services)
	res, err := e.vpc().CreateServiceTemplate(req)
	if err != nil {
		e.t.Fatalf("CreateServiceTemplate: %v", err)
	}
	return *res.Response.ServiceTemplate.ServiceTemplateId
}

func (e *env) serviceTemplateGroup(name string, ids ...string) string {
	e.t.Helper()
	req := vpc.NewCreateServiceTemplateGroupRequest()
	req.ServiceTemplateGroupName, req.ServiceTemplateIds = &name, common.StringPtrs(ids)
	res, err := e.vpc().CreateServiceTemplateGroup(req)
	if err != nil {
		e.t.Fatalf("CreateServiceTemplateGroup: %v", err)
	}
	return *res.Response.ServiceTemplateGroup.ServiceTemplateGroupId
}
