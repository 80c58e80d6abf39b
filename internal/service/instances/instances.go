// Package instances owns the compute instances registered with Palisade:
// their registration, lifecycle (running, stopped, in the recycle bin,
// terminated) and ordered security-group bindings, within the quotas. It
// is part of the service (package service embeds its Registry) and shares
// the service's kernel; it imports no part of the service above it.
package instances

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

// maxAddresses bounds the private IPv4 or IPv6 addresses of one instance.
const maxAddresses = 10

// Registry is the instance half of the control plane. It is safe for
// concurrent use.
type Registry struct {
	base kernel.Base
	st   store.Store
	// update runs a write transaction as the service does (it keeps the
	// service's caches current).
	update func(context.Context, func(store.Tx) error) error
}

// New returns a Registry over st; writes go through update.
func New(base kernel.Base, st store.Store, update func(context.Context, func(store.Tx) error) error) *Registry {
	return &Registry{base: base, st: st, update: update}
}

// State is an instance's lifecycle state (store.InstanceState).
type State = store.InstanceState

// The lifecycle states.
const (
	StateRunning    = store.StateRunning
	StateStopped    = store.StateStopped
	StateRecycled   = store.StateRecycled   // in the recycle bin: keeps its bindings
	StateTerminated = store.StateTerminated // bindings released
)

// Instance is a compute instance and its ordered security groups.
type Instance struct {
	ID                 string
	AccountID          string
	Name               string
	OSType             string // linux or windows
	Region, Zone       string
	ProjectID          int64
	PrivateIPAddresses []netip.Addr // IPv4
	IPv6Addresses      []netip.Addr
	PublicIPAddress    netip.Addr // zero when none
	HostID             string
	Interface          string
	State              State
	SecurityGroupIDs   []string // binding order = priority order
	CreatedTime        time.Time
}

// Spec is one instance of RegisterInstances, as text fields.
type Spec struct {
	InstanceName       string
	OsType             string // linux (default) or windows
	Zone               string
	ProjectID          int64
	PrivateIpAddresses []string
	Ipv6Addresses      []string
	PublicIpAddress    string
	HostID             string
	Interface          string
	// SecurityGroupIDs optionally binds groups of the region at
	// registration, in order.
	SecurityGroupIDs []string
}

// RegisterInput is RegisterInstances' request; the region is the
// caller's.
type RegisterInput struct {
	AccountID string
	Instances []Spec
}

// Query is DescribeInstances' request. Filters: instance-id,
// instance-name, zone, project-id, instance-state, security-group-id.
type Query struct {
	IDs     []string
	Filters []kernel.Filter
	Page    kernel.Page
}

// BindInput is the request of AssociateSecurityGroups and
// DisassociateSecurityGroups.
type BindInput struct {
	SecurityGroupIDs []string
	InstanceIDs      []string
}

// ModifyInput is ModifyInstancesAttribute's request; nil leaves a
// field unchanged. SecurityGroupIDs sets each instance's whole ordered list.
type ModifyInput struct {
	InstanceIDs      []string
	InstanceName     *string
	SecurityGroupIDs []string
}

// toInstance converts a stored instance. A stored address that does not
// parse is an error naming the instance and the value: it is never dropped
// silently.
func toInstance(in store.Instance) (Instance, error) {
	out := Instance{ID: in.ID, AccountID: in.AccountID, Name: in.Name, OSType: in.OSType, Region: in.Region, Zone: in.Zone,
		ProjectID: in.ProjectID, HostID: in.HostID, Interface: in.Interface, State: State(in.State),
		SecurityGroupIDs: slices.Clone(in.GroupIDs), CreatedTime: in.Created}
	if out.SecurityGroupIDs == nil {
		out.SecurityGroupIDs = []string{}
	}
	bad := func(field, a string) error {
		return &kernel.Error{Kind: kernel.KindUnresolvable, Resource: kernel.ResourceInstance, ID: in.ID,
			Message: fmt.Sprintf("instance %s: stored %s %q does not parse", in.ID, field, a)}
	}
	for _, a := range in.PrivateIPs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return Instance{}, bad("private address", a)
		}
		out.PrivateIPAddresses = append(out.PrivateIPAddresses, ip)
	}
	for _, a := range in.IPv6s {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return Instance{}, bad("IPv6 address", a)
		}
		out.IPv6Addresses = append(out.IPv6Addresses, ip)
	}
	if in.PublicIP != "" {
		ip, err := netip.ParseAddr(in.PublicIP)
		if err != nil {
			return Instance{}, bad("public address", in.PublicIP)
		}
		out.PublicIPAddress = ip
	}
	return out, nil
}

