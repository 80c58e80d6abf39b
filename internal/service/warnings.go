package service

import (
	"context"
	"fmt"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service/templates"
	"github.com/palisade-sg/palisade/internal/store"
)

// Warning codes (see analysis.PolicyWarnings).
const (
	WarningISPBlockedPort = analysis.WarningISPBlockedPort
	WarningPort25Blocked  = analysis.WarningPort25Blocked
	WarningExposedPort    = analysis.WarningExposedPort
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
			svcRefs = appendNew(svcRefs, id)
		}
	}
	svcs, err := templates.Services(ctx, tx, svcRefs)
	if err != nil {
		return nil, err
	}
	var out []Warning
	for _, w := range ws {
		p := set.List(w.dir)[w.index]
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
