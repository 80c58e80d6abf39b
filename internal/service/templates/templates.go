// Package templates owns address and service templates and their groups:
// their validation, quotas, delete protection and Describe filters. It is
// part of the service (package service embeds its Service) and shares the
// service's kernel; it imports no part of the service above it.
package templates

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// Service is the template half of the control plane. It is safe for
// concurrent use.
type Service struct {
	base kernel.Base
	st   store.Store
	// update runs a write transaction as the service does (it keeps the
	// service's caches current).
	update func(context.Context, func(store.Tx) error) error
}

// New returns a Service over st; writes go through update.
func New(base kernel.Base, st store.Store, update func(context.Context, func(store.Tx) error) error) *Service {
	return &Service{base: base, st: st, update: update}
}

// Entry is one entry of an address or service template: an address
// ("10.0.0.1", "10.0.0.0/8", "10.0.0.1-10.0.0.100", IPv6 alike) or a service
// ("tcp:80", "udp:53", "tcp:8000-8080", "tcp:80,443", "icmp", "all").
type Entry struct {
	Value       string
	Description string
}

// AddressTemplate is an ipm- template.
type AddressTemplate struct {
	ID          string
	Name        string
	Region      string
	Entries     []Entry
	CreatedTime time.Time
}

// AddressTemplateGroup is an ipmg- group of address templates.
type AddressTemplateGroup struct {
	ID          string
	Name        string
	Region      string
	TemplateIDs []string
	Templates   []AddressTemplate // the members, in TemplateIDs order
	CreatedTime time.Time
}

// ServiceTemplate is a ppm- template.
type ServiceTemplate struct {
	ID          string
	Name        string
	Region      string
	Entries     []Entry
	CreatedTime time.Time
}

// ServiceTemplateGroup is a ppmg- group of service templates.
type ServiceTemplateGroup struct {
	ID          string
	Name        string
	Region      string
	TemplateIDs []string
	Templates   []ServiceTemplate
	CreatedTime time.Time
}

// Input creates an address or service template.
type Input struct {
	Name    string
	Entries []Entry
}

// ModifyInput modifies an address or service template; nil leaves a
// field unchanged.
type ModifyInput struct {
	ID      string
	Name    *string
	Entries []Entry
}

// GroupInput creates an address or service template group.
type GroupInput struct {
	Name        string
	TemplateIDs []string
}

// ModifyGroupInput modifies a template group; nil leaves a field
// unchanged.
type ModifyGroupInput struct {
	ID          string
	Name        *string
	TemplateIDs []string
}

// Query lists templates or template groups. Filters:
// address-template-name/-id, address-ip; address-template-group-name/-id;
// service-template-name/-id, service-port; service-template-group-name/-id.
type Query struct {
	Filters []kernel.Filter
	Page    kernel.Page
}

// templateKind describes one of the four template kinds.
type templateKind struct {
	kind                 store.TemplateKind
	resource, prefix     string
	member               store.TemplateKind // for groups: the members' kind
	idField, nameField   string             // request field names
	filterName, filterID string             // Describe filter names
}

func kindAddress() templateKind {
	return templateKind{store.KindAddress, kernel.ResourceAddressTemplate, policy.PrefixAddressTemplate, "",
		"AddressTemplateId", "AddressTemplateName", "address-template-name", "address-template-id"}
}

func kindAddressGroup() templateKind {
	return templateKind{store.KindAddressGroup, kernel.ResourceAddressTemplateGroup, policy.PrefixAddressTemplateGroup, store.KindAddress,
		"AddressTemplateGroupId", "AddressTemplateGroupName", "address-template-group-name", "address-template-group-id"}
}

func kindService() templateKind {
	return templateKind{store.KindService, kernel.ResourceServiceTemplate, policy.PrefixServiceTemplate, "",
		"ServiceTemplateId", "ServiceTemplateName", "service-template-name", "service-template-id"}
}

func kindServiceGroup() templateKind {
	return templateKind{store.KindServiceGroup, kernel.ResourceServiceTemplateGroup, policy.PrefixServiceTemplateGroup, store.KindService,
		"ServiceTemplateGroupId", "ServiceTemplateGroupName", "service-template-group-name", "service-template-group-id"}
}

