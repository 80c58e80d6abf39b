package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/analysis"
	"github.com/palisade-sg/palisade/internal/policy"
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
			svcRefs = appendNew(svcRefs, id)
		}
	}
	svcs, err := serviceTemplates(ctx, tx, svcRefs)
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

// serviceTemplates reads service templates and service template groups, in
// one read, and expands each to its services. A stored entry that does not
// parse, or a template that does not exist, is a KindUnresolvable error.
func serviceTemplates(ctx context.Context, tx store.Tx, ids []string) (map[string][]rules.Service, error) {
	unresolvable := func(id, format string, args ...any) error {
		return &Error{Kind: KindUnresolvable, Resource: ResourceServiceTemplate, ID: id, Message: fmt.Sprintf(format, args...)}
	}
	out := make(map[string][]rules.Service, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	list, err := tx.ResolveTemplates(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*store.Template, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	// add appends the services of template t to those of id.
	add := func(id string, t *store.Template) error {
		for _, e := range t.Entries {
			se, err := policy.ParseServiceEntry(e.Value)
			if err != nil {
				return unresolvable(t.ID, "stored entry %q of service template %s does not parse: %v", e.Value, t.ID, err)
			}
			out[id] = append(out[id], rules.Service{Protocol: se.Protocol, Ports: se.Ports})
		}
		return nil
	}
	for _, id := range ids {
		t := byID[id]
		if t == nil {
			return nil, unresolvable(id, "service template %s does not exist", id)
		}
		if !strings.HasPrefix(id, policy.PrefixServiceTemplateGroup) {
			if err := add(id, t); err != nil {
				return nil, err
			}
			continue
		}
		for _, m := range t.Entries {
			mt := byID[m.Value]
			if mt == nil {
				return nil, unresolvable(m.Value, "member %s of service template group %s does not exist", m.Value, id)
			}
			if err := add(id, mt); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
