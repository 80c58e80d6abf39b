package wire

// vpc security-group policy actions.

// ServiceTemplateSpecificationInput names a service template (ppm-) or
// template group (ppmg-) in a request policy. An object whose fields are
// empty counts as unset (Terraform sends {}).
type ServiceTemplateSpecificationInput struct {
	ServiceId      *String `json:"ServiceId,omitzero"`
	ServiceGroupId *String `json:"ServiceGroupId,omitzero"`
}

// AddressTemplateSpecificationInput names an address template (ipm-) or
// template group (ipmg-) in a request policy; {} counts as unset.
type AddressTemplateSpecificationInput struct {
	AddressId      *String `json:"AddressId,omitzero"`
	AddressGroupId *String `json:"AddressGroupId,omitzero"`
}

// SecurityGroupPolicyInput is a SecurityGroupPolicy of a request. In a
// create, PolicyIndex 0 inserts at the top and absent appends; in a delete
// or replace it chooses the policy.
type SecurityGroupPolicyInput struct {
	PolicyIndex       *Int                               `json:"PolicyIndex,omitzero"`
	Protocol          *String                            `json:"Protocol,omitzero"`
	Port              *String                            `json:"Port,omitzero"`
	ServiceTemplate   *ServiceTemplateSpecificationInput `json:"ServiceTemplate,omitzero"`
	CidrBlock         *String                            `json:"CidrBlock,omitzero"`
	Ipv6CidrBlock     *String                            `json:"Ipv6CidrBlock,omitzero"`
	SecurityGroupId   *String                            `json:"SecurityGroupId,omitzero"`
	AddressTemplate   *AddressTemplateSpecificationInput `json:"AddressTemplate,omitzero"`
	Action            *String                            `json:"Action,omitzero"`
	PolicyDescription *String                            `json:"PolicyDescription,omitzero"`
	// Disabled and ExpiresAt are Palisade's: a disabled policy stays in
	// its group without matching; an expiring one (RFC 3339) is removed by
	// Palisade after that time. Absent means enabled and never expiring.
	Disabled  *Bool   `json:"Disabled,omitzero"`
	ExpiresAt *String `json:"ExpiresAt,omitzero"`
}

// SecurityGroupPolicySetInput is a SecurityGroupPolicySet of a request.
// Version, if given, must equal the group's current version in create,
// delete and replace calls (absent means unchecked); in
// ModifySecurityGroupPolicies "0" clears both directions.
type SecurityGroupPolicySetInput struct {
	Version *String                    `json:"Version,omitzero"`
	Egress  []SecurityGroupPolicyInput `json:"Egress,omitzero"`
	Ingress []SecurityGroupPolicyInput `json:"Ingress,omitzero"`
}

// ServiceTemplateSpecification is a policy's service template as
// described: both IDs always present, "" when unused.
type ServiceTemplateSpecification struct {
	ServiceId      string `json:"ServiceId"`
	ServiceGroupId string `json:"ServiceGroupId"`
}

// AddressTemplateSpecification is a policy's address template as
// described: both IDs always present, "" when unused.
type AddressTemplateSpecification struct {
	AddressId      string `json:"AddressId"`
	AddressGroupId string `json:"AddressGroupId"`
}

// SecurityGroupPolicy is a policy as described: every field present (""
// when unused), both template objects present, Protocol and Action in
// canonical upper case, PolicyIndex a number.
type SecurityGroupPolicy struct {
	PolicyIndex       int                          `json:"PolicyIndex"`
	Protocol          string                       `json:"Protocol"`
	Port              string                       `json:"Port"`
	ServiceTemplate   ServiceTemplateSpecification `json:"ServiceTemplate"`
	CidrBlock         string                       `json:"CidrBlock"`
	Ipv6CidrBlock     string                       `json:"Ipv6CidrBlock"`
	SecurityGroupId   string                       `json:"SecurityGroupId"`
	AddressTemplate   AddressTemplateSpecification `json:"AddressTemplate"`
	Action            string                       `json:"Action"`
	PolicyDescription string                       `json:"PolicyDescription"`
	ModifyTime        string                       `json:"ModifyTime"`
	// Disabled and ExpiresAt (RFC 3339, UTC) are Palisade's, present only
	// on a disabled or an expiring policy.
	Disabled  bool   `json:"Disabled,omitempty"`
	ExpiresAt string `json:"ExpiresAt,omitempty"`
}