func checkEntries(field string, k templateKind, es []Entry) ([]store.TemplateEntry, error) {
	if len(es) == 0 {
		return nil, kernel.FieldError(field, "", policy.Missing, "at least one entry is required")
	}
	out := make([]store.TemplateEntry, len(es))
	for i, e := range es {
		f := fmt.Sprintf("%s.%d", field, i)
		v := strings.TrimSpace(e.Value)
		var err error
		if k.kind == store.KindAddress {
			_, err = policy.ParseAddressEntry(v)
		} else {
			_, err = policy.ParseServiceEntry(v)
		}
		if fe := (*policy.FieldError)(nil); errors.As(err, &fe) {
			return nil, kernel.FieldError(f, e.Value, policy.Malformed, "%s", fe.Reason)
		} else if err != nil {
			return nil, kernel.FieldError(f, e.Value, policy.Malformed, "%v", err)
		}
		if err := kernel.CheckDescription(f+".Description", e.Description); err != nil {
			return nil, err
		}
		out[i] = store.TemplateEntry{Value: v, Description: e.Description}
	}
	return out, nil
}

func (s *Service) loadTemplate(ctx context.Context, tx store.Tx, c kernel.Caller, k templateKind, field, id string) (store.Template, error) {
	if err := kernel.CheckID(field, k.prefix, id); err != nil {
		return store.Template{}, err
	}
	t, err := tx.GetAccountTemplate(ctx, c.AccountID, c.Region, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Kind != k.kind {
		e := kernel.NotFound(k.resource, id)
		e.Field = field
		return store.Template{}, e
	}
	return t, err
}

// checkMembers checks a template group's member ids.
func (s *Service) checkMembers(ctx context.Context, tx store.Tx, c kernel.Caller, k templateKind, field string, ids []string) ([]store.TemplateEntry, error) {
	if len(ids) == 0 {
		return nil, kernel.FieldError(field, "", policy.Missing, "at least one template is required")
	}
	mk := kindAddress()
	if k.member == store.KindService {
		mk = kindService()
	}
	out := make([]store.TemplateEntry, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%s.%d", field, i)
		if slices.Index(ids, id) != i {
			return nil, kernel.FieldError(f, id, policy.Malformed, "is given twice")
		}
		if _, err := s.loadTemplate(ctx, tx, c, mk, f, id); err != nil {
			return nil, err
		}
		out[i] = store.TemplateEntry{Value: id}
	}
	return out, nil
}

// checkEntryCount refuses a template with more entries (or a template
// group with more members) than the quota allows.
func checkEntryCount(field string, n int, q kernel.Quotas) error {
	if n > q.EntriesPerTemplate {
		return kernel.LimitExceeded(kernel.QuotaEntriesPerTemplate, q.EntriesPerTemplate, "%s has %d entries; a template may have at most %d", field, n, q.EntriesPerTemplate)
	}
	return nil
}

func (s *Service) createTemplate(ctx context.Context, c kernel.Caller, k templateKind, name string, entries []Entry, members []string, entriesField string) (store.Template, error) {
	if err := s.base.Tenant(c, true); err != nil {
		return store.Template{}, err
	}
	if err := kernel.CheckName(k.nameField, name, true); err != nil {
		return store.Template{}, err
	}
	var es []store.TemplateEntry
	var err error
	if k.member == "" {
		if es, err = checkEntries(entriesField, k, entries); err != nil {
			return store.Template{}, err
		}
	}
	now := s.base.Now()
	t := store.Template{AccountID: c.AccountID, Region: c.Region, Kind: k.kind, Name: name, Entries: es, Created: now, Updated: now}
	err = s.update(ctx, func(tx store.Tx) error {
		q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if _, n, err := tx.ListTemplates(ctx, store.TemplateFilter{AccountID: c.AccountID, Region: c.Region, Kind: k.kind, Limit: 1}); err != nil {
			return err
		} else if n >= q.TemplatesPerRegion {
			return kernel.LimitExceeded(kernel.QuotaTemplatesPerRegion, q.TemplatesPerRegion, "the account has %d %ss in %s; the limit is %d", n, k.resource, c.Region, q.TemplatesPerRegion)
		}
		if k.member != "" {
			if t.Entries, err = s.checkMembers(ctx, tx, c, k, entriesField, members); err != nil {
				return err
			}
		}
		if err := checkEntryCount(entriesField, len(t.Entries), q); err != nil {
			return err
		}
		if t.ID, err = s.base.NewID(k.prefix); err != nil {
			return err
		}
		return tx.CreateTemplate(ctx, t)
	})
	return t, err
}

func (s *Service) modifyTemplate(ctx context.Context, c kernel.Caller, k templateKind, id string, name *string, entries []Entry, members []string, entriesField string) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	if name != nil {
		if err := kernel.CheckName(k.nameField, *name, true); err != nil {
			return err
		}
	}
	var es []store.TemplateEntry
	if k.member == "" && entries != nil {
		var err error
		if es, err = checkEntries(entriesField, k, entries); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx store.Tx) error {
		t, err := s.loadTemplate(ctx, tx, c, k, k.idField, id)
		if err != nil {
			return err
		}
		if name != nil {
			t.Name = *name
		}
		if es != nil {
			t.Entries = es
		}
		if k.member != "" && members != nil {
			if t.Entries, err = s.checkMembers(ctx, tx, c, k, entriesField, members); err != nil {
				return err
			}
		}
		q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if err := checkEntryCount(entriesField, len(t.Entries), q); err != nil {
			return err
		}
		t.Updated = s.base.Now()
		return tx.UpdateTemplate(ctx, t)
	})
}

