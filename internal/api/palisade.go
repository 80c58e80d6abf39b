package api

import (
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// Palisade's own actions, dispatched on the action name whatever the service
// and version of the request.

func (h *handler) registerInstances(c *call, req *wire.RegisterInstancesRequest) (any, error) {
	account, err := requireString("AccountId", req.AccountId)
	if err != nil {
		return nil, err
	}
	if len(req.Instances) == 0 {
		return nil, missing("Instances")
	}
	in := service.RegisterInstancesInput{AccountID: account, Instances: make([]service.InstanceSpec, len(req.Instances))}
	for i, s := range req.Instances {
		project, err := projectID("Instances."+strconv.Itoa(i)+".ProjectId", s.ProjectId)
		if err != nil {
			return nil, err
		}
		in.Instances[i] = service.InstanceSpec{
			InstanceName:       str(s.InstanceName),
			OsType:             str(s.OsType),
			Zone:               str(s.Zone),
			ProjectID:          project,
			PrivateIpAddresses: strs(s.PrivateIpAddresses),
			Ipv6Addresses:      strs(s.Ipv6Addresses),
			PublicIpAddress:    str(s.PublicIpAddress),
			HostID:             str(s.HostId),
			Interface:          str(s.Interface),
		}
	}
	ids, err := h.svc.RegisterInstances(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return wire.RegisterInstancesResponse{InstanceIdSet: nonNil(ids)}, nil
}

func (h *handler) purgeInstances(c *call, req *wire.PurgeInstancesRequest) (any, error) {
	return byIDs(c, "InstanceIds", req.InstanceIds, h.svc.PurgeInstances)
}

func (h *handler) unblockPort25(c *call, _ *wire.UnblockPort25Request) (any, error) {
	return nil, h.svc.UnblockPort25(c.ctx, c.caller)
}

func (h *handler) describeAccount(c *call, _ *wire.DescribeAccountRequest) (any, error) {
	a, err := h.svc.DescribeAccount(c.ctx, c.caller)
	if err != nil {
		return nil, err
	}
	return wire.DescribeAccountResponse{
		AccountId:      a.ID,
		AccountName:    a.Name,
		Port25Blocked:  a.Port25Blocked,
		Port25LiftedBy: a.Port25LiftedBy,
		Port25LiftedAt: vpcTime(a.Port25LiftedAt),
		CreatedTime:    vpcTime(a.CreatedTime),
	}, nil
}

func (h *handler) simulateTraffic(c *call, req *wire.SimulateTrafficRequest) (any, error) {
	id, err := requireString("InstanceId", req.InstanceId)
	if err != nil {
		return nil, err
	}
	dir, err := requireString("Direction", req.Direction)
	if err != nil {
		return nil, err
	}
	proto, err := requireString("Protocol", req.Protocol)
	if err != nil {
		return nil, err
	}
	addr, err := requireString("Address", req.Address)
	if err != nil {
		return nil, err
	}
	in := service.SimulateInput{InstanceID: id, Direction: strings.TrimSpace(dir), Protocol: strings.TrimSpace(proto), Address: strings.TrimSpace(addr), Port: service.NoPort}
	if in.Port, err = optionalPort(req.Port); err != nil {
		return nil, err
	}
	d, err := h.svc.SimulateTraffic(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return wire.SimulateTrafficResponse{
		Verdict:         d.Verdict.String(),
		Layer:           string(d.Layer),
		SecurityGroupId: d.SecurityGroupID,
		PolicyIndex:     d.PolicyIndex,
		Trace:           nonNil(d.Trace),
		Warnings:        nonNil(d.Warnings),
	}, nil
}

// describeSecurityGroupTemplates lists the ready-made policy sets that
// CreateSecurityGroup's Template field names.
func (h *handler) describeSecurityGroupTemplates(_ *call, _ *wire.DescribeSecurityGroupTemplatesRequest) (any, error) {
	ts := catalog.GroupTemplates()
	out := make([]wire.SecurityGroupTemplate, len(ts))
	indexed := func(ps []policy.Policy) []service.IndexedPolicy {
		out := make([]service.IndexedPolicy, len(ps))
		for i, p := range ps {
			out[i] = service.IndexedPolicy{Index: i, Policy: p}
		}
		return out
	}
	for i, t := range ts {
		set := policySetToWire(service.GroupPolicies{Ingress: indexed(t.Ingress), Egress: indexed(t.Egress)})
		out[i] = wire.SecurityGroupTemplate{TemplateName: t.Name, Title: t.Title, Description: t.Description, SecurityGroupPolicySet: set}
	}
	return wire.DescribeSecurityGroupTemplatesResponse{TemplateSet: out, TotalCount: uint64(len(out))}, nil
}

// describeCommonPorts answers the reference list of common server ports,
// the port the platform blocks and the ports ISPs commonly block.
func (h *handler) describeCommonPorts(_ *call, _ *wire.DescribeCommonPortsRequest) (any, error) {
	ports := catalog.CommonPorts()
	out := make([]wire.CommonPort, len(ports))
	for i, p := range ports {
		out[i] = wire.CommonPort{Protocol: p.Protocol.String(), Port: p.Ports.String(), Service: p.Service, Description: p.Description, LoginFor: p.LoginFor}
	}
	p25 := rules.Port25()
	blocked := []wire.BlockedPorts{{Protocol: p25.Protocol.String(), Port: p25.Ports.String(), Direction: policy.Egress.String(), BlockedBy: rules.LayerPlatform.String()}}
	isp := catalog.ISPBlockedPorts()
	for _, proto := range []policy.Protocol{policy.TCP, policy.UDP} {
		list := make([]string, len(isp[proto]))
		for i, port := range isp[proto] {
			list[i] = strconv.Itoa(int(port))
		}
		blocked = append(blocked, wire.BlockedPorts{Protocol: proto.String(), Port: strings.Join(list, ","), Direction: "ALL", BlockedBy: "ISP"})
	}
	return wire.DescribeCommonPortsResponse{BlockedPortSet: blocked, PortSet: out}, nil
}

// optionalPort reads a packet's Port: service.NoPort when absent, else an
// integer 0-65535.
func optionalPort(v *wire.Int) (int, error) {
	if v == nil || v.Text() == "" {
		return service.NoPort, nil
	}
	p, err := integer("Port", v)
	if err != nil {
		return 0, err
	}
	if p < 0 || p > 65535 {
		return 0, outOfRange("Port", v.Text(), "must be between 0 and 65535")
	}
	return int(p), nil
}

// requireVersion reads a group's policy set Version named by field.
func requireVersion(field string, v *wire.String) (uint64, error) {
	s, err := requireString(field, v)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, malformed(field, s, "must be a version of the group: a decimal integer")
	}
	return n, nil
}