func parseAddrs(field string, in []string, want6 bool) ([]string, error) {
	if err := kernel.CheckCount(field, len(in), maxAddresses); err != nil {
		return nil, err
	}
	var out []string
	for i, s := range in {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || a.Is6() != want6 || a.Zone() != "" || a.Is4In6() {
			family := "IPv4"
			if want6 {
				family = "IPv6"
			}
			return nil, kernel.FieldError(fmt.Sprintf("%s.%d", field, i), s, policy.Malformed, "is not an %s address", family)
		}
		out = append(out, a.String())
	}
	return out, nil
}

// RegisterInstances registers instances of an account in the caller's region
// (platform callers only) and returns their ids in order.
func (s *Registry) RegisterInstances(ctx context.Context, c kernel.Caller, in RegisterInput) ([]string, error) {
	if c.Role != kernel.RolePlatform {
		return nil, kernel.Forbidden("RegisterInstances needs a platform credential")
	}
	region, err := s.base.CheckRegion(c.Region)
	if err != nil {
		return nil, err
	}
	if in.AccountID == "" {
		return nil, kernel.FieldError("AccountId", "", policy.Missing, "is required")
	}
	if len(in.Instances) == 0 {
		return nil, kernel.FieldError("Instances", "", policy.Missing, "is required")
	}
	if err := kernel.CheckCount("Instances", len(in.Instances), kernel.MaxLimit); err != nil {
		return nil, err
	}
	now := s.base.Now()
	var recs []store.Instance
	for i, spec := range in.Instances {
		f := func(name string) string { return fmt.Sprintf("Instances.%d.%s", i, name) }
		rec := store.Instance{AccountID: in.AccountID, Region: region.Name, Zone: spec.Zone, ProjectID: spec.ProjectID,
			Name: spec.InstanceName, OSType: strings.ToLower(strings.TrimSpace(spec.OsType)), HostID: spec.HostID,
			Interface: spec.Interface, State: StateRunning, Created: now, Updated: now}
		if rec.OSType == "" {
			rec.OSType = "linux"
		}
		if rec.OSType != "linux" && rec.OSType != "windows" {
			return nil, kernel.FieldError(f("OsType"), spec.OsType, policy.Malformed, "must be linux or windows")
		}
		if !slices.Contains(region.Zones, spec.Zone) {
			return nil, kernel.FieldError(f("Zone"), spec.Zone, policy.Malformed, "is not a zone of %s (%s)", region.Name, strings.Join(region.Zones, ", "))
		}
		if spec.ProjectID < 0 {
			return nil, kernel.FieldError(f("ProjectId"), strconv.FormatInt(spec.ProjectID, 10), policy.OutOfRange, "must not be negative")
		}
		if err := kernel.CheckName(f("InstanceName"), spec.InstanceName, false); err != nil {
			return nil, err
		}
		if rec.PrivateIPs, err = parseAddrs(f("PrivateIpAddresses"), spec.PrivateIpAddresses, false); err != nil {
			return nil, err
		}
		if rec.IPv6s, err = parseAddrs(f("Ipv6Addresses"), spec.Ipv6Addresses, true); err != nil {
			return nil, err
		}
		if spec.PublicIpAddress != "" {
			pub, err := parseAddrs(f("PublicIpAddress"), []string{spec.PublicIpAddress}, false)
			if err != nil {
				return nil, kernel.FieldError(f("PublicIpAddress"), spec.PublicIpAddress, policy.Malformed, "is not an IPv4 address")
			}
			rec.PublicIP = pub[0]
		}
		rec.GroupIDs = spec.SecurityGroupIDs
		recs = append(recs, rec)
	}
	var ids []string
	err = s.update(ctx, func(tx store.Tx) error {
		ids = nil
		if _, err := tx.GetAccount(ctx, in.AccountID); errors.Is(err, store.ErrNotFound) {
			e := kernel.NotFound(kernel.ResourceAccount, in.AccountID)
			e.Field = "AccountId"
			return e
		} else if err != nil {
			return err
		}
		owner := kernel.Caller{AccountID: in.AccountID, Region: region.Name, SecretID: c.SecretID, RequestID: c.RequestID}
		q, err := s.base.EffectiveQuotas(ctx, tx, in.AccountID)
		if err != nil {
			return err
		}
		added := map[string]int{}
		for i, rec := range recs {
			if rec.HostID != "" {
				if _, err := tx.GetHost(ctx, rec.HostID); errors.Is(err, store.ErrNotFound) {
					e := kernel.NotFound(kernel.ResourceHost, rec.HostID)
					e.Field = fmt.Sprintf("Instances.%d.HostId", i)
					return e
				} else if err != nil {
					return err
				}
			}
			if err := s.checkGroupList(ctx, tx, owner, fmt.Sprintf("Instances.%d.SecurityGroupIds", i), rec.GroupIDs, q); err != nil {
				return err
			}
			for _, g := range rec.GroupIDs {
				added[g]++
			}
			if rec.ID, err = s.base.NewID(policy.PrefixInstance); err != nil {
				return err
			}
			if rec.Name == "" {
				rec.Name = rec.ID
			}
			if err := tx.CreateInstance(ctx, rec); err != nil {
				return err
			}
			ids = append(ids, rec.ID)
		}
		return s.checkInstancesPerGroup(ctx, tx, added, q)
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// checkGroupList checks an instance's whole group list: no repeats, within
// the quota, every group the owner's in the region.
func (s *Registry) checkGroupList(ctx context.Context, tx store.Tx, owner kernel.Caller, field string, ids []string, q kernel.Quotas) error {
	if len(ids) > q.GroupsPerInstance {
		return kernel.LimitExceeded(kernel.QuotaGroupsPerInstance, q.GroupsPerInstance, "an instance may have at most %d security groups; %d given", q.GroupsPerInstance, len(ids))
	}
	for i, id := range ids {
		f := fmt.Sprintf("%s.%d", field, i)
		if slices.Index(ids, id) != i {
			return kernel.FieldError(f, id, policy.Malformed, "is given twice")
		}
		if _, err := kernel.LoadOwnGroup(ctx, tx, owner, f, id); err != nil {
			return err
		}
	}
	return nil
}

// checkInstancesPerGroup checks that adding added[g] bindings to each group g
// stays within the quota (the bindings are already written in tx).
func (s *Registry) checkInstancesPerGroup(ctx context.Context, tx store.Tx, added map[string]int, q kernel.Quotas) error {
	if len(added) == 0 {
		return nil
	}
	ids := make([]string, 0, len(added))
	for id := range added {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	counts, err := tx.CountBindings(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if added[id] > 0 && counts[id] > q.InstancesPerGroup {
			return kernel.LimitExceeded(kernel.QuotaInstancesPerGroup, q.InstancesPerGroup, "security group %s would have %d instances; the limit is %d", id, counts[id], q.InstancesPerGroup)
		}
	}
	return nil
}

// Load finds an instance of the account ("" for the platform: any
// account) in the region, filtered by the store's query as kernel.LoadGroup
// is.
func Load(ctx context.Context, tx store.Tx, accountID, region, field, id string) (store.Instance, error) {
	if err := kernel.CheckID(field, policy.PrefixInstance, id); err != nil {
		return store.Instance{}, err
	}
	in, err := tx.GetAccountInstance(ctx, accountID, region, id)
	if errors.Is(err, store.ErrNotFound) {
		e := kernel.NotFound(kernel.ResourceInstance, id)
		e.Field = field
		return store.Instance{}, e
	}
	return in, err
}

func checkIDList(field string, ids []string) error {
	if len(ids) == 0 {
		return kernel.FieldError(field, "", policy.Missing, "is required")
	}
	if err := kernel.CheckCount(field, len(ids), kernel.MaxLimit); err != nil {
		return err
	}
	return nil
}

// DescribeInstances lists the caller's instances in its region, with the
// total count before paging. Terminated instances are listed too.
func (s *Registry) DescribeInstances(ctx context.Context, c kernel.Caller, q Query) ([]Instance, int, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, 0, err
	}
	offset, limit, err := kernel.Bounds(q.Page)
	if err != nil {
		return nil, 0, err
	}
	if len(q.IDs) > 0 && len(q.Filters) > 0 {
		return nil, 0, kernel.FieldError("Filters", "", policy.Coexist, "cannot be given together with InstanceIds")
	}
	if err := errors.Join(kernel.CheckCount("InstanceIds", len(q.IDs), kernel.MaxLimit), kernel.CheckFilters(q.Filters)); err != nil {
		return nil, 0, err
	}
	f := store.InstanceFilter{AccountID: c.AccountID, Region: c.Region, IDs: q.IDs, Offset: offset, Limit: limit}
	seen := map[string]bool{}
	for _, flt := range q.Filters {
		first := !seen[flt.Name]
		seen[flt.Name] = true
		if len(flt.Values) == 0 {
			return nil, 0, kernel.FieldError("Filters.Values", "", policy.Missing, "filter %s needs values", flt.Name)
		}
		switch flt.Name {
		case "instance-id":
			f.IDs = kernel.Intersect(f.IDs, flt.Values, first)
		case "instance-name":
			f.Names = kernel.Intersect(f.Names, flt.Values, first)
		case "zone":
			f.Zones = kernel.Intersect(f.Zones, flt.Values, first)
		case "instance-state":
			var vs []store.InstanceState
			for _, v := range flt.Values {
				vs = append(vs, store.InstanceState(strings.ToUpper(v)))
			}
			f.States = kernel.Intersect(f.States, vs, first)
		case "security-group-id":
			f.GroupSets = append(f.GroupSets, flt.Values)
		case "project-id":
			ids, err := kernel.ProjectIDs(flt.Values)
			if err != nil {
				return nil, 0, err
			}
			f.ProjectIDs = kernel.Intersect(f.ProjectIDs, ids, first)
		default:
			return nil, 0, kernel.FieldError("Filters.Name", flt.Name, policy.Malformed, "is not a filter of DescribeInstances")
		}
	}
	if kernel.NoneLeft(f.IDs) || kernel.NoneLeft(f.Names) || kernel.NoneLeft(f.Zones) || kernel.NoneLeft(f.States) || kernel.NoneLeft(f.ProjectIDs) {
		return nil, 0, nil
	}
	var recs []store.Instance
	var total int
	err = s.st.View(ctx, func(tx store.Tx) error {
		var err error
		recs, total, err = tx.ListInstances(ctx, f)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]Instance, len(recs))
	for i, r := range recs {
		if out[i], err = toInstance(r); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// changeInstances runs fn on each listed instance of the caller (the
// platform may name any account's) in one transaction and stores those fn
// changed; an error from fn for any of them changes none (all or nothing).
// Only the accounts of changed instances get a new revision.
func (s *Registry) changeInstances(ctx context.Context, c kernel.Caller, ids []string, allowPlatform bool,
	fn func(tx store.Tx, in *store.Instance, field string) (bool, error)) error {
	accountID := c.AccountID
	if c.Role == kernel.RolePlatform && allowPlatform {
		if _, err := s.base.CheckRegion(c.Region); err != nil {
			return err
		}
		accountID = ""
	} else if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	if err := checkIDList("InstanceIds", ids); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		for i, id := range ids {
			field := fmt.Sprintf("InstanceIds.%d", i)
			if slices.Index(ids, id) != i {
				return kernel.FieldError(field, id, policy.Malformed, "is given twice")
			}
			in, err := Load(ctx, tx, accountID, c.Region, field, id)
			if err != nil {
				return err
			}
			changed, err := fn(tx, &in, field)
			if err != nil {
				return err
			}
			if !changed {
				continue
			}
			in.Updated = s.base.Now()
			if err := tx.UpdateInstance(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
}

// stateError reports an operation the instance's state forbids (the cloud
// answers UnsupportedOperation.State… for those).
func stateError(in *store.Instance, field, what string) error {
	return &kernel.Error{Kind: kernel.KindUnsupported, Resource: kernel.ResourceInstance, ID: in.ID, Field: field,
		Message: fmt.Sprintf("instance %s is %s: cannot %s", in.ID, in.State, what)}
}

// setState moves an instance to state to, if its state is one of from
// (already in to: nothing changes); any other state is a stateError.
func setState(in *store.Instance, field, what string, to State, from ...State) (bool, error) {
	switch st := State(in.State); {
	case st == to:
		return false, nil
	case !slices.Contains(from, st):
		return false, stateError(in, field, what)
	}
	in.State = to
	return true, nil
}

// StopInstances stops running instances (RUNNING → STOPPED); stopping a
// stopped one changes nothing, as in the cloud. A stopped instance keeps
// its bindings, and its addresses still count as members of the groups it
// is bound to wherever a policy references them. All or nothing.
func (s *Registry) StopInstances(ctx context.Context, c kernel.Caller, ids []string) error {
	return s.changeInstances(ctx, c, ids, false, func(_ store.Tx, in *store.Instance, field string) (bool, error) {
		return setState(in, field, "stop it", StateStopped, StateRunning)
	})
}

// StartInstances starts stopped instances (STOPPED → RUNNING); starting a
// running one changes nothing. All or nothing.
func (s *Registry) StartInstances(ctx context.Context, c kernel.Caller, ids []string) error {
	return s.changeInstances(ctx, c, ids, false, func(_ store.Tx, in *store.Instance, field string) (bool, error) {
		return setState(in, field, "start it", StateRunning, StateStopped)
	})
}

// TerminateInstances moves instances to the recycle bin (RECYCLED); they keep
// their bindings. An instance already there is left as it is.
func (s *Registry) TerminateInstances(ctx context.Context, c kernel.Caller, ids []string) error {
	return s.changeInstances(ctx, c, ids, false, func(_ store.Tx, in *store.Instance, field string) (bool, error) {
		return setState(in, field, "terminate it", StateRecycled, StateRunning, StateStopped)
	})
}

// PurgeInstances empties the recycle bin of the listed instances: RECYCLED
// → TERMINATED, bindings released. Any other state, terminated included,
// fails naming the instance and its state, and then none is purged. The
// owning account or the platform may call it.
func (s *Registry) PurgeInstances(ctx context.Context, c kernel.Caller, ids []string) error {
	return s.changeInstances(ctx, c, ids, true, func(_ store.Tx, in *store.Instance, field string) (bool, error) {
		if State(in.State) != StateRecycled {
			return false, stateError(in, field, "purge it: only an instance in the recycle bin (RECYCLED) can be purged")
		}
		in.State, in.GroupIDs = StateTerminated, nil
		return true, nil
	})
}

// AssociateSecurityGroups appends the groups, in order, at the end of each
// instance's list; a group already bound keeps its position. All or nothing.
func (s *Registry) AssociateSecurityGroups(ctx context.Context, c kernel.Caller, in BindInput) error {
	return s.bindWithQuota(ctx, c, in.InstanceIDs, in.SecurityGroupIDs, "SecurityGroupIds", func(cur []string) []string {
		for _, g := range in.SecurityGroupIDs {
			if !slices.Contains(cur, g) {
				cur = append(cur, g)
			}
		}
		return cur
	})
}

// DisassociateSecurityGroups removes the groups from each instance's list;
// a group not bound to an instance is ignored.
func (s *Registry) DisassociateSecurityGroups(ctx context.Context, c kernel.Caller, in BindInput) error {
	return s.bindWithQuota(ctx, c, in.InstanceIDs, in.SecurityGroupIDs, "SecurityGroupIds", func(cur []string) []string {
		return slices.DeleteFunc(cur, func(g string) bool { return slices.Contains(in.SecurityGroupIDs, g) })
	})
}

// ModifyInstancesAttribute renames instances and/or sets their whole ordered
// group list. All or nothing.
func (s *Registry) ModifyInstancesAttribute(ctx context.Context, c kernel.Caller, in ModifyInput) error {
	if in.InstanceName == nil && in.SecurityGroupIDs == nil {
		return kernel.FieldError("SecurityGroups", "", policy.Missing, "give InstanceName or SecurityGroups")
	}
	if in.InstanceName != nil && in.SecurityGroupIDs != nil {
		return kernel.FieldError("InstanceName", *in.InstanceName, policy.Coexist, "cannot be given together with SecurityGroups")
	}
	if in.InstanceName != nil {
		if err := kernel.CheckName("InstanceName", *in.InstanceName, true); err != nil {
			return err
		}
		return s.changeInstances(ctx, c, in.InstanceIDs, false, func(_ store.Tx, ins *store.Instance, _ string) (bool, error) {
			ins.Name = *in.InstanceName
			return true, nil
		})
	}
	for i, id := range in.SecurityGroupIDs {
		if slices.Index(in.SecurityGroupIDs, id) != i {
			return kernel.FieldError(fmt.Sprintf("SecurityGroups.%d", i), id, policy.Malformed, "is given twice")
		}
	}
	return s.bindWithQuota(ctx, c, in.InstanceIDs, in.SecurityGroupIDs, "SecurityGroups", func([]string) []string {
		return slices.Clone(in.SecurityGroupIDs)
	})
}

// bindWithQuota is bindingsChange followed, in the same transaction, by the
// instances-per-group check.
func (s *Registry) bindWithQuota(ctx context.Context, c kernel.Caller, instanceIDs, groupIDs []string, groupsField string, change func([]string) []string) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	if err := checkIDList(groupsField, groupIDs); err != nil {
		return err
	}
	if err := checkIDList("InstanceIds", instanceIDs); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		for i, id := range groupIDs {
			if _, err := kernel.LoadOwnGroup(ctx, tx, c, fmt.Sprintf("%s.%d", groupsField, i), id); err != nil {
				return err
			}
		}
		added := map[string]int{}
		for i, id := range instanceIDs {
			field := fmt.Sprintf("InstanceIds.%d", i)
			if slices.Index(instanceIDs, id) != i {
				return kernel.FieldError(field, id, policy.Malformed, "is given twice")
			}
			in, err := Load(ctx, tx, c.AccountID, c.Region, field, id)
			if err != nil {
				return err
			}
			if State(in.State) == StateTerminated {
				return stateError(&in, field, "change its security groups")
			}
			next := change(slices.Clone(in.GroupIDs))
			if len(next) > q.GroupsPerInstance && len(next) > len(in.GroupIDs) {
				return kernel.LimitExceeded(kernel.QuotaGroupsPerInstance, q.GroupsPerInstance,
					"instance %s would have %d security groups; the limit is %d", in.ID, len(next), q.GroupsPerInstance)
			}
			for _, g := range next {
				if !slices.Contains(in.GroupIDs, g) {
					added[g]++
				}
			}
			in.GroupIDs, in.Updated = next, s.base.Now()
			if err := tx.UpdateInstance(ctx, in); err != nil {
				return err
			}
		}
		return s.checkInstancesPerGroup(ctx, tx, added, q)
	})
}