func (s *Service) deleteTemplate(ctx context.Context, c kernel.Caller, k templateKind, id string) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		t, err := s.loadTemplate(ctx, tx, c, k, k.idField, id)
		if err != nil {
			return err
		}
		refs, err := tx.Referrers(ctx, []string{t.ID})
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			var blockers []string
			for _, r := range refs {
				blockers = append(blockers, r.From)
			}
			return &kernel.Error{Kind: kernel.KindInUse, Resource: k.resource, ID: t.ID, Blockers: blockers,
				Message: fmt.Sprintf("%s %s is in use by %s", k.resource, t.ID, strings.Join(blockers, ", "))}
		}
		return tx.DeleteTemplate(ctx, t.ID)
	})
}

// listTemplates lists templates of one kind with Describe filters.
func (s *Service) listTemplates(ctx context.Context, c kernel.Caller, k templateKind, q Query, extra func(kernel.Filter, store.Template) (bool, bool)) ([]store.Template, int, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, 0, err
	}
	offset, limit, err := kernel.Bounds(q.Page)
	if err != nil {
		return nil, 0, err
	}
	if err := kernel.CheckFilters(q.Filters); err != nil {
		return nil, 0, err
	}
	f := store.TemplateFilter{AccountID: c.AccountID, Region: c.Region, Kind: k.kind}
	var post []kernel.Filter
	seen := map[string]bool{}
	for _, flt := range q.Filters {
		first := !seen[flt.Name]
		seen[flt.Name] = true
		switch flt.Name {
		case k.filterName:
			f.Names = kernel.Intersect(f.Names, flt.Values, first)
		case k.filterID:
			f.IDs = kernel.Intersect(f.IDs, flt.Values, first)
		default:
			if _, known := extra(flt, store.Template{}); !known {
				return nil, 0, kernel.FieldError("Filters.Name", flt.Name, policy.Malformed, "is not a filter of this action")
			}
			post = append(post, flt)
		}
	}
	if f.Names != nil && len(f.Names) == 0 || f.IDs != nil && len(f.IDs) == 0 {
		return nil, 0, nil
	}
	if len(post) == 0 {
		f.Offset, f.Limit = offset, limit
	}
	var ts []store.Template
	var total int
	err = s.st.View(ctx, func(tx store.Tx) error {
		var err error
		ts, total, err = tx.ListTemplates(ctx, f)
		return err
	})
	if err != nil || len(post) == 0 {
		return ts, total, err
	}
	var kept []store.Template
	for _, t := range ts {
		ok := true
		for _, flt := range post {
			if m, _ := extra(flt, t); !m {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, t)
		}
	}
	total = len(kept)
	if offset >= len(kept) {
		return nil, total, nil
	}
	return kept[offset:min(len(kept), offset+limit)], total, nil
}

func noExtra(kernel.Filter, store.Template) (bool, bool) { return false, false }

func toEntries(es []store.TemplateEntry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = Entry{Value: e.Value, Description: e.Description}
	}
	return out
}

func memberIDs(es []store.TemplateEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Value
	}
	return out
}

