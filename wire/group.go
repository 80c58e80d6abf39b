package wire

// vpc security-group actions (groups as a whole).

// SecurityGroup is the vpc SecurityGroup object. ProjectId is a numeric
// string; times are "2006-01-02 15:04:05" in UTC. Region is an extension
// the cloud's examples also carry.
type SecurityGroup struct {
	SecurityGroupId   string `json:"SecurityGroupId"`
	SecurityGroupName string `json:"SecurityGroupName"`
	SecurityGroupDesc string `json:"SecurityGroupDesc"`
	ProjectId         string `json:"ProjectId"`
	IsDefault         bool   `json:"IsDefault"`
	CreatedTime       string `json:"CreatedTime"`
	UpdateTime        string `json:"UpdateTime"`
	TagSet            []Tag  `json:"TagSet"`
	Region            string `json:"Region"`
	// Propagation (Palisade, DescribeSecurityGroups only) is how far the
	// group's last change has reached the hosts whose instances' rules
	// depend on it: applied on AppliedHosts of AffectedHosts hosts, the
	// Laggards named. Absent when no host's rules depend on the group.
	Propagation *SecurityGroupPropagation `json:"Propagation,omitempty"`
}

// CreateSecurityGroupRequest is the request of CreateSecurityGroup.
type CreateSecurityGroupRequest struct {
	GroupName        *String    `json:"GroupName,omitzero"`
	GroupDescription *String    `json:"GroupDescription,omitzero"`
	ProjectId        *IntString `json:"ProjectId,omitzero"`
	Tags             []TagInput `json:"Tags,omitzero"`
	// Template is a Palisade extension: the name of a ready-made policy set
	// ("open-common", "linux-login", …; see DescribeSecurityGroupTemplates)
	// the group starts with.
	Template *String `json:"Template,omitzero"`
}

// CreateSecurityGroupResponse is the response of CreateSecurityGroup.
// Warnings (a Palisade extension) concern the template's policies and are
// omitted when there are none.
type CreateSecurityGroupResponse struct {
	SecurityGroup SecurityGroup `json:"SecurityGroup"`
	Warnings      []Warning     `json:"Warnings,omitempty"`
	RequestId     string        `json:"RequestId,omitempty"`
}

// CreateSecurityGroupWithPoliciesRequest is the request of
// CreateSecurityGroupWithPolicies.
type CreateSecurityGroupWithPoliciesRequest struct {
	GroupName              *String                      `json:"GroupName,omitzero"`
	GroupDescription       *String                      `json:"GroupDescription,omitzero"`
	ProjectId              *IntString                   `json:"ProjectId,omitzero"`
	Tags                   []TagInput                   `json:"Tags,omitzero"`
	Template               *String                      `json:"Template,omitzero"` // as in CreateSecurityGroupRequest
	SecurityGroupPolicySet *SecurityGroupPolicySetInput `json:"SecurityGroupPolicySet,omitzero"`
}

// CreateSecurityGroupWithPoliciesResponse is the response of
// CreateSecurityGroupWithPolicies.
type CreateSecurityGroupWithPoliciesResponse struct {
	SecurityGroup SecurityGroup `json:"SecurityGroup"`
	Warnings      []Warning     `json:"Warnings,omitempty"`
	RequestId     string        `json:"RequestId,omitempty"`
}

// CreateDefaultSecurityGroupRequest is the request of
// CreateDefaultSecurityGroup.
type CreateDefaultSecurityGroupRequest struct {
	ProjectId *IntString `json:"ProjectId,omitzero"`
}

