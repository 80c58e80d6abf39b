package wire

// Palisade's own actions.

// InstanceSpec is one instance of a RegisterInstances request. ProjectId is
// an integer.
type InstanceSpec struct {
	InstanceName       *String  `json:"InstanceName,omitzero"`
	OsType             *String  `json:"OsType,omitzero"`
	Zone               *String  `json:"Zone,omitzero"`
	ProjectId          *Int     `json:"ProjectId,omitzero"`
	PrivateIpAddresses []String `json:"PrivateIpAddresses,omitzero"`
	Ipv6Addresses      []String `json:"Ipv6Addresses,omitzero"`
	PublicIpAddress    *String  `json:"PublicIpAddress,omitzero"`
	HostId             *String  `json:"HostId,omitzero"`
	Interface          *String  `json:"Interface,omitzero"`
}

// RegisterInstancesRequest is the request of RegisterInstances (platform
// credential; the region is the request's X-TC-Region).
type RegisterInstancesRequest struct {
	AccountId *String        `json:"AccountId,omitzero"`
	Instances []InstanceSpec `json:"Instances,omitzero"`
}

// RegisterInstancesResponse is the response of RegisterInstances: the new
// instances' ids in request order.
type RegisterInstancesResponse struct {
	InstanceIdSet []string `json:"InstanceIdSet"`
	RequestId     string   `json:"RequestId,omitempty"`
}

// PurgeInstancesRequest is the request of PurgeInstances (the owning
// account or the platform): recycle bin to terminated, bindings released.
type PurgeInstancesRequest InstanceIdsRequest

// PurgeInstancesResponse is the response of PurgeInstances.
type PurgeInstancesResponse EmptyResponse

// UnblockPort25Request is the request of UnblockPort25 (no fields): the
// calling account lifts its outbound TCP 25 block.
type UnblockPort25Request struct{}

// UnblockPort25Response is the response of UnblockPort25.
type UnblockPort25Response EmptyResponse

// DescribeAccountRequest is the request of DescribeAccount (no fields).
type DescribeAccountRequest struct{}

// DescribeAccountResponse is the response of DescribeAccount: the calling
// account. Times are "2006-01-02 15:04:05" UTC, "" when unset.
type DescribeAccountResponse struct {
	AccountId      string `json:"AccountId"`
	AccountName    string `json:"AccountName"`
	Port25Blocked  bool   `json:"Port25Blocked"`
	Port25LiftedBy string `json:"Port25LiftedBy"`
	Port25LiftedAt string `json:"Port25LiftedAt"`
	CreatedTime    string `json:"CreatedTime"`
	RequestId      string `json:"RequestId,omitempty"`
}

// SimulateTrafficRequest is the request of SimulateTraffic: would this
// packet to or from the instance pass? Port is an integer (absent for
// protocols without ports).
type SimulateTrafficRequest struct {
	InstanceId *String `json:"InstanceId,omitzero"`
	Direction  *String `json:"Direction,omitzero"`
	Protocol   *String `json:"Protocol,omitzero"`
	Address    *String `json:"Address,omitzero"`
	Port       *Int    `json:"Port,omitzero"`
}

