package api

import (
	"net/netip"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// cvm actions that bind groups to instances and describe instances. In cvm,
// Offset, Limit and Placement.ProjectId are integers.

func bindInput(req *wire.BindRequest) (service.BindInput, error) {
	groups, err := requireList("SecurityGroupIds", req.SecurityGroupIds)
	if err != nil {
		return service.BindInput{}, err
	}
	if len(groups) > 1 {
		return service.BindInput{}, newAPIError(codeValueLimitExceeded, "SecurityGroupIds has %d ids; one security group per call, as in the cloud", len(groups))
	}
	instances, err := requireList("InstanceIds", req.InstanceIds)
	if err != nil {
		return service.BindInput{}, err
	}
	if len(instances) > 100 {
		return service.BindInput{}, newAPIError(codeValueLimitExceeded, "InstanceIds has %d ids; the limit is 100", len(instances))
	}
	return service.BindInput{SecurityGroupIDs: groups, InstanceIDs: instances}, nil
}

func (h *handler) associateSecurityGroups(c *call, req *wire.AssociateSecurityGroupsRequest) (any, error) {
	in, err := bindInput((*wire.BindRequest)(req))
	if err != nil {
		return nil, err
	}
	return nil, h.svc.AssociateSecurityGroups(c.ctx, c.caller, in)
}

func (h *handler) disassociateSecurityGroups(c *call, req *wire.DisassociateSecurityGroupsRequest) (any, error) {
	in, err := bindInput((*wire.BindRequest)(req))
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DisassociateSecurityGroups(c.ctx, c.caller, in)
}

func (h *handler) modifyInstancesAttribute(c *call, req *wire.ModifyInstancesAttributeRequest) (any, error) {
	ids, err := requireList("InstanceIds", req.InstanceIds)
	if err != nil {
		return nil, err
	}
	if len(ids) > 100 {
		return nil, newAPIError(codeValueLimitExceeded, "InstanceIds has %d ids; the limit is 100", len(ids))
	}
	in := service.ModifyInstancesInput{InstanceIDs: ids, InstanceName: optional(req.InstanceName)}
	if req.SecurityGroups != nil {
		in.SecurityGroupIDs = strs(req.SecurityGroups)
	}
	return nil, h.svc.ModifyInstancesAttribute(c.ctx, c.caller, in)
}

func addrs(in []netip.Addr) []string {
	out := make([]string, len(in))
	for i, a := range in {
		out[i] = a.String()
	}
	return out
}

func instanceToWire(in service.Instance) wire.Instance {
	out := wire.Instance{
		Placement:            wire.Placement{Zone: in.Zone, ProjectId: in.ProjectID, HostId: in.HostID},
		InstanceId:           in.ID,
		InstanceName:         in.Name,
		PrivateIpAddresses:   addrs(in.PrivateIPAddresses),
		PublicIpAddresses:    []string{},
		IPv6Addresses:        addrs(in.IPv6Addresses),
		CreatedTime:          cvmTime(in.CreatedTime),
		OsName:               in.OSType,
		SecurityGroupIds:     nonNil(in.SecurityGroupIDs),
		InstanceState:        string(in.State),
		LatestOperationState: "SUCCESS",
		Tags:                 []wire.Tag{},
		OsType:               in.OSType,
		Region:               in.Region,
		Interface:            in.Interface,
	}
	if in.PublicIPAddress.IsValid() {
		out.PublicIpAddresses = []string{in.PublicIPAddress.String()}
	}
	return out
}

func (h *handler) describeInstances(c *call, req *wire.DescribeInstancesRequest) (any, error) {
	p, err := page(req.Offset, req.Limit)
	if err != nil {
		return nil, err
	}
	list, total, err := h.svc.DescribeInstances(c.ctx, c.caller, service.InstanceQuery{
		IDs:     strs(req.InstanceIds),
		Filters: filters(req.Filters),
		Page:    p,
	})
	if err != nil {
		return nil, err
	}
	return wire.DescribeInstancesResponse{InstanceSet: convertAll(list, instanceToWire), TotalCount: uint64(total)}, nil
}

func (h *handler) terminateInstances(c *call, req *wire.TerminateInstancesRequest) (any, error) {
	return byIDs(c, "InstanceIds", req.InstanceIds, h.svc.TerminateInstances)
}

// instanceIDs returns a required list of at most 100 instance ids, the
// cloud's limit per request.
func instanceIDs(v []wire.String) ([]string, error) {
	ids, err := requireList("InstanceIds", v)
	if err != nil {
		return nil, err
	}
	if len(ids) > 100 {
		return nil, newAPIError(codeValueLimitExceeded, "InstanceIds has %d ids; the limit is 100", len(ids))
	}
	return ids, nil
}

func (h *handler) stopInstances(c *call, req *wire.StopInstancesRequest) (any, error) {
	ids, err := instanceIDs(req.InstanceIds)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.StopInstances(c.ctx, c.caller, ids)
}

func (h *handler) startInstances(c *call, req *wire.StartInstancesRequest) (any, error) {
	ids, err := instanceIDs(req.InstanceIds)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.StartInstances(c.ctx, c.caller, ids)
}