// CreateDefaultSecurityGroupResponse is the response of
// CreateDefaultSecurityGroup: the project's default group, created or
// existing.
type CreateDefaultSecurityGroupResponse struct {
	SecurityGroup SecurityGroup `json:"SecurityGroup"`
	RequestId     string        `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupsRequest is the request of DescribeSecurityGroups.
type DescribeSecurityGroupsRequest struct {
	SecurityGroupIds []String   `json:"SecurityGroupIds,omitzero"`
	Filters          []Filter   `json:"Filters,omitzero"`
	Offset           *IntString `json:"Offset,omitzero"`
	Limit            *IntString `json:"Limit,omitzero"`
	OrderField       *String    `json:"OrderField,omitzero"`
	OrderDirection   *String    `json:"OrderDirection,omitzero"`
}

// DescribeSecurityGroupsResponse is the response of DescribeSecurityGroups:
// one page and the count before paging.
type DescribeSecurityGroupsResponse struct {
	SecurityGroupSet []SecurityGroup `json:"SecurityGroupSet"`
	TotalCount       uint64          `json:"TotalCount"`
	RequestId        string          `json:"RequestId,omitempty"`
}

// ModifySecurityGroupAttributeRequest is the request of
// ModifySecurityGroupAttribute; an absent field is left as it is.
type ModifySecurityGroupAttributeRequest struct {
	SecurityGroupId  *String `json:"SecurityGroupId,omitzero"`
	GroupName        *String `json:"GroupName,omitzero"`
	GroupDescription *String `json:"GroupDescription,omitzero"`
}

// ModifySecurityGroupAttributeResponse is the response of
// ModifySecurityGroupAttribute.
type ModifySecurityGroupAttributeResponse EmptyResponse

// DeleteSecurityGroupRequest is the request of DeleteSecurityGroup.
type DeleteSecurityGroupRequest struct {
	SecurityGroupId *String `json:"SecurityGroupId,omitzero"`
}

// DeleteSecurityGroupResponse is the response of DeleteSecurityGroup.
type DeleteSecurityGroupResponse EmptyResponse

// CloneSecurityGroupRequest is the request of CloneSecurityGroup, sent to
// the target region; RemoteRegion names the source group's region.
type CloneSecurityGroupRequest struct {
	SecurityGroupId  *String    `json:"SecurityGroupId,omitzero"`
	GroupName        *String    `json:"GroupName,omitzero"`
	GroupDescription *String    `json:"GroupDescription,omitzero"`
	ProjectId        *IntString `json:"ProjectId,omitzero"`
	RemoteRegion     *String    `json:"RemoteRegion,omitzero"`
	// Tags are set on the clone; IsCloneTags copies the source's tags.
	// With both, the source's tags are merged with Tags, whose values win
	// for a key in both.
	Tags        []TagInput `json:"Tags,omitzero"`
	IsCloneTags *Bool      `json:"IsCloneTags,omitzero"`
}

// CloneSecurityGroupResponse is the response of CloneSecurityGroup: the
// new group.
type CloneSecurityGroupResponse struct {
	SecurityGroup SecurityGroup `json:"SecurityGroup"`
	RequestId     string        `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupAssociationStatisticsRequest is the request of
// DescribeSecurityGroupAssociationStatistics.
type DescribeSecurityGroupAssociationStatisticsRequest struct {
	SecurityGroupIds []String `json:"SecurityGroupIds,omitzero"`
}

// SecurityGroupAssociationStatistics counts what uses one group; all five
// counts are always present (Terraform reads them).
type SecurityGroupAssociationStatistics struct {
	SecurityGroupId    string              `json:"SecurityGroupId"`
	CVM                uint64              `json:"CVM"`
	CDB                uint64              `json:"CDB"`
	ENI                uint64              `json:"ENI"`
	SG                 uint64              `json:"SG"`
	CLB                uint64              `json:"CLB"`
	InstanceStatistics []InstanceStatistic `json:"InstanceStatistics"`
	TotalCount         uint64              `json:"TotalCount"`
}

// InstanceStatistic counts the instances of one type bound to a group.
type InstanceStatistic struct {
	InstanceType  string `json:"InstanceType"`
	InstanceCount uint64 `json:"InstanceCount"`
}

// DescribeSecurityGroupAssociationStatisticsResponse is the response of
// DescribeSecurityGroupAssociationStatistics.
type DescribeSecurityGroupAssociationStatisticsResponse struct {
	SecurityGroupAssociationStatisticsSet []SecurityGroupAssociationStatistics `json:"SecurityGroupAssociationStatisticsSet"`
	RequestId                             string                               `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupReferencesRequest is the request of
// DescribeSecurityGroupReferences.
type DescribeSecurityGroupReferencesRequest struct {
	SecurityGroupIds []String `json:"SecurityGroupIds,omitzero"`
}

// ReferredSecurityGroup lists the groups whose policies reference one
// group.
type ReferredSecurityGroup struct {
	SecurityGroupId          string   `json:"SecurityGroupId"`
	ReferredSecurityGroupIds []string `json:"ReferredSecurityGroupIds"`
}

// DescribeSecurityGroupReferencesResponse is the response of
// DescribeSecurityGroupReferences.
type DescribeSecurityGroupReferencesResponse struct {
	ReferredSecurityGroupSet []ReferredSecurityGroup `json:"ReferredSecurityGroupSet"`
	RequestId                string                  `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupLimitsRequest is the request of
// DescribeSecurityGroupLimits (no fields).
type DescribeSecurityGroupLimitsRequest struct{}

// SecurityGroupLimitSet is the calling account's quotas. The last three
// are not enforced by Palisade and carry the cloud's values.
type SecurityGroupLimitSet struct {
	SecurityGroupLimit                 uint64 `json:"SecurityGroupLimit"`
	SecurityGroupPolicyLimit           uint64 `json:"SecurityGroupPolicyLimit"`
	ReferedSecurityGroupLimit          uint64 `json:"ReferedSecurityGroupLimit"`
	SecurityGroupInstanceLimit         uint64 `json:"SecurityGroupInstanceLimit"`
	InstanceSecurityGroupLimit         uint64 `json:"InstanceSecurityGroupLimit"`
	SecurityGroupExtendedPolicyLimit   uint64 `json:"SecurityGroupExtendedPolicyLimit"`
	SecurityGroupReferedCvmAndEniLimit uint64 `json:"SecurityGroupReferedCvmAndEniLimit"`
	SecurityGroupReferedSvcLimit       uint64 `json:"SecurityGroupReferedSvcLimit"`
}

// DescribeSecurityGroupLimitsResponse is the response of
// DescribeSecurityGroupLimits.
type DescribeSecurityGroupLimitsResponse struct {
	SecurityGroupLimitSet SecurityGroupLimitSet `json:"SecurityGroupLimitSet"`
	RequestId             string                `json:"RequestId,omitempty"`
}
