package wire

// vpc parameter-template actions: address templates (ipm-) and their groups
// (ipmg-), service templates (ppm-) and their groups (ppmg-).

// TemplateQuery is the request of the four template listings. Offset and
// Limit are strings, as in every vpc action; NeedMemberInfo is accepted
// (it must be a boolean) and changes nothing.
type TemplateQuery struct {
	Filters        []Filter   `json:"Filters,omitzero"`
	Offset         *IntString `json:"Offset,omitzero"`
	Limit          *IntString `json:"Limit,omitzero"`
	NeedMemberInfo *Bool      `json:"NeedMemberInfo,omitzero"`
}

// AddressInfoInput is an address with a description, in a request.
type AddressInfoInput struct {
	Address     *String `json:"Address,omitzero"`
	Description *String `json:"Description,omitzero"`
}

// AddressInfo is an address with its description, in a response.
type AddressInfo struct {
	Address     string `json:"Address"`
	Description string `json:"Description"`
}

// AddressTemplate is the vpc AddressTemplate object: AddressSet lists the
// entries, AddressExtraSet the same entries with their descriptions.
type AddressTemplate struct {
	AddressTemplateName string        `json:"AddressTemplateName"`
	AddressTemplateId   string        `json:"AddressTemplateId"`
	AddressSet          []string      `json:"AddressSet"`
	CreatedTime         string        `json:"CreatedTime"`
	AddressExtraSet     []AddressInfo `json:"AddressExtraSet"`
	TagSet              []Tag         `json:"TagSet"`
}

// CreateAddressTemplateRequest is the request of CreateAddressTemplate:
// Addresses first, then AddressesExtra.
type CreateAddressTemplateRequest struct {
	AddressTemplateName *String            `json:"AddressTemplateName,omitzero"`
	Addresses           []String           `json:"Addresses,omitzero"`
	AddressesExtra      []AddressInfoInput `json:"AddressesExtra,omitzero"`
}

// CreateAddressTemplateResponse is the response of CreateAddressTemplate.
type CreateAddressTemplateResponse struct {
	AddressTemplate AddressTemplate `json:"AddressTemplate"`
	RequestId       string          `json:"RequestId,omitempty"`
}

// DescribeAddressTemplatesRequest is the request of
// DescribeAddressTemplates.
type DescribeAddressTemplatesRequest TemplateQuery

// DescribeAddressTemplatesResponse is the response of
// DescribeAddressTemplates: one page and the count before paging.
type DescribeAddressTemplatesResponse struct {
	AddressTemplateSet []AddressTemplate `json:"AddressTemplateSet"`
	TotalCount         uint64            `json:"TotalCount"`
	RequestId          string            `json:"RequestId,omitempty"`
}

