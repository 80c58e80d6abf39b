package wire

// cvm actions that bind groups to instances and describe instances. In cvm,
// Offset, Limit and Placement.ProjectId are integers.

// BindRequest is the request of AssociateSecurityGroups and
// DisassociateSecurityGroups: one group, at most 100 instances.
type BindRequest struct {
	SecurityGroupIds []String `json:"SecurityGroupIds,omitzero"`
	InstanceIds      []String `json:"InstanceIds,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
	// Force (Palisade): write even a change that would cut the caller's
	// own SSH or remote desktop path to an instance (lockout protection).
	Force *Bool `json:"Force,omitzero"`
}

// AssociateSecurityGroupsRequest is the request of AssociateSecurityGroups:
// the group is appended to each instance's list.
type AssociateSecurityGroupsRequest BindRequest

// AssociateSecurityGroupsResponse is the response of
// AssociateSecurityGroups.
type AssociateSecurityGroupsResponse EmptyResponse

// DisassociateSecurityGroupsRequest is the request of
// DisassociateSecurityGroups.
type DisassociateSecurityGroupsRequest BindRequest

// DisassociateSecurityGroupsResponse is the response of
// DisassociateSecurityGroups.
type DisassociateSecurityGroupsResponse EmptyResponse

// ModifyInstancesAttributeRequest is the request of
// ModifyInstancesAttribute. SecurityGroups, when present, sets each
// instance's whole ordered list; it cannot be combined with InstanceName.
type ModifyInstancesAttributeRequest struct {
	InstanceIds    []String `json:"InstanceIds,omitzero"`
	InstanceName   *String  `json:"InstanceName,omitzero"`
	SecurityGroups []String `json:"SecurityGroups,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
	// Force (Palisade): write even a change that would cut the caller's
	// own SSH or remote desktop path to an instance (lockout protection).
	Force *Bool `json:"Force,omitzero"`
}

// ModifyInstancesAttributeResponse is the response of
// ModifyInstancesAttribute.
type ModifyInstancesAttributeResponse EmptyResponse

// DescribeInstancesRequest is the request of DescribeInstances. Offset and
// Limit are integers, as in every cvm action.
type DescribeInstancesRequest struct {
	InstanceIds []String `json:"InstanceIds,omitzero"`
	Filters     []Filter `json:"Filters,omitzero"`
	Offset      *Int     `json:"Offset,omitzero"`
	Limit       *Int     `json:"Limit,omitzero"`
}

// Placement is where an instance runs. ProjectId is an integer.
type Placement struct {
	Zone      string `json:"Zone"`
	ProjectId int64  `json:"ProjectId"`
	HostId    string `json:"HostId"`
}

// Instance is the cvm Instance object, with the fields Palisade knows.
// OsType, Region and Interface are Palisade extensions; CreatedTime is RFC
// 3339 UTC.
type Instance struct {
	Placement            Placement `json:"Placement"`
	InstanceId           string    `json:"InstanceId"`
	InstanceName         string    `json:"InstanceName"`
	PrivateIpAddresses   []string  `json:"PrivateIpAddresses"`
	PublicIpAddresses    []string  `json:"PublicIpAddresses"`
	IPv6Addresses        []string  `json:"IPv6Addresses"`
	CreatedTime          string    `json:"CreatedTime"`
	OsName               string    `json:"OsName"`
	SecurityGroupIds     []string  `json:"SecurityGroupIds"`
	InstanceState        string    `json:"InstanceState"`
	LatestOperationState string    `json:"LatestOperationState"`
	Tags                 []Tag     `json:"Tags"`
	OsType               string    `json:"OsType"`
	Region               string    `json:"Region"`
	Interface            string    `json:"Interface"`
}

// DescribeInstancesResponse is the response of DescribeInstances.
type DescribeInstancesResponse struct {
	InstanceSet []Instance `json:"InstanceSet"`
	TotalCount  uint64     `json:"TotalCount"`
	RequestId   string     `json:"RequestId,omitempty"`
}

// InstanceIdsRequest is a request naming instances.
type InstanceIdsRequest struct {
	InstanceIds []String `json:"InstanceIds,omitzero"`
}

// TerminateInstancesRequest is the request of TerminateInstances: the
// instances move to the recycle bin.
type TerminateInstancesRequest InstanceIdsRequest

// TerminateInstancesResponse is the response of TerminateInstances.
type TerminateInstancesResponse EmptyResponse

// StopInstancesRequest is the request of StopInstances. ForceStop,
// StopType and StoppedMode are accepted and ignored: a Palisade instance
// has no guest to shut down and no billing to keep.
type StopInstancesRequest struct {
	InstanceIds []String `json:"InstanceIds,omitzero"`
	ForceStop   *Bool    `json:"ForceStop,omitzero"`
	StopType    *String  `json:"StopType,omitzero"`
	StoppedMode *String  `json:"StoppedMode,omitzero"`
}

// StopInstancesResponse is the response of StopInstances.
type StopInstancesResponse EmptyResponse

// StartInstancesRequest is the request of StartInstances.
type StartInstancesRequest InstanceIdsRequest

// StartInstancesResponse is the response of StartInstances.
type StartInstancesResponse EmptyResponse
