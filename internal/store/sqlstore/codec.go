package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// storedPolicy is a policy as stored: its text fields and modify time.
type storedPolicy struct {
	Protocol       string `json:"proto,omitempty"`
	Port           string `json:"port,omitempty"`
	CidrBlock      string `json:"cidr,omitempty"`
	Ipv6CidrBlock  string `json:"cidr6,omitempty"`
	SecurityGroup  string `json:"sg,omitempty"`
	AddressID      string `json:"ipm,omitempty"`
	AddressGroupID string `json:"ipmg,omitempty"`
	ServiceID      string `json:"ppm,omitempty"`
	ServiceGroupID string `json:"ppmg,omitempty"`
	Action         string `json:"action"`
	Description    string `json:"desc,omitempty"`
	ModifyTime     int64  `json:"mtime,omitempty"`
	Disabled       bool   `json:"off,omitempty"`
	ExpiresAt      int64  `json:"exp,omitempty"`
}

func encodePolicies(ps []policy.Policy) (string, error) {
	out := make([]storedPolicy, len(ps))
	for i, p := range ps {
		r := p.Raw()
		out[i] = storedPolicy{
			Protocol: r.Protocol, Port: r.Port, CidrBlock: r.CidrBlock, Ipv6CidrBlock: r.Ipv6CidrBlock,
			SecurityGroup: r.SecurityGroupId, AddressID: r.AddressId, AddressGroupID: r.AddressGroupId,
			ServiceID: r.ServiceId, ServiceGroupID: r.ServiceGroupId, Action: r.Action,
			Description: r.PolicyDescription, ModifyTime: toMicros(p.ModifyTime),
			Disabled: p.Disabled, ExpiresAt: toMicros(p.ExpiresAt),
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode policies: %w", err)
	}
	return string(b), nil
}

func decodePolicies(s string) ([]policy.Policy, error) {
	var in []storedPolicy
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode policies: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]policy.Policy, len(in))
	for i, sp := range in {
		p, err := policy.ParseRaw(policy.Raw{
			Protocol: sp.Protocol, Port: sp.Port, CidrBlock: sp.CidrBlock, Ipv6CidrBlock: sp.Ipv6CidrBlock,
			SecurityGroupId: sp.SecurityGroup, AddressId: sp.AddressID, AddressGroupId: sp.AddressGroupID,
			ServiceId: sp.ServiceID, ServiceGroupId: sp.ServiceGroupID, Action: sp.Action,
			PolicyDescription: sp.Description,
		})
		if err != nil {
			return nil, fmt.Errorf("decode policy %d: %w", i, err)
		}
		p.ModifyTime = fromMicros(sp.ModifyTime)
		p.Disabled, p.ExpiresAt = sp.Disabled, fromMicros(sp.ExpiresAt)
		out[i] = p
	}
	return out, nil
}

// policyRefs returns the distinct ids a policy set refers to.
func policyRefs(s policy.PolicySet) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, ps := range [][]policy.Policy{s.Ingress, s.Egress} {
		for _, p := range ps {
			if p.Peer.IsReference() {
				add(p.Peer.ID)
			}
			add(p.ServiceID)
		}
	}
	return out
}

func encodeEntries(es []store.TemplateEntry) (string, error) {
	type entry struct {
		V string `json:"v"`
		D string `json:"d,omitempty"`
	}
	out := make([]entry, len(es))
	for i, e := range es {
		out[i] = entry{e.Value, e.Description}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode entries: %w", err)
	}
	return string(b), nil
}

func decodeEntries(s string) ([]store.TemplateEntry, error) {
	var in []struct {
		V string `json:"v"`
		D string `json:"d"`
	}
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode entries: %w", err)
	}
	out := make([]store.TemplateEntry, len(in))
	for i, e := range in {
		out[i] = store.TemplateEntry{Value: e.V, Description: e.D}
	}
	return out, nil
}

func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func joinList(ss []string) string { return strings.Join(ss, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func placeholders(n int) string {
	if n == 0 {
		return "(NULL)"
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
