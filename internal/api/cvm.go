package api

import (
	"net/netip"

	"github.com/palisade-sg/palisade/internal/service"
)

// cvm actions that bind groups to instances and describe instances. In cvm,
// Offset, Limit and Placement.ProjectId are integers.

type bindRequest struct {
	SecurityGroupIds []flexString `json:"SecurityGroupIds"`
	InstanceIds      []flexString `json:"InstanceIds"`
}

func (req *bindRequest) input() (service.BindInput, error) {
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

func (h *handler) associateSecurityGroups(c *call, req *bindRequest) (any, error) {
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	return nil, h.svc.AssociateSecurityGroups(c.ctx, c.caller, in)
}

func (h *handler) disassociateSecurityGroups(c *call, req *bindRequest) (any, error) {
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DisassociateSecurityGroups(c.ctx, c.caller, in)
}

type modifyInstancesAttributeRequest struct {
	InstanceIds    []flexString `json:"InstanceIds"`
	InstanceName   *flexString  `json:"InstanceName"`
	SecurityGroups []flexString `json:"SecurityGroups"`
}

func (h *handler) modifyInstancesAttribute(c *call, req *modifyInstancesAttributeRequest) (any, error) {
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

type describeInstancesRequest struct {
	InstanceIds []flexString `json:"InstanceIds"`
	Filters     []filterIn   `json:"Filters"`
	Offset      *flexInt     `json:"Offset"`
	Limit       *flexInt     `json:"Limit"`
}

type placementOut struct {
	Zone      string `json:"Zone"`
	ProjectId int64  `json:"ProjectId"`
	HostId    string `json:"HostId"`
}

// instanceOut is the cvm Instance object, with the fields Palisade knows.
// OsType, Region and Interface are Palisade extensions.
type instanceOut struct {
	Placement            placementOut `json:"Placement"`
	InstanceId           string       `json:"InstanceId"`
	InstanceName         string       `json:"InstanceName"`
	PrivateIpAddresses   []string     `json:"PrivateIpAddresses"`
	PublicIpAddresses    []string     `json:"PublicIpAddresses"`
	IPv6Addresses        []string     `json:"IPv6Addresses"`
	CreatedTime          string       `json:"CreatedTime"`
	OsName               string       `json:"OsName"`
	SecurityGroupIds     []string     `json:"SecurityGroupIds"`
	InstanceState        string       `json:"InstanceState"`
	LatestOperationState string       `json:"LatestOperationState"`
	Tags                 []tagOut     `json:"Tags"`
	OsType               string       `json:"OsType"`
	Region               string       `json:"Region"`
	Interface            string       `json:"Interface"`
}

func addrs(in []netip.Addr) []string {
	out := make([]string, len(in))
	for i, a := range in {
		out[i] = a.String()
	}
	return out
}

func instanceToWire(in service.Instance) instanceOut {
	out := instanceOut{
		Placement:            placementOut{Zone: in.Zone, ProjectId: in.ProjectID, HostId: in.HostID},
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
		Tags:                 []tagOut{},
		OsType:               in.OSType,
		Region:               in.Region,
		Interface:            in.Interface,
	}
	if in.PublicIPAddress.IsValid() {
		out.PublicIpAddresses = []string{in.PublicIPAddress.String()}
	}
	return out
}

func (h *handler) describeInstances(c *call, req *describeInstancesRequest) (any, error) {
	p, err := page(req.Offset, req.Limit)
	if err != nil {
		return nil, err
	}
	list, total, err := h.svc.DescribeInstances(c.ctx, c.caller, service.InstanceQuery{
		IDs:     strs(req.InstanceIds),
		Filters: filters(req.Filters),
		Page:    p,
	})
	return wirePage("InstanceSet", list, total, err, instanceToWire)
}

type instanceIDsRequest struct {
	InstanceIds []flexString `json:"InstanceIds"`
}

func (h *handler) terminateInstances(c *call, req *instanceIDsRequest) (any, error) {
	return byIDs(c, "InstanceIds", req.InstanceIds, h.svc.TerminateInstances)
}

// stopInstancesRequest is cvm StopInstances. StopType, StoppedMode and
// ForceStop are accepted and ignored: a Palisade instance has no guest to
// shut down and no billing to keep.
type stopInstancesRequest struct {
	InstanceIds []flexString `json:"InstanceIds"`
	ForceStop   *flexBool    `json:"ForceStop"`
	StopType    *flexString  `json:"StopType"`
	StoppedMode *flexString  `json:"StoppedMode"`
}

// instanceIDs returns a required list of at most 100 instance ids, the
// cloud's limit per request.
func instanceIDs(v []flexString) ([]string, error) {
	ids, err := requireList("InstanceIds", v)
	if err != nil {
		return nil, err
	}
	if len(ids) > 100 {
		return nil, newAPIError(codeValueLimitExceeded, "InstanceIds has %d ids; the limit is 100", len(ids))
	}
	return ids, nil
}

func (h *handler) stopInstances(c *call, req *stopInstancesRequest) (any, error) {
	ids, err := instanceIDs(req.InstanceIds)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.StopInstances(c.ctx, c.caller, ids)
}

func (h *handler) startInstances(c *call, req *instanceIDsRequest) (any, error) {
	ids, err := instanceIDs(req.InstanceIds)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.StartInstances(c.ctx, c.caller, ids)
}
