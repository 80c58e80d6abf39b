package api

import (
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service"
)

// Palisade's own actions, dispatched on the action name whatever the service
// and version of the request.

type instanceSpecIn struct {
	InstanceName       *flexString  `json:"InstanceName"`
	OsType             *flexString  `json:"OsType"`
	Zone               *flexString  `json:"Zone"`
	ProjectId          *flexInt     `json:"ProjectId"`
	PrivateIpAddresses []flexString `json:"PrivateIpAddresses"`
	Ipv6Addresses      []flexString `json:"Ipv6Addresses"`
	PublicIpAddress    *flexString  `json:"PublicIpAddress"`
	HostId             *flexString  `json:"HostId"`
	Interface          *flexString  `json:"Interface"`
}

type registerInstancesRequest struct {
	AccountId *flexString      `json:"AccountId"`
	Instances []instanceSpecIn `json:"Instances"`
}

func (h *handler) registerInstances(c *call, req *registerInstancesRequest) (any, error) {
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
	return map[string]any{"InstanceIdSet": nonNil(ids)}, nil
}

func (h *handler) purgeInstances(c *call, req *instanceIDsRequest) (any, error) {
	return byIDs(c, "InstanceIds", req.InstanceIds, h.svc.PurgeInstances)
}

func (h *handler) unblockPort25(c *call, _ *emptyRequest) (any, error) {
	return nil, h.svc.UnblockPort25(c.ctx, c.caller)
}

type describeAccountResponse struct {
	AccountId      string `json:"AccountId"`
	AccountName    string `json:"AccountName"`
	Port25Blocked  bool   `json:"Port25Blocked"`
	Port25LiftedBy string `json:"Port25LiftedBy"`
	Port25LiftedAt string `json:"Port25LiftedAt"`
	CreatedTime    string `json:"CreatedTime"`
}

func (h *handler) describeAccount(c *call, _ *emptyRequest) (any, error) {
	a, err := h.svc.DescribeAccount(c.ctx, c.caller)
	if err != nil {
		return nil, err
	}
	return describeAccountResponse{
		AccountId:      a.ID,
		AccountName:    a.Name,
		Port25Blocked:  a.Port25Blocked,
		Port25LiftedBy: a.Port25LiftedBy,
		Port25LiftedAt: vpcTime(a.Port25LiftedAt),
		CreatedTime:    vpcTime(a.CreatedTime),
	}, nil
}

type simulateTrafficRequest struct {
	InstanceId *flexString `json:"InstanceId"`
	Direction  *flexString `json:"Direction"`
	Protocol   *flexString `json:"Protocol"`
	Address    *flexString `json:"Address"`
	Port       *flexInt    `json:"Port"`
}

// simulateTrafficResponse: PolicyIndex is absent unless a security group
// decided.
type simulateTrafficResponse struct {
	Verdict         string   `json:"Verdict"`
	Layer           string   `json:"Layer"`
	SecurityGroupId string   `json:"SecurityGroupId"`
	PolicyIndex     *int     `json:"PolicyIndex,omitempty"`
	Trace           []string `json:"Trace"`
	Warnings        []string `json:"Warnings"`
}

func (h *handler) simulateTraffic(c *call, req *simulateTrafficRequest) (any, error) {
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
	in := service.SimulateInput{InstanceID: id, Direction: strings.TrimSpace(dir), Protocol: strings.TrimSpace(proto), Address: strings.TrimSpace(addr)}
	if req.Port != nil && req.Port.text != "" {
		p, err := req.Port.int64("Port")
		if err != nil {
			return nil, err
		}
		if p < 0 || p > 65535 {
			return nil, outOfRange("Port", req.Port.text, "must be between 0 and 65535")
		}
		in.Port = int(p)
	}
	d, err := h.svc.SimulateTraffic(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return simulateTrafficResponse{
		Verdict:         d.Verdict.String(),
		Layer:           string(d.Layer),
		SecurityGroupId: d.SecurityGroupID,
		PolicyIndex:     d.PolicyIndex,
		Trace:           nonNil(d.Trace),
		Warnings:        nonNil(d.Warnings),
	}, nil
}

type securityGroupTemplateOut struct {
	TemplateName           string       `json:"TemplateName"`
	Title                  string       `json:"Title"`
	Description            string       `json:"Description"`
	SecurityGroupPolicySet policySetOut `json:"SecurityGroupPolicySet"`
}

// describeSecurityGroupTemplates lists the ready-made policy sets that
// CreateSecurityGroup's Template field names.
func (h *handler) describeSecurityGroupTemplates(_ *call, _ *emptyRequest) (any, error) {
	ts := catalog.GroupTemplates()
	out := make([]securityGroupTemplateOut, len(ts))
	indexed := func(ps []policy.Policy) []service.IndexedPolicy {
		out := make([]service.IndexedPolicy, len(ps))
		for i, p := range ps {
			out[i] = service.IndexedPolicy{Index: i, Policy: p}
		}
		return out
	}
	for i, t := range ts {
		set := policySetToWire(service.GroupPolicies{Ingress: indexed(t.Ingress), Egress: indexed(t.Egress)})
		out[i] = securityGroupTemplateOut{TemplateName: t.Name, Title: t.Title, Description: t.Description, SecurityGroupPolicySet: set}
	}
	return map[string]any{"TemplateSet": out, "TotalCount": len(out)}, nil
}

type commonPortOut struct {
	Protocol    string `json:"Protocol"`
	Port        string `json:"Port"`
	Service     string `json:"Service"`
	Description string `json:"Description"`
	LoginFor    string `json:"LoginFor"`
}

type blockedPortsOut struct {
	Protocol  string `json:"Protocol"`
	Port      string `json:"Port"`
	Direction string `json:"Direction"`
	BlockedBy string `json:"BlockedBy"`
}

// describeCommonPorts answers the reference list of common server ports,
// the port the platform blocks and the ports ISPs commonly block.
func (h *handler) describeCommonPorts(_ *call, _ *emptyRequest) (any, error) {
	ports := catalog.CommonPorts()
	out := make([]commonPortOut, len(ports))
	for i, p := range ports {
		out[i] = commonPortOut{Protocol: p.Protocol.String(), Port: p.Ports.String(), Service: p.Service, Description: p.Description, LoginFor: p.LoginFor}
	}
	p25 := rules.Port25()
	blocked := []blockedPortsOut{{Protocol: p25.Protocol.String(), Port: p25.Ports.String(), Direction: policy.Egress.String(), BlockedBy: rules.LayerPlatform.String()}}
	isp := catalog.ISPBlockedPorts()
	for _, proto := range []policy.Protocol{policy.TCP, policy.UDP} {
		list := make([]string, len(isp[proto]))
		for i, port := range isp[proto] {
			list[i] = strconv.Itoa(int(port))
		}
		blocked = append(blocked, blockedPortsOut{Protocol: proto.String(), Port: strings.Join(list, ","), Direction: "ALL", BlockedBy: "ISP"})
	}
	return map[string]any{"PortSet": out, "BlockedPortSet": blocked}, nil
}
