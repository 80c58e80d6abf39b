package api

import (
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// vpc security-group actions (groups as a whole).

// createSecurityGroupRequest is CreateSecurityGroup's request with the one
// field of CreateSecurityGroupWithPolicies it does not take, decoded so
// that the mistake is answered rather than ignored.
type createSecurityGroupRequest struct {
	wire.CreateSecurityGroupRequest
	SecurityGroupPolicySet *wire.SecurityGroupPolicySetInput `json:"SecurityGroupPolicySet"`
}

func (h *handler) createSecurityGroup(c *call, req *createSecurityGroupRequest) (any, error) {
	r := &req.CreateSecurityGroupRequest
	in, err := groupInput(r.GroupName, r.GroupDescription, r.ProjectId, r.Tags, r.Template)
	if err != nil {
		return nil, err
	}
	if req.SecurityGroupPolicySet != nil {
		return nil, newAPIError(codeUnknownParameter, "SecurityGroupPolicySet is a field of CreateSecurityGroupWithPolicies, not of CreateSecurityGroup")
	}
	g, warnings, err := h.svc.CreateSecurityGroup(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return wire.CreateSecurityGroupResponse{SecurityGroup: groupOut(g), Warnings: warningsOut(warnings)}, nil
}

func (h *handler) createSecurityGroupWithPolicies(c *call, req *wire.CreateSecurityGroupWithPoliciesRequest) (any, error) {
	in, err := groupInput(req.GroupName, req.GroupDescription, req.ProjectId, req.Tags, req.Template)
	if err != nil {
		return nil, err
	}
	set, err := policySetInput("SecurityGroupPolicySet", req.SecurityGroupPolicySet)
	if err != nil {
		return nil, err
	}
	in.Policies = &set
	g, warnings, err := h.svc.CreateSecurityGroup(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return wire.CreateSecurityGroupWithPoliciesResponse{SecurityGroup: groupOut(g), Warnings: warningsOut(warnings)}, nil
}

// groupInput reads the fields the two group creations share.
func groupInput(name, description *wire.String, project *wire.IntString, tagList []wire.TagInput, template *wire.String) (service.CreateGroupInput, error) {
	n, err := requireString("GroupName", name)
	if err != nil {
		return service.CreateGroupInput{}, err
	}
	p, err := projectID("ProjectId", (*wire.Int)(project))
	if err != nil {
		return service.CreateGroupInput{}, err
	}
	return service.CreateGroupInput{
		Name:        n,
		Description: str(description),
		ProjectID:   p,
		Tags:        tags(tagList),
		Template:    str(template),
	}, nil
}

func (h *handler) createDefaultSecurityGroup(c *call, req *wire.CreateDefaultSecurityGroupRequest) (any, error) {
	project, err := projectID("ProjectId", (*wire.Int)(req.ProjectId))
	if err != nil {
		return nil, err
	}
	g, err := h.svc.CreateDefaultSecurityGroup(c.ctx, c.caller, project)
	if err != nil {
		return nil, err
	}
	return wire.CreateDefaultSecurityGroupResponse{SecurityGroup: groupOut(g)}, nil
}

func (h *handler) describeSecurityGroups(c *call, req *wire.DescribeSecurityGroupsRequest) (any, error) {
	if len(req.SecurityGroupIds) > 100 {
		return nil, newAPIError(codeValueLimitExceeded, "SecurityGroupIds has %d ids; the limit is 100", len(req.SecurityGroupIds))
	}
	p, err := page((*wire.Int)(req.Offset), (*wire.Int)(req.Limit))
	if err != nil {
		return nil, err
	}
	groups, total, err := h.svc.DescribeSecurityGroups(c.ctx, c.caller, service.GroupQuery{
		IDs:            strs(req.SecurityGroupIds),
		Filters:        filters(req.Filters),
		Page:           p,
		OrderField:     str(req.OrderField),
		OrderDirection: str(req.OrderDirection),
	})
	if err != nil {
		return nil, err
	}
	out := wire.DescribeSecurityGroupsResponse{SecurityGroupSet: convertAll(groups, groupOut), TotalCount: uint64(total)}
	if len(groups) == 0 {
		return out, nil
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	ps, err := h.svc.DescribeSecurityGroupPropagation(c.ctx, c.caller, ids)
	if err != nil {
		return nil, err
	}
	for i, p := range ps {
		if len(p.AffectedHosts) > 0 {
			w := propagationOut(p)
			out.SecurityGroupSet[i].Propagation = &w
		}
	}
	return out, nil
}

func (h *handler) modifySecurityGroupAttribute(c *call, req *wire.ModifySecurityGroupAttributeRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	in := service.ModifyGroupInput{SecurityGroupID: id, Name: optional(req.GroupName), Description: optional(req.GroupDescription)}
	return nil, h.svc.ModifySecurityGroupAttribute(c.ctx, c.caller, in)
}

func (h *handler) deleteSecurityGroup(c *call, req *wire.DeleteSecurityGroupRequest) (any, error) {
	return byID(c, "SecurityGroupId", req.SecurityGroupId, h.svc.DeleteSecurityGroup)
}

func (h *handler) cloneSecurityGroup(c *call, req *wire.CloneSecurityGroupRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	in := service.CloneInput{SecurityGroupID: id, RemoteRegion: str(req.RemoteRegion),
		Name: optional(req.GroupName), Description: optional(req.GroupDescription), Tags: tags(req.Tags)}
	if req.IsCloneTags != nil {
		if in.CloneTags, err = boolean("IsCloneTags", req.IsCloneTags); err != nil {
			return nil, err
		}
	}
	if req.ProjectId != nil && req.ProjectId.Text() != "" {
		p, err := projectID("ProjectId", (*wire.Int)(req.ProjectId))
		if err != nil {
			return nil, err
		}
		in.ProjectID = &p
	}
	g, err := h.svc.CloneSecurityGroup(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return wire.CloneSecurityGroupResponse{SecurityGroup: groupOut(g)}, nil
}

func (h *handler) describeSecurityGroupAssociationStatistics(c *call, req *wire.DescribeSecurityGroupAssociationStatisticsRequest) (any, error) {
	ids, err := requireList("SecurityGroupIds", req.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	stats, err := h.svc.DescribeSecurityGroupAssociationStatistics(c.ctx, c.caller, ids)
	if err != nil {
		return nil, err
	}
	return wire.DescribeSecurityGroupAssociationStatisticsResponse{SecurityGroupAssociationStatisticsSet: convertAll(stats, statisticsOut)}, nil
}

func statisticsOut(s service.AssociationStatistics) wire.SecurityGroupAssociationStatistics {
	return wire.SecurityGroupAssociationStatistics{
		SecurityGroupId:    s.SecurityGroupID,
		CVM:                uint64(s.CVM),
		CDB:                uint64(s.CDB),
		ENI:                uint64(s.ENI),
		SG:                 uint64(s.SG),
		CLB:                uint64(s.CLB),
		TotalCount:         uint64(s.TotalCount),
		InstanceStatistics: []wire.InstanceStatistic{{InstanceType: "CVM", InstanceCount: uint64(s.CVM)}},
	}
}

func (h *handler) describeSecurityGroupReferences(c *call, req *wire.DescribeSecurityGroupReferencesRequest) (any, error) {
	ids, err := requireList("SecurityGroupIds", req.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	refs, err := h.svc.DescribeSecurityGroupReferences(c.ctx, c.caller, ids)
	if err != nil {
		return nil, err
	}
	return wire.DescribeSecurityGroupReferencesResponse{ReferredSecurityGroupSet: convertAll(refs, func(r service.GroupReferences) wire.ReferredSecurityGroup {
		return wire.ReferredSecurityGroup{SecurityGroupId: r.SecurityGroupID, ReferredSecurityGroupIds: nonNil(r.ReferredSecurityGroupIDs)}
	})}, nil
}

// Limits Palisade does not enforce; reported with the cloud's values.
const (
	extendedPolicyLimit   = 30000
	referedCvmAndEniLimit = 2000
	referedSvcLimit       = 2000
)

func (h *handler) describeSecurityGroupLimits(c *call, _ *wire.DescribeSecurityGroupLimitsRequest) (any, error) {
	q, err := h.svc.DescribeSecurityGroupLimits(c.ctx, c.caller)
	if err != nil {
		return nil, err
	}
	return wire.DescribeSecurityGroupLimitsResponse{SecurityGroupLimitSet: wire.SecurityGroupLimitSet{
		SecurityGroupLimit:                 uint64(q.GroupsPerRegion),
		SecurityGroupPolicyLimit:           uint64(q.PoliciesPerDirection),
		ReferedSecurityGroupLimit:          uint64(q.ReferencedGroupsPerGroup),
		SecurityGroupInstanceLimit:         uint64(q.InstancesPerGroup),
		InstanceSecurityGroupLimit:         uint64(q.GroupsPerInstance),
		SecurityGroupExtendedPolicyLimit:   extendedPolicyLimit,
		SecurityGroupReferedCvmAndEniLimit: referedCvmAndEniLimit,
		SecurityGroupReferedSvcLimit:       referedSvcLimit,
	}}, nil
}