// ModifyAddressTemplateAttributeRequest is the request of
// ModifyAddressTemplateAttribute; absent fields are left as they are, and
// entries given replace all entries.
type ModifyAddressTemplateAttributeRequest struct {
	AddressTemplateId   *String            `json:"AddressTemplateId,omitzero"`
	AddressTemplateName *String            `json:"AddressTemplateName,omitzero"`
	Addresses           []String           `json:"Addresses,omitzero"`
	AddressesExtra      []AddressInfoInput `json:"AddressesExtra,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
}

// ModifyAddressTemplateAttributeResponse is the response of
// ModifyAddressTemplateAttribute.
type ModifyAddressTemplateAttributeResponse EmptyResponse

// DeleteAddressTemplateRequest is the request of DeleteAddressTemplate.
type DeleteAddressTemplateRequest struct {
	AddressTemplateId *String `json:"AddressTemplateId,omitzero"`
}

// DeleteAddressTemplateResponse is the response of DeleteAddressTemplate.
type DeleteAddressTemplateResponse EmptyResponse

// AddressTemplateItem is a member of an address template group.
type AddressTemplateItem struct {
	AddressTemplateId   string `json:"AddressTemplateId"`
	AddressTemplateName string `json:"AddressTemplateName"`
	From                string `json:"From"`
	To                  string `json:"To"`
}

// AddressTemplateGroup is the vpc AddressTemplateGroup object.
type AddressTemplateGroup struct {
	AddressTemplateGroupName string                `json:"AddressTemplateGroupName"`
	AddressTemplateGroupId   string                `json:"AddressTemplateGroupId"`
	AddressTemplateIdSet     []string              `json:"AddressTemplateIdSet"`
	CreatedTime              string                `json:"CreatedTime"`
	AddressTemplateSet       []AddressTemplateItem `json:"AddressTemplateSet"`
	TagSet                   []Tag                 `json:"TagSet"`
}

// CreateAddressTemplateGroupRequest is the request of
// CreateAddressTemplateGroup.
type CreateAddressTemplateGroupRequest struct {
	AddressTemplateGroupName *String  `json:"AddressTemplateGroupName,omitzero"`
	AddressTemplateIds       []String `json:"AddressTemplateIds,omitzero"`
}

// CreateAddressTemplateGroupResponse is the response of
// CreateAddressTemplateGroup.
type CreateAddressTemplateGroupResponse struct {
	AddressTemplateGroup AddressTemplateGroup `json:"AddressTemplateGroup"`
	RequestId            string               `json:"RequestId,omitempty"`
}

// DescribeAddressTemplateGroupsRequest is the request of
// DescribeAddressTemplateGroups.
type DescribeAddressTemplateGroupsRequest TemplateQuery

// DescribeAddressTemplateGroupsResponse is the response of
// DescribeAddressTemplateGroups.
type DescribeAddressTemplateGroupsResponse struct {
	AddressTemplateGroupSet []AddressTemplateGroup `json:"AddressTemplateGroupSet"`
	TotalCount              uint64                 `json:"TotalCount"`
	RequestId               string                 `json:"RequestId,omitempty"`
}

// ModifyAddressTemplateGroupAttributeRequest is the request of
// ModifyAddressTemplateGroupAttribute.
type ModifyAddressTemplateGroupAttributeRequest struct {
	AddressTemplateGroupId   *String  `json:"AddressTemplateGroupId,omitzero"`
	AddressTemplateGroupName *String  `json:"AddressTemplateGroupName,omitzero"`
	AddressTemplateIds       []String `json:"AddressTemplateIds,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
}

// ModifyAddressTemplateGroupAttributeResponse is the response of
// ModifyAddressTemplateGroupAttribute.
type ModifyAddressTemplateGroupAttributeResponse EmptyResponse

// DeleteAddressTemplateGroupRequest is the request of
// DeleteAddressTemplateGroup.
type DeleteAddressTemplateGroupRequest struct {
	AddressTemplateGroupId *String `json:"AddressTemplateGroupId,omitzero"`
}

// DeleteAddressTemplateGroupResponse is the response of
// DeleteAddressTemplateGroup.
type DeleteAddressTemplateGroupResponse EmptyResponse

// ServiceInfoInput is a service ("tcp:80", "udp:53-54") with a
// description, in a request.
type ServiceInfoInput struct {
	Service     *String `json:"Service,omitzero"`
	Description *String `json:"Description,omitzero"`
}

// ServiceInfo is a service with its description, in a response.
type ServiceInfo struct {
	Service     string `json:"Service"`
	Description string `json:"Description"`
}

// ServiceTemplate is the vpc ServiceTemplate object.
type ServiceTemplate struct {
	ServiceTemplateId   string        `json:"ServiceTemplateId"`
	ServiceTemplateName string        `json:"ServiceTemplateName"`
	ServiceSet          []string      `json:"ServiceSet"`
	CreatedTime         string        `json:"CreatedTime"`
	ServiceExtraSet     []ServiceInfo `json:"ServiceExtraSet"`
	TagSet              []Tag         `json:"TagSet"`
}

// CreateServiceTemplateRequest is the request of CreateServiceTemplate:
// Services first, then ServicesExtra.
type CreateServiceTemplateRequest struct {
	ServiceTemplateName *String            `json:"ServiceTemplateName,omitzero"`
	Services            []String           `json:"Services,omitzero"`
	ServicesExtra       []ServiceInfoInput `json:"ServicesExtra,omitzero"`
}

// CreateServiceTemplateResponse is the response of CreateServiceTemplate.
type CreateServiceTemplateResponse struct {
	ServiceTemplate ServiceTemplate `json:"ServiceTemplate"`
	RequestId       string          `json:"RequestId,omitempty"`
}

// DescribeServiceTemplatesRequest is the request of
// DescribeServiceTemplates.
type DescribeServiceTemplatesRequest TemplateQuery

// DescribeServiceTemplatesResponse is the response of
// DescribeServiceTemplates.
type DescribeServiceTemplatesResponse struct {
	ServiceTemplateSet []ServiceTemplate `json:"ServiceTemplateSet"`
	TotalCount         uint64            `json:"TotalCount"`
	RequestId          string            `json:"RequestId,omitempty"`
}