func toAddressTemplate(t store.Template) AddressTemplate {
	return AddressTemplate{ID: t.ID, Name: t.Name, Region: t.Region, Entries: toEntries(t.Entries), CreatedTime: t.Created}
}

func toServiceTemplate(t store.Template) ServiceTemplate {
	return ServiceTemplate{ID: t.ID, Name: t.Name, Region: t.Region, Entries: toEntries(t.Entries), CreatedTime: t.Created}
}

// members loads the members of template groups, in order.
func (s *Service) members(ctx context.Context, ts []store.Template) (map[string]store.Template, error) {
	out := map[string]store.Template{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		for _, t := range ts {
			for _, e := range t.Entries {
				if _, ok := out[e.Value]; ok {
					continue
				}
				m, err := tx.GetTemplate(ctx, e.Value)
				if err != nil {
					return err
				}
				out[e.Value] = m
			}
		}
		return nil
	})
	return out, err
}

// CreateAddressTemplate creates an ipm- template.
func (s *Service) CreateAddressTemplate(ctx context.Context, c kernel.Caller, in Input) (AddressTemplate, error) {
	t, err := s.createTemplate(ctx, c, kindAddress(), in.Name, in.Entries, nil, "Addresses")
	return toAddressTemplate(t), err
}

// DescribeAddressTemplates lists address templates and the total count.
func (s *Service) DescribeAddressTemplates(ctx context.Context, c kernel.Caller, q Query) ([]AddressTemplate, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindAddress(), q, func(f kernel.Filter, t store.Template) (bool, bool) {
		if f.Name != "address-ip" {
			return false, false
		}
		for _, v := range f.Values {
			for _, e := range t.Entries {
				if strings.Contains(e.Value, v) {
					return true, true
				}
				a, err := netip.ParseAddr(v)
				if r, err2 := policy.ParseAddressEntry(e.Value); err == nil && err2 == nil && r.Contains(a) {
					return true, true
				}
			}
		}
		return false, true
	})
	out := make([]AddressTemplate, len(ts))
	for i, t := range ts {
		out[i] = toAddressTemplate(t)
	}
	return out, total, err
}

// ModifyAddressTemplateAttribute renames a template or replaces its entries.
func (s *Service) ModifyAddressTemplateAttribute(ctx context.Context, c kernel.Caller, in ModifyInput) error {
	return s.modifyTemplate(ctx, c, kindAddress(), in.ID, in.Name, in.Entries, nil, "Addresses")
}

// DeleteAddressTemplate deletes a template that no policy or template group
// uses (else kernel.KindInUse naming them).
func (s *Service) DeleteAddressTemplate(ctx context.Context, c kernel.Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindAddress(), id)
}

// CreateAddressTemplateGroup creates an ipmg- group.
func (s *Service) CreateAddressTemplateGroup(ctx context.Context, c kernel.Caller, in GroupInput) (AddressTemplateGroup, error) {
	t, err := s.createTemplate(ctx, c, kindAddressGroup(), in.Name, nil, in.TemplateIDs, "AddressTemplateIds")
	if err != nil {
		return AddressTemplateGroup{}, err
	}
	gs, err := s.addressGroups(ctx, []store.Template{t})
	if err != nil {
		return AddressTemplateGroup{}, err
	}
	return gs[0], nil
}

func (s *Service) addressGroups(ctx context.Context, ts []store.Template) ([]AddressTemplateGroup, error) {
	ms, err := s.members(ctx, ts)
	if err != nil {
		return nil, err
	}
	out := make([]AddressTemplateGroup, len(ts))
	for i, t := range ts {
		g := AddressTemplateGroup{ID: t.ID, Name: t.Name, Region: t.Region, TemplateIDs: memberIDs(t.Entries), CreatedTime: t.Created}
		for _, id := range g.TemplateIDs {
			g.Templates = append(g.Templates, toAddressTemplate(ms[id]))
		}
		out[i] = g
	}
	return out, nil
}

// DescribeAddressTemplateGroups lists address template groups.
func (s *Service) DescribeAddressTemplateGroups(ctx context.Context, c kernel.Caller, q Query) ([]AddressTemplateGroup, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindAddressGroup(), q, noExtra)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.addressGroups(ctx, ts)
	return out, total, err
}

