package api

import (
	"github.com/palisade-sg/palisade/internal/service"
)

// vpc security-group actions (groups as a whole).

type createSecurityGroupRequest struct {
	GroupName        *flexString `json:"GroupName"`
	GroupDescription *flexString `json:"GroupDescription"`
	ProjectId        *flexInt    `json:"ProjectId"`
	Tags             []tagIn     `json:"Tags"`
	// Template is a Palisade extension: the name of a ready-made policy set
	// ("open-common", "linux-login", …) the group starts with.
	Template *flexString `json:"Template"`
	// SecurityGroupPolicySet is CreateSecurityGroupWithPolicies' field.
	SecurityGroupPolicySet *policySetIn `json:"SecurityGroupPolicySet"`
}

type securityGroupResponse struct {
	SecurityGroup securityGroupOut `json:"SecurityGroup"`
	Warnings      []warningOut     `json:"Warnings,omitempty"`
}

func (h *handler) createSecurityGroup(c *call, req *createSecurityGroupRequest) (any, error) {
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	if req.SecurityGroupPolicySet != nil {
		return nil, newAPIError(codeUnknownParameter, "SecurityGroupPolicySet is a field of CreateSecurityGroupWithPolicies, not of CreateSecurityGroup")
	}
	return h.createGroup(c, in)
}

func (h *handler) createSecurityGroupWithPolicies(c *call, req *createSecurityGroupRequest) (any, error) {
	in, err := req.input()
	if err != nil {
		return nil, err
	}
	set, err := req.SecurityGroupPolicySet.input("SecurityGroupPolicySet")
	if err != nil {
		return nil, err
	}
	in.Policies = &set
	return h.createGroup(c, in)
}

func (req *createSecurityGroupRequest) input() (service.CreateGroupInput, error) {
	name, err := requireString("GroupName", req.GroupName)
	if err != nil {
		return service.CreateGroupInput{}, err
	}
	project, err := projectID("ProjectId", req.ProjectId)
	if err != nil {
		return service.CreateGroupInput{}, err
	}
	return service.CreateGroupInput{
		Name:        name,
		Description: str(req.GroupDescription),
		ProjectID:   project,
		Tags:        tags(req.Tags),
		Template:    str(req.Template),
	}, nil
}

