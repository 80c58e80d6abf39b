package wire

// DescribeSecurityGroupFindingsRequest is the request of
// DescribeSecurityGroupFindings: the caller's groups, each analysed alone,
// or its instances, each with its effective rules (the platform rules and
// every bound group in binding order) — one of the two lists, not both.
type DescribeSecurityGroupFindingsRequest struct {
	SecurityGroupIds []String `json:"SecurityGroupIds,omitzero"`
	InstanceIds      []String `json:"InstanceIds,omitzero"`
	// UnusedWindowSeconds: how long the agents' counters must have covered
	// a group's current policies before a policy they counted no packet
	// for is reported UNUSED (absent: 7 days).
	UnusedWindowSeconds *Int `json:"UnusedWindowSeconds,omitzero"`
}

// FindingPolicy is a rule a finding involves: a group's policy
// (SecurityGroupId and PolicyIndex) or a platform rule (Platform:
// PORT25_BLOCKED or PLATFORM_ADDRESS, PolicyIndex absent), and its Action.
type FindingPolicy struct {
	SecurityGroupId string `json:"SecurityGroupId"`
	PolicyIndex     *int   `json:"PolicyIndex,omitempty"`
	Platform        string `json:"Platform"`
	Action          string `json:"Action"`
}

// Finding is one finding: its Kind (SHADOWED, REDUNDANT, MATCHES_NOTHING,
// EXPOSED_PORT, ISP_BLOCKED_PORT, PORT25_BLOCKED, WIDENED_CIDR,
// NO_LOGIN_PORT, NO_PING, NO_EGRESS, UNUSED; UNRESOLVED in palisade lint only),
// Severity (HIGH, MEDIUM, LOW, INFO), the group of the policy concerned,
// the instance analysed ("" for a group), the Direction (INGRESS or EGRESS), the policy's index (absent
// for a finding about a whole direction), a Message saying what to do, and
// the Policies involved: the policy concerned first, then, for SHADOWED
// and REDUNDANT, the rules covering it.
type Finding struct {
	Kind            string          `json:"Kind"`
	Severity        string          `json:"Severity"`
	SecurityGroupId string          `json:"SecurityGroupId"`
	InstanceId      string          `json:"InstanceId"`
	Direction       string          `json:"Direction"`
	PolicyIndex     *int            `json:"PolicyIndex,omitempty"`
	Message         string          `json:"Message"`
	Policies        []FindingPolicy `json:"Policies"`
}

// DescribeSecurityGroupFindingsResponse is the response of
// DescribeSecurityGroupFindings: the findings of every group or instance
// asked for, in the order asked, and their number.
type DescribeSecurityGroupFindingsResponse struct {
	FindingSet []Finding `json:"FindingSet"`
	TotalCount uint64    `json:"TotalCount"`
	RequestId  string    `json:"RequestId,omitempty"`
}