// ModifyServiceTemplateAttributeRequest is the request of
// ModifyServiceTemplateAttribute.
type ModifyServiceTemplateAttributeRequest struct {
	ServiceTemplateId   *String            `json:"ServiceTemplateId,omitzero"`
	ServiceTemplateName *String            `json:"ServiceTemplateName,omitzero"`
	Services            []String           `json:"Services,omitzero"`
	ServicesExtra       []ServiceInfoInput `json:"ServicesExtra,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
}

// ModifyServiceTemplateAttributeResponse is the response of
// ModifyServiceTemplateAttribute.
type ModifyServiceTemplateAttributeResponse EmptyResponse

// DeleteServiceTemplateRequest is the request of DeleteServiceTemplate.
type DeleteServiceTemplateRequest struct {
	ServiceTemplateId *String `json:"ServiceTemplateId,omitzero"`
}

// DeleteServiceTemplateResponse is the response of DeleteServiceTemplate.
type DeleteServiceTemplateResponse EmptyResponse

// ServiceTemplateGroup is the vpc ServiceTemplateGroup object; its members
// are listed in full.
type ServiceTemplateGroup struct {
	ServiceTemplateGroupId   string            `json:"ServiceTemplateGroupId"`
	ServiceTemplateGroupName string            `json:"ServiceTemplateGroupName"`
	ServiceTemplateIdSet     []string          `json:"ServiceTemplateIdSet"`
	CreatedTime              string            `json:"CreatedTime"`
	ServiceTemplateSet       []ServiceTemplate `json:"ServiceTemplateSet"`
	TagSet                   []Tag             `json:"TagSet"`
}

// CreateServiceTemplateGroupRequest is the request of
// CreateServiceTemplateGroup.
type CreateServiceTemplateGroupRequest struct {
	ServiceTemplateGroupName *String  `json:"ServiceTemplateGroupName,omitzero"`
	ServiceTemplateIds       []String `json:"ServiceTemplateIds,omitzero"`
}

// CreateServiceTemplateGroupResponse is the response of
// CreateServiceTemplateGroup.
type CreateServiceTemplateGroupResponse struct {
	ServiceTemplateGroup ServiceTemplateGroup `json:"ServiceTemplateGroup"`
	RequestId            string               `json:"RequestId,omitempty"`
}

// DescribeServiceTemplateGroupsRequest is the request of
// DescribeServiceTemplateGroups.
type DescribeServiceTemplateGroupsRequest TemplateQuery

// DescribeServiceTemplateGroupsResponse is the response of
// DescribeServiceTemplateGroups.
type DescribeServiceTemplateGroupsResponse struct {
	ServiceTemplateGroupSet []ServiceTemplateGroup `json:"ServiceTemplateGroupSet"`
	TotalCount              uint64                 `json:"TotalCount"`
	RequestId               string                 `json:"RequestId,omitempty"`
}

// ModifyServiceTemplateGroupAttributeRequest is the request of
// ModifyServiceTemplateGroupAttribute.
type ModifyServiceTemplateGroupAttributeRequest struct {
	ServiceTemplateGroupId   *String  `json:"ServiceTemplateGroupId,omitzero"`
	ServiceTemplateGroupName *String  `json:"ServiceTemplateGroupName,omitzero"`
	ServiceTemplateIds       []String `json:"ServiceTemplateIds,omitzero"`
	// WaitApplied (Palisade, seconds, at most 60): answer only once every
	// host the write affects has applied it (see docs/api.md).
	WaitApplied *Int `json:"WaitApplied,omitzero"`
	// FlushConnections (Palisade): cut the existing connections that the
	// new rules no longer admit; by default established connections live on.
	FlushConnections *Bool `json:"FlushConnections,omitzero"`
}

// ModifyServiceTemplateGroupAttributeResponse is the response of
// ModifyServiceTemplateGroupAttribute.
type ModifyServiceTemplateGroupAttributeResponse EmptyResponse

// DeleteServiceTemplateGroupRequest is the request of
// DeleteServiceTemplateGroup.
type DeleteServiceTemplateGroupRequest struct {
	ServiceTemplateGroupId *String `json:"ServiceTemplateGroupId,omitzero"`
}

// DeleteServiceTemplateGroupResponse is the response of
// DeleteServiceTemplateGroup.
type DeleteServiceTemplateGroupResponse EmptyResponse
