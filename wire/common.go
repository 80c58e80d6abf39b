package wire

// Filter is one filter of a Describe… request: different filters are ANDed,
// the values of one filter ORed; booleans go as "TRUE"/"FALSE".
type Filter struct {
	Name   *String  `json:"Name,omitzero"`
	Values []String `json:"Values,omitzero"`
}

// TagInput is a tag of a request.
type TagInput struct {
	Key   *String `json:"Key,omitzero"`
	Value *String `json:"Value,omitzero"`
}

// Tag is a tag of a response.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Warning is one warning of a write (a Palisade extension: the SDK ignores
// fields it does not know): a policy opening a sensitive port to the whole
// Internet, outbound TCP 25 while the account's block is on, a port ISPs
// commonly block.
type Warning struct {
	Code        string `json:"Code"`
	Direction   string `json:"Direction"` // INGRESS, EGRESS or ""
	PolicyIndex int    `json:"PolicyIndex"`
	Message     string `json:"Message"`
}

// EmptyResponse is the response of an action that answers nothing but its
// RequestId.
type EmptyResponse struct {
	RequestId string `json:"RequestId,omitempty"`
}