// PolicyStatistics counts a group's policies by direction and address
// family.
type PolicyStatistics struct {
	IngressIPv4TotalCount uint64 `json:"IngressIPv4TotalCount"`
	IngressIPv6TotalCount uint64 `json:"IngressIPv6TotalCount"`
	EgressIPv4TotalCount  uint64 `json:"EgressIPv4TotalCount"`
	EgressIPv6TotalCount  uint64 `json:"EgressIPv6TotalCount"`
}

// SecurityGroupPolicySet is a group's policies as described. Version is a
// string of an integer; both directions are always lists.
type SecurityGroupPolicySet struct {
	Version          string                `json:"Version"`
	Egress           []SecurityGroupPolicy `json:"Egress"`
	Ingress          []SecurityGroupPolicy `json:"Ingress"`
	PolicyStatistics PolicyStatistics      `json:"PolicyStatistics"`
}

// DescribeSecurityGroupPoliciesRequest is the request of
// DescribeSecurityGroupPolicies.
type DescribeSecurityGroupPoliciesRequest struct {
	SecurityGroupId *String  `json:"SecurityGroupId,omitzero"`
	Filters         []Filter `json:"Filters,omitzero"`
}

// DescribeSecurityGroupPoliciesResponse is the response of
// DescribeSecurityGroupPolicies.
type DescribeSecurityGroupPoliciesResponse struct {
	SecurityGroupPolicySet SecurityGroupPolicySet `json:"SecurityGroupPolicySet"`
	RequestId              string                 `json:"RequestId,omitempty"`
}

// PoliciesRequest is the request of the policy writes that name one
// direction of one group: CreateSecurityGroupPolicies,
// DeleteSecurityGroupPolicies and ReplaceSecurityGroupPolicy
// (ReplaceSecurityGroupPolicies has its own, with UpdateType).
// OriginalSecurityGroupPolicySet is accepted and, as in the cloud, only
// informative.
type PoliciesRequest struct {
	SecurityGroupId                *String                      `json:"SecurityGroupId,omitzero"`
	SecurityGroupPolicySet         *SecurityGroupPolicySetInput `json:"SecurityGroupPolicySet,omitzero"`
	OriginalSecurityGroupPolicySet *SecurityGroupPolicySetInput `json:"OriginalSecurityGroupPolicySet,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
	// Force (Palisade): write even a change that would cut the caller's
	// own SSH or remote desktop path to an instance (lockout protection).
	Force *Bool `json:"Force,omitzero"`
	// ConfirmWithin (Palisade, seconds, at most 86400): restore the
	// previous version unless ConfirmSecurityGroupChange confirms this
	// one in time.
	ConfirmWithin *Int `json:"ConfirmWithin,omitzero"`
}

// CreateSecurityGroupPoliciesRequest is the request of
// CreateSecurityGroupPolicies.
type CreateSecurityGroupPoliciesRequest PoliciesRequest

// DeleteSecurityGroupPoliciesRequest is the request of
// DeleteSecurityGroupPolicies: policies by PolicyIndex or by content, one
// mode per request.
type DeleteSecurityGroupPoliciesRequest PoliciesRequest

// ReplaceSecurityGroupPolicyRequest is the request of
// ReplaceSecurityGroupPolicy.
type ReplaceSecurityGroupPolicyRequest PoliciesRequest

// ReplaceSecurityGroupPoliciesRequest is the request of
// ReplaceSecurityGroupPolicies. UpdateType is "Policy" (the default: the
// content of the policies at the indexes given), "Priority" (positions
// only) or "Both"; for the last two, OriginalSecurityGroupPolicySet names,
// in the same order and number, the policies moved to the PolicyIndexes of
// SecurityGroupPolicySet.
type ReplaceSecurityGroupPoliciesRequest struct {
	SecurityGroupId                *String                      `json:"SecurityGroupId,omitzero"`
	SecurityGroupPolicySet         *SecurityGroupPolicySetInput `json:"SecurityGroupPolicySet,omitzero"`
	OriginalSecurityGroupPolicySet *SecurityGroupPolicySetInput `json:"OriginalSecurityGroupPolicySet,omitzero"`
	UpdateType                     *String                      `json:"UpdateType,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
	// Force (Palisade): write even a change that would cut the caller's
	// own SSH or remote desktop path to an instance (lockout protection).
	Force *Bool `json:"Force,omitzero"`
	// ConfirmWithin (Palisade, seconds, at most 86400): restore the
	// previous version unless ConfirmSecurityGroupChange confirms this
	// one in time.
	ConfirmWithin *Int `json:"ConfirmWithin,omitzero"`
}