// SimulateTrafficResponse is the response of SimulateTraffic: the verdict
// (ACCEPT or DROP), the layer that decided and, when a security group
// decided, the group and the policy's index (PolicyIndex is absent
// otherwise).
type SimulateTrafficResponse struct {
	Verdict         string   `json:"Verdict"`
	Layer           string   `json:"Layer"`
	SecurityGroupId string   `json:"SecurityGroupId"`
	PolicyIndex     *int     `json:"PolicyIndex,omitempty"`
	Trace           []string `json:"Trace"`
	Warnings        []string `json:"Warnings"`
	RequestId       string   `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupTemplatesRequest is the request of
// DescribeSecurityGroupTemplates (no fields).
type DescribeSecurityGroupTemplatesRequest struct{}

// SecurityGroupTemplate is a ready-made policy set that
// CreateSecurityGroup's Template names.
type SecurityGroupTemplate struct {
	TemplateName           string                 `json:"TemplateName"`
	Title                  string                 `json:"Title"`
	Description            string                 `json:"Description"`
	SecurityGroupPolicySet SecurityGroupPolicySet `json:"SecurityGroupPolicySet"`
}

// DescribeSecurityGroupTemplatesResponse is the response of
// DescribeSecurityGroupTemplates.
type DescribeSecurityGroupTemplatesResponse struct {
	TemplateSet []SecurityGroupTemplate `json:"TemplateSet"`
	TotalCount  uint64                  `json:"TotalCount"`
	RequestId   string                  `json:"RequestId,omitempty"`
}

// DescribeCommonPortsRequest is the request of DescribeCommonPorts (no
// fields).
type DescribeCommonPortsRequest struct{}

// CommonPort is a common server port; LoginFor names the OS it logs in to
// ("linux", "windows"), "" for others.
type CommonPort struct {
	Protocol    string `json:"Protocol"`
	Port        string `json:"Port"`
	Service     string `json:"Service"`
	Description string `json:"Description"`
	LoginFor    string `json:"LoginFor"`
}

// BlockedPorts are ports blocked outside security groups: by the platform
// (outbound TCP 25) or commonly by ISPs.
type BlockedPorts struct {
	Protocol  string `json:"Protocol"`
	Port      string `json:"Port"`
	Direction string `json:"Direction"`
	BlockedBy string `json:"BlockedBy"` // PLATFORM or ISP
}

// DescribeCommonPortsResponse is the response of DescribeCommonPorts.
type DescribeCommonPortsResponse struct {
	BlockedPortSet []BlockedPorts `json:"BlockedPortSet"`
	PortSet        []CommonPort   `json:"PortSet"`
	RequestId      string         `json:"RequestId,omitempty"`
}

// DescribeSecurityGroupHistoryRequest is the request of
// DescribeSecurityGroupHistory. Version, when given, keeps the changes that
// left the policy set at that version. Offset and Limit are JSON strings,
// as in the other vpc listings (Limit 20 by default, at most 100).
type DescribeSecurityGroupHistoryRequest struct {
	SecurityGroupId *String    `json:"SecurityGroupId,omitzero"`
	Version         *String    `json:"Version,omitzero"`
	Offset          *IntString `json:"Offset,omitzero"`
	Limit           *IntString `json:"Limit,omitzero"`
}

// HistoryChange is one line of a history entry's diff: Kind "+" (a
// policy added), "-" (a policy removed) or "~" (an attribute changed), and
// its Text ("Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh",
// `Name: "web" -> "web-2"`).
type HistoryChange struct {
	Kind string `json:"Kind"`
	Text string `json:"Text"`
}

// SecurityGroupHistory is one change to a security group: the policy set
// Version after it, Time ("2006-01-02 15:04:05" UTC), the SecretId and
// RequestId of the request, its Action, Diff (the lines of Changes joined,
// each "KIND TEXT", one per line) and, for a restore, the version it
// re-applied ("" otherwise).
type SecurityGroupHistory struct {
	Version      string          `json:"Version"`
	Time         string          `json:"Time"`
	SecretId     string          `json:"SecretId"`
	RequestId    string          `json:"RequestId"`
	Action       string          `json:"Action"`
	Diff         string          `json:"Diff"`
	Changes      []HistoryChange `json:"Changes"`
	RestoredFrom string          `json:"RestoredFrom"`
}

// DescribeSecurityGroupHistoryResponse is the response of
// DescribeSecurityGroupHistory: a page of the group's history, newest
// first, and the number of changes retained.
type DescribeSecurityGroupHistoryResponse struct {
	HistorySet []SecurityGroupHistory `json:"HistorySet"`
	TotalCount uint64                 `json:"TotalCount"`
	RequestId  string                 `json:"RequestId,omitempty"`
}

// RestoreSecurityGroupVersionRequest is the request of
// RestoreSecurityGroupVersion: the retained Version of the group to
// re-apply as a new version and, when given, the version the group must be
// at now (SecurityGroupPolicySetVersion), as a write naming a Version is
// checked.
type RestoreSecurityGroupVersionRequest struct {
	SecurityGroupId               *String `json:"SecurityGroupId,omitzero"`
	Version                       *String `json:"Version,omitzero"`
	SecurityGroupPolicySetVersion *String `json:"SecurityGroupPolicySetVersion,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
}

// RestoreSecurityGroupVersionResponse is the response of
// RestoreSecurityGroupVersion: the group's new Version.
type RestoreSecurityGroupVersionResponse PolicyWriteResponse
