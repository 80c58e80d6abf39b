package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/eval"
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

// coversTCP reports whether a protocol and its ports admit TCP port.
func coversTCP(s eval.Service, port uint16) bool {
	return s.Protocol == policy.AnyProtocol || s.Protocol == policy.TCP && s.Ports.Contains(port)
}

// warningsFor returns the warnings about one policy, whose protocols and
// ports are svcs: its own Protocol and Ports, or the entries of its service
// template (group). Each kind of warning is given at most once per policy:
//
//   - ISP_BLOCKED_PORT: a TCP or UDP entry naming an ISP-blocked port. An
//     entry with every port (TCP ALL, UDP ALL, protocol ALL) is not warned
//     about: it names no port in particular, and every such rule would warn.
//   - PORT25_BLOCKED: an egress ACCEPT admitting TCP 25 (TCP with 25 in its
//     ports, TCP ALL, protocol ALL) while the account's block is on.
//   - EXPOSED_PORT: an ingress ACCEPT from 0.0.0.0/0 or ::/0 admitting TCP
//     sensitive ports (protocol ALL admits every one), listed together.
func warningsFor(d policy.Direction, index int, p policy.Policy, svcs []eval.Service, port25Blocked bool) []Warning {
	var out []Warning
	add := func(code, format string, args ...any) {
		out = append(out, Warning{Code: code, Direction: d, PolicyIndex: index,
			Message: fmt.Sprintf("%s policy %d (%s): ", d.Field(), index, p.Describe(d)) + fmt.Sprintf(format, args...)})
	}
	var isp []string
	for _, s := range svcs {
		if s.Ports.All() {
			continue
		}
		var hit []string
		for _, port := range ispBlockedPorts(s.Protocol) {
			if s.Ports.Contains(port) {
				hit = append(hit, fmt.Sprint(port))
			}
		}
		if len(hit) > 0 {
			isp = appendNew(isp, fmt.Sprintf("%s port %s", s.Protocol, strings.Join(hit, ",")))
		}
	}
	if len(isp) > 0 {
		verb := "is"
		if len(isp) > 1 {
			verb = "are"
		}
		add(WarningISPBlockedPort, "%s %s commonly blocked by ISPs; avoid using it", strings.Join(isp, " and "), verb)
	}
	if d == policy.Egress && port25Blocked && p.Action == policy.Accept &&
		slices.ContainsFunc(svcs, func(s eval.Service) bool { return coversTCP(s, 25) }) {
		add(WarningPort25Blocked, "outbound TCP 25 is blocked by the platform for this account until UnblockPort25; the policy has no effect on it")
	}
	if d == policy.Ingress && p.Action == policy.Accept && isAnywhere(p.Peer) {
		var hit []string
		for _, port := range sensitivePorts() {
			if slices.ContainsFunc(svcs, func(s eval.Service) bool { return coversTCP(s, port) }) {
				hit = append(hit, fmt.Sprint(port))
			}
		}
		if len(hit) > 0 {
			add(WarningExposedPort, "opens sensitive port(s) %s to the whole Internet (%s); restrict the source if you can", strings.Join(hit, ","), p.Peer)
		}
	}
	return out
}

// policyWarnings returns the warnings about the written policies. The
// service templates they use are resolved in tx, in one read, so that a
// template policy is checked against the template's entries as they are
// now (a later edit of the template is not warned about).
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
	var svcRefs []string
	for _, w := range ws {
		if id := set.List(w.dir)[w.index].ServiceID; id != "" {
			svcRefs = appendNew(svcRefs, id)
		}
	}
	r := resolution{services: map[string][]eval.Service{}}
	if err := r.templates(ctx, tx, nil, svcRefs, &simDeps{}); err != nil {
		return nil, err
	}
	var out []Warning
	for _, w := range ws {
		p := set.List(w.dir)[w.index]
		svcs := []eval.Service{{Protocol: p.Protocol, Ports: p.Ports}}
		if p.ServiceID != "" {
			svcs = r.services[p.ServiceID]
		}
		out = append(out, warningsFor(w.dir, w.index, p, svcs, blocked)...)
	}
	return out, nil
}
