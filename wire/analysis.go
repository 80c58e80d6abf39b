package wire

// CheckReachabilityRequest is the request of CheckReachability: would the
// first packet of a connection from Source to Destination (each an
// instance id or an IP address outside Palisade) of Protocol (TCP, UDP,
// ICMP, ICMPv6 or GRE) and, for TCP and UDP, destination Port arrive? The
// guest firewalls, optional, are the text of iptables-save, ip6tables-save
// or nft list ruleset on each end.
type CheckReachabilityRequest struct {
	Source                   *String `json:"Source,omitzero"`
	Destination              *String `json:"Destination,omitzero"`
	Protocol                 *String `json:"Protocol,omitzero"`
	Port                     *Int    `json:"Port,omitzero"`
	SourceGuestFirewall      *String `json:"SourceGuestFirewall,omitzero"`
	DestinationGuestFirewall *String `json:"DestinationGuestFirewall,omitzero"`
}

// ReachabilityLeg is one leg of the path, in order: SOURCE_PROCESS,
// SOURCE_GUEST_FIREWALL, SOURCE_SECURITY_GROUP (an instance source only),
// DESTINATION_SECURITY_GROUP (an instance destination only),
// DESTINATION_GUEST_FIREWALL, DESTINATION_PROCESS. Verdict is ACCEPT, DROP,
// REJECT, UNCERTAIN or NOT_CHECKED. A group leg has Layer
// (PLATFORM, SECURITY_GROUP or DEFAULT), SecurityGroupId and PolicyIndex
// (when a group's policy decided) and Trace, as SimulateTraffic gives
// them; a guest firewall leg checked has the deciding line (GuestLine 0
// when a chain's policy decided, GuestText then naming it), the chains
// taken (GuestPath), and GuestNotes on the lines not understood or not
// settled. Notes say what the leg means for the answer.
type ReachabilityLeg struct {
	Kind            string   `json:"Kind"`
	Verdict         string   `json:"Verdict"`
	Layer           string   `json:"Layer,omitempty"`
	SecurityGroupId string   `json:"SecurityGroupId,omitempty"`
	PolicyIndex     *int     `json:"PolicyIndex,omitempty"`
	Trace           []string `json:"Trace,omitempty"`
	GuestLine       *int     `json:"GuestLine,omitempty"`
	GuestText       string   `json:"GuestText,omitempty"`
	GuestPath       []string `json:"GuestPath,omitempty"`
	GuestNotes      []string `json:"GuestNotes,omitempty"`
	Notes           []string `json:"Notes"`
}

// CheckReachabilityResponse is the response of CheckReachability: the
// Answer (REACHABLE, BLOCKED or UNCERTAIN), the first leg that blocks or
// may block the packet (BlockingLeg, "" when REACHABLE), the addresses
// checked, every leg and warnings (ISP-blocked ports, port 25).
type CheckReachabilityResponse struct {
	Answer      string            `json:"Answer"`
	BlockingLeg string            `json:"BlockingLeg"`
	Source      string            `json:"Source"`
	Destination string            `json:"Destination"`
	Legs        []ReachabilityLeg `json:"Legs"`
	Warnings    []string          `json:"Warnings"`
	RequestId   string            `json:"RequestId,omitempty"`
}

// PreviewSecurityGroupChangeRequest is the request of
// PreviewSecurityGroupChange: a group and the whole policy set proposed
// for it (both directions: an absent direction is proposed empty), or an
// instance and the groups proposed for it, in binding order.
type PreviewSecurityGroupChangeRequest struct {
	SecurityGroupId        *String                      `json:"SecurityGroupId,omitzero"`
	SecurityGroupPolicySet *SecurityGroupPolicySetInput `json:"SecurityGroupPolicySet,omitzero"`
	InstanceId             *String                      `json:"InstanceId,omitzero"`
	SecurityGroupIds       []String                     `json:"SecurityGroupIds,omitzero"`
}

// TrafficRegion is a box of packets a change admits anew or no longer
// admits: the protocols (Protocol: TCP, UDP, TCP,UDP, or the protocol
// numbers of other protocols as ranges, such as 0-5,7-16,18-255 for every
// protocol but TCP and UDP; ProtocolFrom and ProtocolTo the bounds), the
// destination ports (TCP and UDP only), the peer addresses AddressFrom to
// AddressTo (inclusive; Cidrs the same as prefixes), and the rule deciding
// it: for a gain the new rule that admits it, for a loss the rule that
// admitted it (SecurityGroupId and PolicyIndex, or Platform).
type TrafficRegion struct {
	Protocol        string   `json:"Protocol"`
	ProtocolFrom    int      `json:"ProtocolFrom"`
	ProtocolTo      int      `json:"ProtocolTo"`
	PortFrom        *int     `json:"PortFrom,omitempty"`
	PortTo          *int     `json:"PortTo,omitempty"`
	AddressFrom     string   `json:"AddressFrom"`
	AddressTo       string   `json:"AddressTo"`
	Cidrs           []string `json:"Cidrs"`
	SecurityGroupId string   `json:"SecurityGroupId"`
	PolicyIndex     *int     `json:"PolicyIndex,omitempty"`
	Platform        string   `json:"Platform"`
}

// InstanceTrafficChange is what a change does to one instance, per
// direction: the traffic gained and lost.
type InstanceTrafficChange struct {
	InstanceId    string          `json:"InstanceId"`
	IngressGains  []TrafficRegion `json:"IngressGains"`
	IngressLosses []TrafficRegion `json:"IngressLosses"`
	EgressGains   []TrafficRegion `json:"EgressGains"`
	EgressLosses  []TrafficRegion `json:"EgressLosses"`
}

// PreviewSecurityGroupChangeResponse is the response of
// PreviewSecurityGroupChange: every instance the change affects, with what
// it gains and loses, their number and how many of them are unchanged.
type PreviewSecurityGroupChangeResponse struct {
	InstanceSet    []InstanceTrafficChange `json:"InstanceSet"`
	TotalCount     uint64                  `json:"TotalCount"`
	UnchangedCount uint64                  `json:"UnchangedCount"`
	RequestId      string                  `json:"RequestId,omitempty"`
}

// ConfirmSecurityGroupChangeRequest is the request of
// ConfirmSecurityGroupChange: the group and the Version (a decimal
// integer, as a policy write's response gives it) of a policy write made
// with ConfirmWithin.
type ConfirmSecurityGroupChangeRequest struct {
	SecurityGroupId *String `json:"SecurityGroupId,omitzero"`
	Version         *String `json:"Version,omitzero"`
}

// ConfirmSecurityGroupChangeResponse is the response of
// ConfirmSecurityGroupChange: the group keeps the version confirmed.
type ConfirmSecurityGroupChangeResponse struct {
	SecurityGroupId string `json:"SecurityGroupId"`
	Version         string `json:"Version"`
	RequestId       string `json:"RequestId,omitempty"`
}
