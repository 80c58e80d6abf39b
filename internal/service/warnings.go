package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// ispBlockedPorts returns the ports ISPs commonly block (seed point 5).
func ispBlockedPorts(p policy.Protocol) []uint16 {
	switch p {
	case policy.TCP:
		return []uint16{42, 135, 137, 138, 139, 445, 593, 1025, 1434, 1068, 3127, 3128, 3129, 3130, 4444, 5554, 9996}
	case policy.UDP:
		return []uint16{1026, 1027, 1434, 1068, 5554, 9996, 1028, 1433, 135, 136, 137, 138, 139}
	}
	return nil
}

// sensitivePorts are login, database and cache ports that should not be open
// to the whole Internet.
func sensitivePorts() []uint16 {
	return []uint16{22, 3389, 3306, 1433, 6379, 5432, 27017, 9200, 11211, 23, 445}
}

func isAnywhere(p policy.Peer) bool {
	return (p.Kind == policy.PeerCIDR || p.Kind == policy.PeerCIDR6) && p.Prefix.Bits() == 0
}

// warningsFor returns the warnings about one policy.
func warningsFor(d policy.Direction, index int, p policy.Policy, port25Blocked bool) []Warning {
	if p.ServiceID != "" {
		return nil
	}
	var out []Warning
	add := func(code, format string, args ...any) {
		out = append(out, Warning{Code: code, Direction: d, PolicyIndex: index,
			Message: fmt.Sprintf("%s policy %d (%s): ", d.Field(), index, p.Describe(d)) + fmt.Sprintf(format, args...)})
	}
	if !p.Ports.All() {
		var hit []string
		for _, port := range ispBlockedPorts(p.Protocol) {
			if p.Ports.Contains(port) {
				hit = append(hit, fmt.Sprint(port))
			}
		}
		if len(hit) > 0 {
			add(WarningISPBlockedPort, "%s port %s is commonly blocked by ISPs; avoid using it", p.Protocol, strings.Join(hit, ","))
		}
	}
	if d == policy.Egress && port25Blocked && p.Action == policy.Accept && p.Protocol == policy.TCP && !p.Ports.All() && p.Ports.Contains(25) {
		add(WarningPort25Blocked, "outbound TCP 25 is blocked by the platform for this account until UnblockPort25; the policy has no effect on it")
	}
	if d == policy.Ingress && p.Action == policy.Accept && isAnywhere(p.Peer) && (p.Protocol == policy.TCP || p.Protocol == policy.AnyProtocol) {
		var hit []string
		for _, port := range sensitivePorts() {
			if p.Ports.Contains(port) {
				hit = append(hit, fmt.Sprint(port))
			}
		}
		if len(hit) > 0 {
			add(WarningExposedPort, "opens sensitive port(s) %s to the whole Internet (%s); restrict the source if you can", strings.Join(hit, ","), p.Peer)
		}
	}
	return out
}

// policyWarnings returns the warnings about the written policies.
func (s *Service) policyWarnings(ctx context.Context, tx store.Tx, accountID string, set policy.PolicySet, ws []written) ([]Warning, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	blocked := false
	for _, w := range ws {
		if w.dir == policy.Egress {
			a, err := tx.GetAccount(ctx, accountID)
			if err != nil {
				return nil, err
			}
			blocked = !a.Port25Unblocked
			break
		}
	}
	var out []Warning
	for _, w := range ws {
		out = append(out, warningsFor(w.dir, w.index, set.List(w.dir)[w.index], blocked)...)
	}
	return out, nil
}