func (h *handler) createGroup(c *call, in service.CreateGroupInput) (any, error) {
	g, warnings, err := h.svc.CreateSecurityGroup(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return securityGroupResponse{SecurityGroup: groupOut(g), Warnings: warningsOut(warnings)}, nil
}

type createDefaultSecurityGroupRequest struct {
	ProjectId *flexInt `json:"ProjectId"`
}

func (h *handler) createDefaultSecurityGroup(c *call, req *createDefaultSecurityGroupRequest) (any, error) {
	project, err := projectID("ProjectId", req.ProjectId)
	if err != nil {
		return nil, err
	}
	g, err := h.svc.CreateDefaultSecurityGroup(c.ctx, c.caller, project)
	if err != nil {
		return nil, err
	}
	return securityGroupResponse{SecurityGroup: groupOut(g)}, nil
}

type describeSecurityGroupsRequest struct {
	SecurityGroupIds []flexString `json:"SecurityGroupIds"`
	Filters          []filterIn   `json:"Filters"`
	Offset           *flexInt     `json:"Offset"`
	Limit            *flexInt     `json:"Limit"`
	OrderField       *flexString  `json:"OrderField"`
	OrderDirection   *flexString  `json:"OrderDirection"`
}

func (h *handler) describeSecurityGroups(c *call, req *describeSecurityGroupsRequest) (any, error) {
	if len(req.SecurityGroupIds) > 100 {
		return nil, newAPIError(codeValueLimitExceeded, "SecurityGroupIds has %d ids; the limit is 100", len(req.SecurityGroupIds))
	}
	p, err := page(req.Offset, req.Limit)
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
	return wirePage("SecurityGroupSet", groups, total, err, groupOut)
}

type modifySecurityGroupAttributeRequest struct {
	SecurityGroupId  *flexString `json:"SecurityGroupId"`
	GroupName        *flexString `json:"GroupName"`
	GroupDescription *flexString `json:"GroupDescription"`
}

func (h *handler) modifySecurityGroupAttribute(c *call, req *modifySecurityGroupAttributeRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	in := service.ModifyGroupInput{SecurityGroupID: id, Name: optional(req.GroupName), Description: optional(req.GroupDescription)}
	return nil, h.svc.ModifySecurityGroupAttribute(c.ctx, c.caller, in)
}

type securityGroupIDRequest struct {
	SecurityGroupId *flexString `json:"SecurityGroupId"`
}

func (h *handler) deleteSecurityGroup(c *call, req *securityGroupIDRequest) (any, error) {
	return byID(c, "SecurityGroupId", req.SecurityGroupId, h.svc.DeleteSecurityGroup)
}

type cloneSecurityGroupRequest struct {
	SecurityGroupId  *flexString `json:"SecurityGroupId"`
	GroupName        *flexString `json:"GroupName"`
	GroupDescription *flexString `json:"GroupDescription"`
	ProjectId        *flexInt    `json:"ProjectId"`
	RemoteRegion     *flexString `json:"RemoteRegion"`
}

func (h *handler) cloneSecurityGroup(c *call, req *cloneSecurityGroupRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	in := service.CloneInput{SecurityGroupID: id, RemoteRegion: str(req.RemoteRegion),
		Name: optional(req.GroupName), Description: optional(req.GroupDescription)}
	if req.ProjectId != nil && req.ProjectId.text != "" {
		p, err := projectID("ProjectId", req.ProjectId)
		if err != nil {
			return nil, err
		}
		in.ProjectID = &p
	}
	g, err := h.svc.CloneSecurityGroup(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	return securityGroupResponse{SecurityGroup: groupOut(g)}, nil
}

type securityGroupIDsRequest struct {
	SecurityGroupIds []flexString `json:"SecurityGroupIds"`
}

type associationStatisticsOut struct {
	SecurityGroupId    string                 `json:"SecurityGroupId"`
	CVM                uint64                 `json:"CVM"`
	CDB                uint64                 `json:"CDB"`
	ENI                uint64                 `json:"ENI"`
	SG                 uint64                 `json:"SG"`
	CLB                uint64                 `json:"CLB"`
	InstanceStatistics []instanceStatisticOut `json:"InstanceStatistics"`
	TotalCount         uint64                 `json:"TotalCount"`
}

type instanceStatisticOut struct {
	InstanceType  string `json:"InstanceType"`
	InstanceCount uint64 `json:"InstanceCount"`
}

func (h *handler) describeSecurityGroupAssociationStatistics(c *call, req *securityGroupIDsRequest) (any, error) {
	ids, err := requireList("SecurityGroupIds", req.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	stats, err := h.svc.DescribeSecurityGroupAssociationStatistics(c.ctx, c.caller, ids)
	return wireSet("SecurityGroupAssociationStatisticsSet", stats, err, statisticsOut)
}

func statisticsOut(s service.AssociationStatistics) associationStatisticsOut {
	return associationStatisticsOut{
		SecurityGroupId:    s.SecurityGroupID,
		CVM:                uint64(s.CVM),
		CDB:                uint64(s.CDB),
		ENI:                uint64(s.ENI),
		SG:                 uint64(s.SG),
		CLB:                uint64(s.CLB),
		TotalCount:         uint64(s.TotalCount),
		InstanceStatistics: []instanceStatisticOut{{InstanceType: "CVM", InstanceCount: uint64(s.CVM)}},
	}
}

type referredSecurityGroupOut struct {
	SecurityGroupId          string   `json:"SecurityGroupId"`
	ReferredSecurityGroupIds []string `json:"ReferredSecurityGroupIds"`
}

func (h *handler) describeSecurityGroupReferences(c *call, req *securityGroupIDsRequest) (any, error) {
	ids, err := requireList("SecurityGroupIds", req.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	refs, err := h.svc.DescribeSecurityGroupReferences(c.ctx, c.caller, ids)
	return wireSet("ReferredSecurityGroupSet", refs, err, func(r service.GroupReferences) referredSecurityGroupOut {
		return referredSecurityGroupOut{SecurityGroupId: r.SecurityGroupID, ReferredSecurityGroupIds: nonNil(r.ReferredSecurityGroupIDs)}
	})
}

// Limits Palisade does not enforce; reported with the cloud's values.
const (
	extendedPolicyLimit   = 30000
	referedCvmAndEniLimit = 2000
	referedSvcLimit       = 2000
)

type securityGroupLimitSetOut struct {
	SecurityGroupLimit                 uint64 `json:"SecurityGroupLimit"`
	SecurityGroupPolicyLimit           uint64 `json:"SecurityGroupPolicyLimit"`
	ReferedSecurityGroupLimit          uint64 `json:"ReferedSecurityGroupLimit"`
	SecurityGroupInstanceLimit         uint64 `json:"SecurityGroupInstanceLimit"`
	InstanceSecurityGroupLimit         uint64 `json:"InstanceSecurityGroupLimit"`
	SecurityGroupExtendedPolicyLimit   uint64 `json:"SecurityGroupExtendedPolicyLimit"`
	SecurityGroupReferedCvmAndEniLimit uint64 `json:"SecurityGroupReferedCvmAndEniLimit"`
	SecurityGroupReferedSvcLimit       uint64 `json:"SecurityGroupReferedSvcLimit"`
}

type emptyRequest struct{}

func (h *handler) describeSecurityGroupLimits(c *call, _ *emptyRequest) (any, error) {
	q, err := h.svc.DescribeSecurityGroupLimits(c.ctx, c.caller)
	if err != nil {
		return nil, err
	}
	return map[string]any{"SecurityGroupLimitSet": securityGroupLimitSetOut{
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
