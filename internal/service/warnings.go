package service

import (
	"context"
	"fmt"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"strings"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
)

// Warning codes (see analysis.PolicyWarnings).
const (
	WarningISPBlockedPort = analysis.WarningISPBlockedPort
	WarningPort25Blocked  = analysis.WarningPort25Blocked
	WarningExposedPort    = analysis.WarningExposedPort
	WarningWidenedCIDR    = analysis.WarningWidenedCIDR
)

// written locates a policy a write created or replaced.
type written struct {
	dir   policy.Direction
	index int
}

// policyWarnings returns the warnings about the written policies. The
// service templates they use are read in tx, in one read, so that a
// template policy is checked against the template's entries as they are
// now (a later edit of the template is not warned about). A template entry
// that does not parse is an error.
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
			svcRefs = kernel.AppendNew(svcRefs, id)
		}
	}
	svcs, err := serviceTemplates(ctx, tx, svcRefs)
	if err != nil {
		return nil, err
	}
	var out []Warning
	for _, w := range ws {
		p := &set.List(w.dir)[w.index]
		e, err := rules.PolicyEntry(w.dir, "", w.index, p, svcs[p.ServiceID], rules.Addresses{Source: rules.PeerSource(p.Peer)})
		if err != nil {
			return nil, fmt.Errorf("%s policy %d: %w", w.dir.Field(), w.index, err)
		}
		ws, err := analysis.PolicyWarnings(&e, blocked)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

// serviceTemplates expands service templates and service template groups,
// in one read, through resolve (the expansion the effective lists use). A
// template that does not resolve is a KindUnresolvable error naming it.
func serviceTemplates(ctx context.Context, tx store.Tx, ids []string) (map[string][]rules.Service, error) {
	out, problems, err := resolve.ServiceTemplates(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		msgs := make([]string, 0, min(len(problems), maxProblems))
		for _, p := range problems[:min(len(problems), maxProblems)] {
			msgs = append(msgs, p.Error())
		}
		if n := len(problems) - len(msgs); n > 0 {
			msgs = append(msgs, fmt.Sprintf("and %d more", n))
		}
		return nil, &Error{Kind: KindUnresolvable, Resource: ResourceServiceTemplate, Message: "service templates do not resolve: " + strings.Join(msgs, "; ")}
	}
	return out, nil
}
