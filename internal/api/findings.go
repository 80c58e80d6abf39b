package api

import (
	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
	"time"
)

func (h *handler) describeSecurityGroupFindings(c *call, req *wire.DescribeSecurityGroupFindingsRequest) (any, error) {
	if len(req.SecurityGroupIds)+len(req.InstanceIds) == 0 {
		return nil, missing("SecurityGroupIds")
	}
	in := service.FindingsInput{SecurityGroupIDs: strs(req.SecurityGroupIds), InstanceIDs: strs(req.InstanceIds)}
	if req.UnusedWindowSeconds != nil && req.UnusedWindowSeconds.Text() != "" {
		secs, err := integer("UnusedWindowSeconds", req.UnusedWindowSeconds)
		if err != nil {
			return nil, err
		}
		if secs < 0 {
			return nil, outOfRange("UnusedWindowSeconds", req.UnusedWindowSeconds.Text(), "must be 0 or more")
		}
		in.UnusedWindow = time.Duration(secs) * time.Second
	}
	sets, err := h.svc.DescribeSecurityGroupFindings(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	out := []wire.Finding{}
	for _, s := range sets {
		for _, f := range s.Findings {
			out = append(out, FindingToWire(f))
		}
	}
	return wire.DescribeSecurityGroupFindingsResponse{FindingSet: out, TotalCount: uint64(len(out))}, nil
}

// FindingToWire returns a finding in the API's form.
func FindingToWire(f analysis.Finding) wire.Finding {
	index := func(i int) *int {
		if i < 0 {
			return nil
		}
		return &i
	}
	w := wire.Finding{
		Kind: f.Kind.String(), Severity: f.Severity.String(),
		SecurityGroupId: f.SecurityGroupID, InstanceId: f.InstanceID,
		Direction: f.Direction.String(), PolicyIndex: index(f.PolicyIndex), Message: f.Message,
		Policies: make([]wire.FindingPolicy, len(f.Policies)),
	}
	for i, p := range f.Policies {
		w.Policies[i] = wire.FindingPolicy{SecurityGroupId: p.SecurityGroupID, PolicyIndex: index(p.PolicyIndex), Platform: p.Platform.String(), Action: p.Action.String()}
	}
	return w
}