// ModifyAddressTemplateGroupAttribute renames a group or sets its members.
func (s *Service) ModifyAddressTemplateGroupAttribute(ctx context.Context, c kernel.Caller, in ModifyGroupInput) error {
	return s.modifyTemplate(ctx, c, kindAddressGroup(), in.ID, in.Name, nil, in.TemplateIDs, "AddressTemplateIds")
}

// DeleteAddressTemplateGroup deletes a group no policy uses.
func (s *Service) DeleteAddressTemplateGroup(ctx context.Context, c kernel.Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindAddressGroup(), id)
}

// CreateServiceTemplate creates a ppm- template.
func (s *Service) CreateServiceTemplate(ctx context.Context, c kernel.Caller, in Input) (ServiceTemplate, error) {
	t, err := s.createTemplate(ctx, c, kindService(), in.Name, in.Entries, nil, "Services")
	return toServiceTemplate(t), err
}

// DescribeServiceTemplates lists service templates.
func (s *Service) DescribeServiceTemplates(ctx context.Context, c kernel.Caller, q Query) ([]ServiceTemplate, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindService(), q, func(f kernel.Filter, t store.Template) (bool, bool) {
		if f.Name != "service-port" {
			return false, false
		}
		for _, v := range f.Values {
			n, err := strconv.ParseUint(v, 10, 16)
			for _, e := range t.Entries {
				se, err2 := policy.ParseServiceEntry(e.Value)
				if err == nil && err2 == nil && se.Protocol.HasPorts() && se.Ports.Contains(uint16(n)) || strings.Contains(e.Value, v) {
					return true, true
				}
			}
		}
		return false, true
	})
	out := make([]ServiceTemplate, len(ts))
	for i, t := range ts {
		out[i] = toServiceTemplate(t)
	}
	return out, total, err
}

// ModifyServiceTemplateAttribute renames a template or replaces its entries.
func (s *Service) ModifyServiceTemplateAttribute(ctx context.Context, c kernel.Caller, in ModifyInput) error {
	return s.modifyTemplate(ctx, c, kindService(), in.ID, in.Name, in.Entries, nil, "Services")
}

// DeleteServiceTemplate deletes a template no policy or group uses.
func (s *Service) DeleteServiceTemplate(ctx context.Context, c kernel.Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindService(), id)
}

// CreateServiceTemplateGroup creates a ppmg- group.
func (s *Service) CreateServiceTemplateGroup(ctx context.Context, c kernel.Caller, in GroupInput) (ServiceTemplateGroup, error) {
	t, err := s.createTemplate(ctx, c, kindServiceGroup(), in.Name, nil, in.TemplateIDs, "ServiceTemplateIds")
	if err != nil {
		return ServiceTemplateGroup{}, err
	}
	gs, err := s.serviceGroups(ctx, []store.Template{t})
	if err != nil {
		return ServiceTemplateGroup{}, err
	}
	return gs[0], nil
}

func (s *Service) serviceGroups(ctx context.Context, ts []store.Template) ([]ServiceTemplateGroup, error) {
	ms, err := s.members(ctx, ts)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceTemplateGroup, len(ts))
	for i, t := range ts {
		g := ServiceTemplateGroup{ID: t.ID, Name: t.Name, Region: t.Region, TemplateIDs: memberIDs(t.Entries), CreatedTime: t.Created}
		for _, id := range g.TemplateIDs {
			g.Templates = append(g.Templates, toServiceTemplate(ms[id]))
		}
		out[i] = g
	}
	return out, nil
}

// DescribeServiceTemplateGroups lists service template groups.
func (s *Service) DescribeServiceTemplateGroups(ctx context.Context, c kernel.Caller, q Query) ([]ServiceTemplateGroup, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindServiceGroup(), q, noExtra)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.serviceGroups(ctx, ts)
	return out, total, err
}

// ModifyServiceTemplateGroupAttribute renames a group or sets its members.
func (s *Service) ModifyServiceTemplateGroupAttribute(ctx context.Context, c kernel.Caller, in ModifyGroupInput) error {
	return s.modifyTemplate(ctx, c, kindServiceGroup(), in.ID, in.Name, nil, in.TemplateIDs, "ServiceTemplateIds")
}

// DeleteServiceTemplateGroup deletes a group no policy uses.
func (s *Service) DeleteServiceTemplateGroup(ctx context.Context, c kernel.Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindServiceGroup(), id)
}
