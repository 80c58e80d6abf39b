// Package analysis explains what effective rule lists do: the advice given
// when a policy is written, and later the findings about groups and
// instances. It reads rules entries and the catalogue and does no I/O.
package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Warning is advice about a written policy; it never blocks the write.
type Warning struct {
	Code        string // WarningISPBlockedPort, WarningPort25Blocked, WarningExposedPort, WarningWidenedCIDR
	Direction   policy.Direction
	PolicyIndex int
	Message     string
}

// Warning codes.
const (
	WarningISPBlockedPort = "ISP_BLOCKED_PORT"
	WarningPort25Blocked  = "PORT25_BLOCKED"
	WarningExposedPort    = "EXPOSED_PORT"
	WarningWidenedCIDR    = "WIDENED_CIDR"
)

// PolicyWarnings returns the warnings about one written policy, given as
// its entry (rules.PolicyEntry, with its service template expanded; its
// addresses are read only for CIDR peers) and whether the account's
// outbound TCP 25 block is on. Each kind of warning is given at most once
// per policy:
//
//   - ISP_BLOCKED_PORT: a TCP or UDP service naming an ISP-blocked port. A
//     service with every port (TCP ALL, UDP ALL, protocol ALL) is not warned
//     about: it names no port in particular, and every such rule would warn.
//   - PORT25_BLOCKED: an ACCEPT admitting some of what a platform DROP rule
//     of the entry's direction drops (rules.Platform: outbound TCP 25 while
//     the account's block is on).
//   - WIDENED_CIDR: a CIDR peer written as a prefix of the unspecified
//     address (0.0.0.0/8, ::/16), which means the whole family.
//   - EXPOSED_PORT: an ingress ACCEPT from 0.0.0.0/0 or ::/0 admitting TCP
//     sensitive ports (protocol ALL admits every one), listed together.
func PolicyWarnings(e *rules.Entry, port25Blocked bool) ([]Warning, error) {
	d, index, p := e.Origin.Direction, e.Origin.PolicyIndex, e.Policy
	var out []Warning
	add := func(code, format string, args ...any) {
		out = append(out, Warning{Code: code, Direction: d, PolicyIndex: index,
			Message: fmt.Sprintf("%s policy %d (%s): ", d.Field(), index, p.Describe(d)) + fmt.Sprintf(format, args...)})
	}
	if written, ok := p.Peer.Widened(); ok {
		add(WarningWidenedCIDR, "%s was widened to %s: a prefix of the unspecified address is the whole address family, as in the cloud; write %s if that is meant, or the network you had in mind",
			written, p.Peer.Prefix, p.Peer.Prefix)
	}
	var isp []string
	for _, s := range e.Services {
		if s.Ports.All() {
			continue
		}
		var hit []string
		for _, port := range catalog.ISPBlocked(s.Protocol) {
			if s.Ports.Contains(port) {
				hit = append(hit, fmt.Sprint(port))
			}
		}
		if text := fmt.Sprintf("%s port %s", s.Protocol, strings.Join(hit, ",")); len(hit) > 0 && !slices.Contains(isp, text) {
			isp = append(isp, text)
		}
	}
	if len(isp) > 0 {
		verb := "is"
		if len(isp) > 1 {
			verb = "are"
		}
		add(WarningISPBlockedPort, "%s %s commonly blocked by ISPs; avoid using it", strings.Join(isp, " and "), verb)
	}
	if e.Action == policy.Accept {
		platform, err := rules.Platform(d, port25Blocked, nil)
		if err != nil {
			return nil, fmt.Errorf("platform rules: %w", err)
		}
		for i := range platform {
			pe := &platform[i]
			if pe.Action == policy.Drop && pe.Origin.Platform == rules.PlatformPort25 && overlaps(e.Services, pe.Services) {
				add(WarningPort25Blocked, "%s is blocked by the platform for this account until UnblockPort25; the policy has no effect on it", rules.Port25Rule())
			}
		}
	}
	if d == policy.Ingress && e.Action == policy.Accept && e.Source.Kind == rules.SourceCIDR && e.Anywhere() {
		var hit []string
		for _, port := range catalog.SensitivePorts() {
			tcp := rules.Service{Protocol: policy.TCP, Ports: policy.Ports(policy.PortRange{Lo: port, Hi: port})}
			if overlaps(e.Services, []rules.Service{tcp}) {
				hit = append(hit, fmt.Sprint(port))
			}
		}
		if len(hit) > 0 {
			add(WarningExposedPort, "opens sensitive port(s) %s to the whole Internet (%s); restrict the source if you can", strings.Join(hit, ","), p.Peer)
		}
	}
	return out, nil
}

// overlaps reports whether a service of a overlaps one of b.
func overlaps(a, b []rules.Service) bool {
	for _, s := range a {
		for _, t := range b {
			if s.Overlaps(t) {
				return true
			}
		}
	}
	return false
}