// ModifySecurityGroupPoliciesRequest is the request of
// ModifySecurityGroupPolicies: a direction that is absent or empty is left
// as it is; Version "0" clears both. OriginalSecurityGroupPolicySet is
// accepted and ignored.
type ModifySecurityGroupPoliciesRequest struct {
	SecurityGroupId                *String                      `json:"SecurityGroupId,omitzero"`
	SecurityGroupPolicySet         *SecurityGroupPolicySetInput `json:"SecurityGroupPolicySet,omitzero"`
	OriginalSecurityGroupPolicySet *SecurityGroupPolicySetInput `json:"OriginalSecurityGroupPolicySet,omitzero"`
	SortPolicys                    *Bool                        `json:"SortPolicys,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
	// Force (Palisade): write even a change that would cut the caller's
	// own SSH or remote desktop path to an instance (lockout protection).
	Force *Bool `json:"Force,omitzero"`
	// ConfirmWithin (Palisade, seconds, at most 86400): restore the
	// previous version unless ConfirmSecurityGroupChange confirms this
	// one in time.
	ConfirmWithin *Int `json:"ConfirmWithin,omitzero"`
}

// PolicyWriteResponse is the response of a policy write. Version and
// Warnings are Palisade extensions: the group's new Version and the
// warnings of the policies written (always a list).
type PolicyWriteResponse struct {
	Version  string    `json:"Version"`
	Warnings []Warning `json:"Warnings"`
	// ConfirmBy (Palisade), for a write with ConfirmWithin: the time by
	// which ConfirmSecurityGroupChange must confirm Version, or the
	// previous version is restored.
	ConfirmBy string `json:"ConfirmBy,omitempty"`
	RequestId string `json:"RequestId,omitempty"`
}

// CreateSecurityGroupPoliciesResponse is the response of
// CreateSecurityGroupPolicies.
type CreateSecurityGroupPoliciesResponse PolicyWriteResponse

// DeleteSecurityGroupPoliciesResponse is the response of
// DeleteSecurityGroupPolicies.
type DeleteSecurityGroupPoliciesResponse PolicyWriteResponse

// ReplaceSecurityGroupPolicyResponse is the response of
// ReplaceSecurityGroupPolicy.
type ReplaceSecurityGroupPolicyResponse PolicyWriteResponse

// ReplaceSecurityGroupPoliciesResponse is the response of
// ReplaceSecurityGroupPolicies.
type ReplaceSecurityGroupPoliciesResponse PolicyWriteResponse

// ModifySecurityGroupPoliciesResponse is the response of
// ModifySecurityGroupPolicies.
type ModifySecurityGroupPoliciesResponse PolicyWriteResponse
