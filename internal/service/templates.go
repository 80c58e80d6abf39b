package service

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// templateKind describes one of the four template kinds.
type templateKind struct {
	kind, resource, prefix string
	member                 string // for groups: the members' kind
	idField, nameField     string // request field names
	filterName, filterID   string // Describe filter names
}

func kindAddress() templateKind {
	return templateKind{store.KindAddress, ResourceAddressTemplate, policy.PrefixAddressTemplate, "",
		"AddressTemplateId", "AddressTemplateName", "address-template-name", "address-template-id"}
}

func kindAddressGroup() templateKind {
	return templateKind{store.KindAddressGroup, ResourceAddressTemplateGroup, policy.PrefixAddressTemplateGroup, store.KindAddress,
		"AddressTemplateGroupId", "AddressTemplateGroupName", "address-template-group-name", "address-template-group-id"}
}

func kindService() templateKind {
	return templateKind{store.KindService, ResourceServiceTemplate, policy.PrefixServiceTemplate, "",
		"ServiceTemplateId", "ServiceTemplateName", "service-template-name", "service-template-id"}
}

func kindServiceGroup() templateKind {
	return templateKind{store.KindServiceGroup, ResourceServiceTemplateGroup, policy.PrefixServiceTemplateGroup, store.KindService,
		"ServiceTemplateGroupId", "ServiceTemplateGroupName", "service-template-group-name", "service-template-group-id"}
}

func checkEntries(field string, k templateKind, es []TemplateEntry) ([]store.TemplateEntry, error) {
	if len(es) == 0 {
		return nil, fieldError(field, "", policy.Missing, "at least one entry is required")
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
			return nil, fieldError(f, e.Value, policy.Malformed, "%s", fe.Reason)
		} else if err != nil {
			return nil, fieldError(f, e.Value, policy.Malformed, "%v", err)
		}
		if err := checkDescription(f+".Description", e.Description); err != nil {
			return nil, err
		}
		out[i] = store.TemplateEntry{Value: v, Description: e.Description}
	}
	return out, nil
}

