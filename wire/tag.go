package wire

// tag actions (API version 2018-08-13) on security groups: Terraform's
// tencentcloud provider reads and writes a security group's tags through
// the tag service. A resource is named by its six-segment description,
// qcs::cvm:REGION:uin/ACCOUNT:sg/sg-xxxxxxxx (the account segment may be
// empty), or by ServiceType "cvm", ResourcePrefix "sg", ResourceRegion and
// its id.

// TagKeyValueInput is a tag of a tag-service request.
type TagKeyValueInput struct {
	TagKey   *String `json:"TagKey,omitzero"`
	TagValue *String `json:"TagValue,omitzero"`
}

// TagKeyInput names a tag key in a tag-service request.
type TagKeyInput struct {
	TagKey *String `json:"TagKey,omitzero"`
}

// DescribeResourceTagsByResourceIdsRequest is the request of
// DescribeResourceTagsByResourceIds. Offset and Limit are JSON numbers, as
// the tag SDK sends them.
type DescribeResourceTagsByResourceIdsRequest struct {
	ServiceType    *String  `json:"ServiceType,omitzero"`
	ResourcePrefix *String  `json:"ResourcePrefix,omitzero"`
	ResourceIds    []String `json:"ResourceIds,omitzero"`
	ResourceRegion *String  `json:"ResourceRegion,omitzero"`
	Offset         *Int     `json:"Offset,omitzero"`
	Limit          *Int     `json:"Limit,omitzero"`
}

// TagResource is one tag of one resource.
type TagResource struct {
	TagKey      string `json:"TagKey"`
	TagValue    string `json:"TagValue"`
	ResourceId  string `json:"ResourceId"`
	TagKeyMd5   string `json:"TagKeyMd5"`
	TagValueMd5 string `json:"TagValueMd5"`
	ServiceType string `json:"ServiceType"`
}

// DescribeResourceTagsByResourceIdsResponse is the response of
// DescribeResourceTagsByResourceIds: one page of the resources' tags, in
// the order of ResourceIds and, for one resource, of its tags; TotalCount
// counts the tags before paging. A resource that is not the caller's (or
// not in ResourceRegion) has no tags here.
type DescribeResourceTagsByResourceIdsResponse struct {
	TotalCount uint64        `json:"TotalCount"`
	Offset     uint64        `json:"Offset"`
	Limit      uint64        `json:"Limit"`
	Tags       []TagResource `json:"Tags"`
	RequestId  string        `json:"RequestId,omitempty"`
}

// ModifyResourceTagsRequest is the request of ModifyResourceTags: on the
// resource Resource names, ReplaceTags adds or sets tags and DeleteTags
// removes keys. At least one is given, neither is an empty list, and no key
// is in both.
type ModifyResourceTagsRequest struct {
	Resource    *String            `json:"Resource,omitzero"`
	ReplaceTags []TagKeyValueInput `json:"ReplaceTags,omitzero"`
	DeleteTags  []TagKeyInput      `json:"DeleteTags,omitzero"`
}

// ModifyResourceTagsResponse is the response of ModifyResourceTags.
type ModifyResourceTagsResponse EmptyResponse
