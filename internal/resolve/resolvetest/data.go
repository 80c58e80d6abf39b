// Package resolvetest holds an instance's stored data in memory, for
// tests: it is a resolve.Reader, and it gives the same data to the
// reference evaluator.
package resolvetest

import (
	"context"
	"slices"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/reference"
	"github.com/palisade-sg/palisade/internal/store"
)

// Data is one instance's stored data: its account, itself (GroupIDs are
// its bindings, in order), the policy sets of the groups, the bindings of
// the groups its groups reference, the templates and the platform
// addresses. Reads counts the reads made through it. Now is the time the
// reference decides at (resolve is given it too).
type Data struct {
	Now       time.Time
	Account   store.Account
	Instance  store.Instance
	Groups    map[string]policy.PolicySet
	Members   []store.Member
	Templates []store.Template
	Platform  []string
	// Missing are referenced groups that do not exist; every other
	// group referenced does, its bindings those of Members.
	Missing []string
	Reads   int
}

// GetAccount returns the account.
func (d *Data) GetAccount(_ context.Context, id string) (store.Account, error) {
	d.Reads++
	if id != d.Account.ID {
		return store.Account{}, store.ErrNotFound
	}
	return d.Account, nil
}

// GetInstancePolicies returns the instance and its groups' policy sets in
// binding order.
func (d *Data) GetInstancePolicies(_ context.Context, id string) (store.Instance, []store.GroupPolicies, error) {
	d.Reads++
	if id != d.Instance.ID {
		return store.Instance{}, nil, store.ErrNotFound
	}
	out := make([]store.GroupPolicies, 0, len(d.Instance.GroupIDs))
	for _, g := range d.Instance.GroupIDs {
		out = append(out, store.GroupPolicies{ID: g, Policies: d.Groups[g]})
	}
	return d.Instance, out, nil
}

// ResolveMembers returns the groupIDs not Missing, and the bindings to any
// of them.
func (d *Data) ResolveMembers(_ context.Context, groupIDs []string) ([]string, []store.Member, error) {
	d.Reads++
	var existing []string
	for _, g := range groupIDs {
		if !slices.Contains(d.Missing, g) {
			existing = append(existing, g)
		}
	}
	var out []store.Member
	for _, m := range d.Members {
		if slices.Contains(existing, m.GroupID) {
			out = append(out, m)
		}
	}
	return existing, out, nil
}

// ResolveTemplates returns the templates of ids that exist and the
// existing members of the template groups among them, each once.
func (d *Data) ResolveTemplates(_ context.Context, ids []string) ([]store.Template, error) {
	d.Reads++
	want := slices.Clone(ids)
	for _, t := range d.Templates {
		if slices.Contains(ids, t.ID) && (t.Kind == store.KindAddressGroup || t.Kind == store.KindServiceGroup) {
			for _, e := range t.Entries {
				want = append(want, e.Value)
			}
		}
	}
	var out []store.Template
	for _, t := range d.Templates {
		if slices.Contains(want, t.ID) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ListPlatformAddresses returns the platform addresses.
func (d *Data) ListPlatformAddresses(context.Context) ([]string, error) {
	d.Reads++
	return slices.Clone(d.Platform), nil
}

// Reference returns the data of direction dir as the reference evaluator
// reads it.
func (d *Data) Reference(dir policy.Direction) reference.Input {
	in := reference.Input{
		Direction:         dir,
		Now:               d.Now,
		Port25Blocked:     !d.Account.Port25Unblocked,
		PlatformAddresses: slices.Clone(d.Platform),
		Members:           map[string][]reference.Member{},
		Templates:         map[string][]string{},
	}
	for _, g := range d.Instance.GroupIDs {
		set := d.Groups[g]
		in.Groups = append(in.Groups, reference.Group{ID: g, Policies: set.List(dir)})
	}
	for _, m := range d.Members {
		in.Members[m.GroupID] = append(in.Members[m.GroupID], reference.Member{State: string(m.State), Addresses: slices.Concat(m.PrivateIPs, m.IPv6s)})
	}
	for _, t := range d.Templates {
		entries := []string{}
		for _, e := range t.Entries {
			entries = append(entries, e.Value)
		}
		in.Templates[t.ID] = entries
	}
	return in
}