func (s *Service) loadTemplate(ctx context.Context, tx store.Tx, c Caller, k templateKind, field, id string) (store.Template, error) {
	if err := checkID(field, k.prefix, id); err != nil {
		return store.Template{}, err
	}
	t, err := tx.GetAccountTemplate(ctx, c.AccountID, c.Region, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Kind != k.kind {
		e := notFound(k.resource, id)
		e.Field = field
		return store.Template{}, e
	}
	return t, err
}

// checkMembers checks a template group's member ids.
func (s *Service) checkMembers(ctx context.Context, tx store.Tx, c Caller, k templateKind, field string, ids []string) ([]store.TemplateEntry, error) {
	if len(ids) == 0 {
		return nil, fieldError(field, "", policy.Missing, "at least one template is required")
	}
	mk := kindAddress()
	if k.member == store.KindService {
		mk = kindService()
	}
	out := make([]store.TemplateEntry, len(ids))
	for i, id := range ids {
		f := fmt.Sprintf("%s.%d", field, i)
		if slices.Index(ids, id) != i {
			return nil, fieldError(f, id, policy.Malformed, "is given twice")
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
func checkEntryCount(field string, n int, q Quotas) error {
	if n > q.EntriesPerTemplate {
		return limitExceeded(QuotaEntriesPerTemplate, q.EntriesPerTemplate, "%s has %d entries; a template may have at most %d", field, n, q.EntriesPerTemplate)
	}
	return nil
}

func (s *Service) createTemplate(ctx context.Context, c Caller, k templateKind, name string, entries []TemplateEntry, members []string, entriesField string) (store.Template, error) {
	if err := s.tenant(c, true); err != nil {
		return store.Template{}, err
	}
	if err := checkName(k.nameField, name, true); err != nil {
		return store.Template{}, err
	}
	var es []store.TemplateEntry
	var err error
	if k.member == "" {
		if es, err = checkEntries(entriesField, k, entries); err != nil {
			return store.Template{}, err
		}
	}
	now := s.now()
	t := store.Template{AccountID: c.AccountID, Region: c.Region, Kind: k.kind, Name: name, Entries: es, Created: now, Updated: now}
	err = s.update(ctx, func(tx store.Tx) error {
		q, err := s.effectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if _, n, err := tx.ListTemplates(ctx, store.TemplateFilter{AccountID: c.AccountID, Region: c.Region, Kind: k.kind, Limit: 1}); err != nil {
			return err
		} else if n >= q.TemplatesPerRegion {
			return limitExceeded(QuotaTemplatesPerRegion, q.TemplatesPerRegion, "the account has %d %ss in %s; the limit is %d", n, k.resource, c.Region, q.TemplatesPerRegion)
		}
		if k.member != "" {
			if t.Entries, err = s.checkMembers(ctx, tx, c, k, entriesField, members); err != nil {
				return err
			}
		}
		if err := checkEntryCount(entriesField, len(t.Entries), q); err != nil {
			return err
		}
		if t.ID, err = s.newID(k.prefix); err != nil {
			return err
		}
		return tx.CreateTemplate(ctx, t)
	})
	return t, err
}

func (s *Service) modifyTemplate(ctx context.Context, c Caller, k templateKind, id string, name *string, entries []TemplateEntry, members []string, entriesField string) error {
	if err := s.tenant(c, true); err != nil {
		return err
	}
	if name != nil {
		if err := checkName(k.nameField, *name, true); err != nil {
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
		q, err := s.effectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if err := checkEntryCount(entriesField, len(t.Entries), q); err != nil {
			return err
		}
		t.Updated = s.now()
		return tx.UpdateTemplate(ctx, t)
	})
}

func (s *Service) deleteTemplate(ctx context.Context, c Caller, k templateKind, id string) error {
	if err := s.tenant(c, true); err != nil {
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
			return &Error{Kind: KindInUse, Resource: k.resource, ID: t.ID, Blockers: blockers,
				Message: fmt.Sprintf("%s %s is in use by %s", k.resource, t.ID, strings.Join(blockers, ", "))}
		}
		return tx.DeleteTemplate(ctx, t.ID)
	})
}

// listTemplates lists templates of one kind with Describe filters.
func (s *Service) listTemplates(ctx context.Context, c Caller, k templateKind, q TemplateQuery, extra func(Filter, store.Template) (bool, bool)) ([]store.Template, int, error) {
	if err := s.tenant(c, false); err != nil {
		return nil, 0, err
	}
	offset, limit, err := page(q.Page)
	if err != nil {
		return nil, 0, err
	}
	if err := checkFilters(q.Filters); err != nil {
		return nil, 0, err
	}
	f := store.TemplateFilter{AccountID: c.AccountID, Region: c.Region, Kind: k.kind}
	var post []Filter
	seen := map[string]bool{}
	for _, flt := range q.Filters {
		first := !seen[flt.Name]
		seen[flt.Name] = true
		switch flt.Name {
		case k.filterName:
			f.Names = intersect(f.Names, flt.Values, first)
		case k.filterID:
			f.IDs = intersect(f.IDs, flt.Values, first)
		default:
			if _, known := extra(flt, store.Template{}); !known {
				return nil, 0, fieldError("Filters.Name", flt.Name, policy.Malformed, "is not a filter of this action")
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
	err = s.view(ctx, func(tx store.Tx) error {
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

func noExtra(Filter, store.Template) (bool, bool) { return false, false }

func toEntries(es []store.TemplateEntry) []TemplateEntry {
	out := make([]TemplateEntry, len(es))
	for i, e := range es {
		out[i] = TemplateEntry{Value: e.Value, Description: e.Description}
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
	err := s.view(ctx, func(tx store.Tx) error {
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
func (s *Service) CreateAddressTemplate(ctx context.Context, c Caller, in TemplateInput) (AddressTemplate, error) {
	t, err := s.createTemplate(ctx, c, kindAddress(), in.Name, in.Entries, nil, "Addresses")
	return toAddressTemplate(t), err
}

// DescribeAddressTemplates lists address templates and the total count.
func (s *Service) DescribeAddressTemplates(ctx context.Context, c Caller, q TemplateQuery) ([]AddressTemplate, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindAddress(), q, func(f Filter, t store.Template) (bool, bool) {
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
func (s *Service) ModifyAddressTemplateAttribute(ctx context.Context, c Caller, in ModifyTemplateInput) error {
	return s.modifyTemplate(ctx, c, kindAddress(), in.ID, in.Name, in.Entries, nil, "Addresses")
}

// DeleteAddressTemplate deletes a template that no policy or template group
// uses (else KindInUse naming them).
func (s *Service) DeleteAddressTemplate(ctx context.Context, c Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindAddress(), id)
}

// CreateAddressTemplateGroup creates an ipmg- group.
func (s *Service) CreateAddressTemplateGroup(ctx context.Context, c Caller, in TemplateGroupInput) (AddressTemplateGroup, error) {
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
func (s *Service) DescribeAddressTemplateGroups(ctx context.Context, c Caller, q TemplateQuery) ([]AddressTemplateGroup, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindAddressGroup(), q, noExtra)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.addressGroups(ctx, ts)
	return out, total, err
}

// ModifyAddressTemplateGroupAttribute renames a group or sets its members.
func (s *Service) ModifyAddressTemplateGroupAttribute(ctx context.Context, c Caller, in ModifyTemplateGroupInput) error {
	return s.modifyTemplate(ctx, c, kindAddressGroup(), in.ID, in.Name, nil, in.TemplateIDs, "AddressTemplateIds")
}

// DeleteAddressTemplateGroup deletes a group no policy uses.
func (s *Service) DeleteAddressTemplateGroup(ctx context.Context, c Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindAddressGroup(), id)
}

// CreateServiceTemplate creates a ppm- template.
func (s *Service) CreateServiceTemplate(ctx context.Context, c Caller, in TemplateInput) (ServiceTemplate, error) {
	t, err := s.createTemplate(ctx, c, kindService(), in.Name, in.Entries, nil, "Services")
	return toServiceTemplate(t), err
}

// DescribeServiceTemplates lists service templates.
func (s *Service) DescribeServiceTemplates(ctx context.Context, c Caller, q TemplateQuery) ([]ServiceTemplate, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindService(), q, func(f Filter, t store.Template) (bool, bool) {
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
func (s *Service) ModifyServiceTemplateAttribute(ctx context.Context, c Caller, in ModifyTemplateInput) error {
	return s.modifyTemplate(ctx, c, kindService(), in.ID, in.Name, in.Entries, nil, "Services")
}

// DeleteServiceTemplate deletes a template no policy or group uses.
func (s *Service) DeleteServiceTemplate(ctx context.Context, c Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindService(), id)
}

// CreateServiceTemplateGroup creates a ppmg- group.
func (s *Service) CreateServiceTemplateGroup(ctx context.Context, c Caller, in TemplateGroupInput) (ServiceTemplateGroup, error) {
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
func (s *Service) DescribeServiceTemplateGroups(ctx context.Context, c Caller, q TemplateQuery) ([]ServiceTemplateGroup, int, error) {
	ts, total, err := s.listTemplates(ctx, c, kindServiceGroup(), q, noExtra)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.serviceGroups(ctx, ts)
	return out, total, err
}

// ModifyServiceTemplateGroupAttribute renames a group or sets its members.
func (s *Service) ModifyServiceTemplateGroupAttribute(ctx context.Context, c Caller, in ModifyTemplateGroupInput) error {
	return s.modifyTemplate(ctx, c, kindServiceGroup(), in.ID, in.Name, nil, in.TemplateIDs, "ServiceTemplateIds")
}

// DeleteServiceTemplateGroup deletes a group no policy uses.
func (s *Service) DeleteServiceTemplateGroup(ctx context.Context, c Caller, id string) error {
	return s.deleteTemplate(ctx, c, kindServiceGroup(), id)
}
