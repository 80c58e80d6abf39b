package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/catalog"
	"github.com/palisade-sg/palisade/internal/history"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/service/policyset"
	"github.com/palisade-sg/palisade/internal/service/tagging"
	"github.com/palisade-sg/palisade/internal/store"
)

const (
	defaultGroupName        = "default"
	defaultGroupDescription = "System created security group"
)

func toGroup(g store.Group) SecurityGroup {
	out := SecurityGroup{ID: g.ID, Name: g.Name, Description: g.Description, ProjectID: g.ProjectID, Region: g.Region,
		IsDefault: g.IsDefault, Version: g.Policies.Version, CreatedTime: g.Created, UpdateTime: g.Updated}
	out.Tags = tagging.FromStore(g.Tags)
	return out
}

// newGroup checks the quota and the name and stores a new group, filling
// g.ID and g.AccountID.
func (s *Service) newGroup(ctx context.Context, tx store.Tx, c Caller, g *store.Group) error {
	id, err := s.base.NewID(policy.PrefixSecurityGroup)
	if err != nil {
		return err
	}
	return s.newGroupWithID(ctx, tx, c, id, g)
}

func stamp(ps []policy.Policy, now time.Time) []policy.Policy {
	out := slices.Clone(ps)
	for i := range out {
		out[i].ModifyTime = now
	}
	return out
}

// CreateSecurityGroup creates a group in the caller's region (with optional
// template or policies; CreateSecurityGroupWithPolicies). Warnings concern
// the policies created.
func (s *Service) CreateSecurityGroup(ctx context.Context, c Caller, in CreateGroupInput) (SecurityGroup, []Warning, error) {
	if err := s.base.Tenant(c, true); err != nil {
		return SecurityGroup{}, nil, err
	}
	if err := errors.Join(kernel.CheckName("GroupName", in.Name, true), kernel.CheckDescription("GroupDescription", in.Description)); err != nil {
		return SecurityGroup{}, nil, err
	}
	if in.ProjectID < 0 {
		return SecurityGroup{}, nil, kernel.FieldError("ProjectId", strconv.FormatInt(in.ProjectID, 10), policy.OutOfRange, "must not be negative")
	}
	tags, err := tagging.Check(in.Tags)
	if err != nil {
		return SecurityGroup{}, nil, err
	}
	now := s.now()
	g := store.Group{Region: c.Region, ProjectID: in.ProjectID, Name: in.Name, Description: in.Description, Tags: tags, Created: now, Updated: now}
	switch {
	case in.Template != "" && in.Policies != nil:
		return SecurityGroup{}, nil, kernel.FieldError("Template", in.Template, policy.Coexist, "cannot be given together with SecurityGroupPolicySet")
	case in.Template != "":
		t, ok := catalog.Lookup(in.Template)
		if !ok {
			return SecurityGroup{}, nil, kernel.FieldError("Template", in.Template, policy.Malformed, "is not a known template")
		}
		g.Policies = policy.PolicySet{Ingress: stamp(t.Ingress, now), Egress: stamp(t.Egress, now)}
	case in.Policies != nil:
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			inputs := in.Policies.List(d)
			for i, pi := range inputs {
				if pi.Index != nil && *pi.Index != 0 {
					return SecurityGroup{}, nil, kernel.FieldError(indexField(d, i), strconv.Itoa(*pi.Index), policy.OutOfRange, "a new group has no policies: use 0 or leave it out")
				}
			}
			ps, err := s.parseInputs(ctx, c, d, inputs)
			if err != nil {
				return SecurityGroup{}, nil, err
			}
			g.Policies.SetList(d, stamp(ps, now))
		}
	}
	if len(g.Policies.Ingress)+len(g.Policies.Egress) > 0 {
		g.Policies.Version = 1
	}
	var warnings []Warning
	err = s.update(ctx, func(tx store.Tx) error {
		if err := s.newGroup(ctx, tx, c, &g); err != nil {
			return err
		}
		var ws []written
		for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
			for i := range g.Policies.List(d) {
				ws = append(ws, written{d, i})
			}
		}
		var err error
		warnings, err = s.policyWarnings(ctx, tx, c.AccountID, g.Policies, ws)
		return err
	})
	if err != nil {
		return SecurityGroup{}, nil, err
	}
	return toGroup(g), warnings, nil
}

// CreateDefaultSecurityGroup returns the project's default group, creating it
// (name "default", description "System created security group", all IPv4
// both ways) when missing.
func (s *Service) CreateDefaultSecurityGroup(ctx context.Context, c Caller, projectID int64) (SecurityGroup, error) {
	if err := s.base.Tenant(c, true); err != nil {
		return SecurityGroup{}, err
	}
	if projectID < 0 {
		return SecurityGroup{}, kernel.FieldError("ProjectId", strconv.FormatInt(projectID, 10), policy.OutOfRange, "must not be negative")
	}
	var out store.Group
	err := s.update(ctx, func(tx store.Tx) error {
		g, err := tx.GetDefaultGroup(ctx, c.AccountID, c.Region, projectID)
		if err == nil {
			out = g
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		id, err := s.base.NewID(policy.PrefixSecurityGroup)
		if err != nil {
			return err
		}
		now := s.now()
		all := stamp(catalog.DefaultGroupPolicies(), now)
		out = store.Group{ID: id, AccountID: c.AccountID, Region: c.Region, ProjectID: projectID, Name: defaultGroupName,
			Description: defaultGroupDescription, IsDefault: true, Created: now, Updated: now,
			Policies: policy.PolicySet{Version: 1, Ingress: all, Egress: slices.Clone(all)}}
		if err := tx.CreateGroup(ctx, out); err != nil {
			return err
		}
		snap, err := history.Snapshot(out.Policies)
		if err != nil {
			return err
		}
		return tx.AddHistory(ctx, store.History{GroupID: id, AccountID: c.AccountID, Version: 1, Time: now, SecretID: c.SecretID,
			RequestID: c.RequestID, Action: "CreateDefaultSecurityGroup", Detail: kernel.MustJSON(map[string]any{"After": history.SetOf(out.Policies)}), Snapshot: snap})
	})
	if err != nil {
		return SecurityGroup{}, err
	}
	return toGroup(out), nil
}

// DescribeSecurityGroups lists the caller's groups in its region, with the
// total count before paging.
func (s *Service) DescribeSecurityGroups(ctx context.Context, c Caller, q GroupQuery) ([]SecurityGroup, int, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, 0, err
	}
	offset, limit, err := kernel.Bounds(q.Page)
	if err != nil {
		return nil, 0, err
	}
	f := store.GroupFilter{AccountID: c.AccountID, Region: c.Region, Offset: offset, Limit: limit}
	switch q.OrderField {
	case "", "CreatedTime", "UpdateTime":
		f.OrderBy = q.OrderField
	default:
		return nil, 0, kernel.FieldError("OrderField", q.OrderField, policy.Malformed, "must be CreatedTime or UpdateTime")
	}
	switch strings.ToUpper(q.OrderDirection) {
	case "", "ASC":
	case "DESC":
		f.Desc = true
	default:
		return nil, 0, kernel.FieldError("OrderDirection", q.OrderDirection, policy.Malformed, "must be ASC or DESC")
	}
	if len(q.IDs) > 0 && len(q.Filters) > 0 {
		return nil, 0, kernel.FieldError("Filters", "", policy.Coexist, "cannot be given together with SecurityGroupIds")
	}
	if err := errors.Join(kernel.CheckCount("SecurityGroupIds", len(q.IDs), kernel.MaxLimit), kernel.CheckFilters(q.Filters)); err != nil {
		return nil, 0, err
	}
	for i, id := range q.IDs {
		if err := kernel.CheckID(fmt.Sprintf("SecurityGroupIds.%d", i), policy.PrefixSecurityGroup, id); err != nil {
			return nil, 0, err
		}
	}
	f.IDs = q.IDs
	seen := map[string]bool{}
	for _, flt := range q.Filters {
		first := !seen[flt.Name]
		seen[flt.Name] = true
		switch name := flt.Name; {
		case name == "security-group-id":
			f.IDs = kernel.Intersect(f.IDs, flt.Values, first)
		case name == "security-group-name":
			f.Names = kernel.Intersect(f.Names, flt.Values, first)
		case name == "project-id":
			ids, err := kernel.ProjectIDs(flt.Values)
			if err != nil {
				return nil, 0, err
			}
			f.ProjectIDs = kernel.Intersect(f.ProjectIDs, ids, first)
		case name == "tag-key":
			f.TagKeys = append(f.TagKeys, flt.Values)
		case strings.HasPrefix(name, "tag:") && len(name) > len("tag:"):
			f.Tags = append(f.Tags, store.TagCond{Key: strings.TrimPrefix(name, "tag:"), Values: flt.Values})
		default:
			return nil, 0, kernel.FieldError("Filters.Name", name, policy.Malformed, "is not a filter of DescribeSecurityGroups")
		}
		if len(flt.Values) == 0 {
			return nil, 0, kernel.FieldError("Filters.Values", "", policy.Missing, "filter %s needs values", flt.Name)
		}
	}
	if kernel.NoneLeft(f.IDs) || kernel.NoneLeft(f.Names) || kernel.NoneLeft(f.ProjectIDs) {
		return nil, 0, nil
	}
	var gs []store.Group
	var total int
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		gs, total, err = tx.ListGroups(ctx, f)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]SecurityGroup, len(gs))
	for i, g := range gs {
		out[i] = toGroup(g)
	}
	return out, total, nil
}

// DescribeSecurityGroupPolicies returns a group's policy set.
func (s *Service) DescribeSecurityGroupPolicies(ctx context.Context, c Caller, in DescribePoliciesInput) (GroupPolicies, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return GroupPolicies{}, err
	}
	match, err := policyset.Filter(in.Filters)
	if err != nil {
		return GroupPolicies{}, err
	}
	var g store.Group
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		g, err = s.loadGroup(ctx, tx, c, "SecurityGroupId", in.SecurityGroupID)
		return err
	})
	if err != nil {
		return GroupPolicies{}, err
	}
	out := GroupPolicies{SecurityGroupID: g.ID, Version: g.Policies.Version, Ingress: []IndexedPolicy{}, Egress: []IndexedPolicy{}}
	for i, p := range g.Policies.Ingress {
		if match(policy.Ingress, p) {
			out.Ingress = append(out.Ingress, IndexedPolicy{Index: i, Policy: p})
		}
	}
	for i, p := range g.Policies.Egress {
		if match(policy.Egress, p) {
			out.Egress = append(out.Egress, IndexedPolicy{Index: i, Policy: p})
		}
	}
	return out, nil
}

// ModifySecurityGroupAttribute renames a group or changes its description.
func (s *Service) ModifySecurityGroupAttribute(ctx context.Context, c Caller, in ModifyGroupInput) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	var errs []error
	if in.Name != nil {
		errs = append(errs, kernel.CheckName("GroupName", *in.Name, true))
	}
	if in.Description != nil {
		errs = append(errs, kernel.CheckDescription("GroupDescription", *in.Description))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", in.SecurityGroupID)
		if err != nil {
			return err
		}
		before := map[string]string{"Name": g.Name, "Description": g.Description}
		if in.Name != nil && *in.Name != g.Name {
			if g.IsDefault {
				return &Error{Kind: KindUnsupported, Resource: ResourceSecurityGroup, ID: g.ID, Field: "GroupName",
					Message: fmt.Sprintf("%s is the project's default group and cannot be renamed", g.ID)}
			}
			if isDefaultName(*in.Name) {
				return reservedName()
			}
			if other, err := tx.GetGroupByName(ctx, c.AccountID, c.Region, *in.Name); err == nil && other.ID != g.ID {
				return &Error{Kind: KindDuplicate, Resource: ResourceSecurityGroup, Field: "GroupName",
					Message: fmt.Sprintf("a security group named %q already exists in %s", *in.Name, c.Region)}
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			g.Name = *in.Name
		}
		if in.Description != nil {
			g.Description = *in.Description
		}
		g.Updated = s.now()
		if err := tx.UpdateGroup(ctx, g, g.Policies.Version); err != nil {
			return err
		}
		return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: c.AccountID, Version: g.Policies.Version, Time: g.Updated,
			SecretID: c.SecretID, RequestID: c.RequestID, Action: "ModifySecurityGroupAttribute",
			Detail: kernel.MustJSON(map[string]any{"Before": before, "After": map[string]string{"Name": g.Name, "Description": g.Description}})})
	})
}

// DeleteSecurityGroup deletes a group. It fails KindInUse while any instance
// (recycle bin included) is bound to it or another group's policy references
// it (Blockers names them all), and KindUnsupported for a default group.
func (s *Service) DeleteSecurityGroup(ctx context.Context, c Caller, id string) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		g, err := s.loadGroup(ctx, tx, c, "SecurityGroupId", id)
		if err != nil {
			return err
		}
		if g.IsDefault {
			return &Error{Kind: KindUnsupported, Resource: ResourceSecurityGroup, ID: g.ID,
				Message: fmt.Sprintf("%s is the default group of project %d and cannot be deleted", g.ID, g.ProjectID)}
		}
		ins, _, err := tx.ListInstances(ctx, store.InstanceFilter{GroupIDs: []string{g.ID}})
		if err != nil {
			return err
		}
		var blockers, parts []string
		var bound []string
		for _, in := range ins {
			label := in.ID
			if in.State == StateRecycled {
				label += " (in the recycle bin)"
			}
			bound = append(bound, label)
			blockers = append(blockers, in.ID)
		}
		if len(bound) > 0 {
			parts = append(parts, "bound to instance(s) "+strings.Join(bound, ", "))
		}
		refs, err := referringGroups(ctx, tx, g.ID)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			parts = append(parts, "referenced by the policies of security group(s) "+strings.Join(refs, ", "))
			blockers = append(blockers, refs...)
		}
		if len(blockers) > 0 {
			return &Error{Kind: KindInUse, Resource: ResourceSecurityGroup, ID: g.ID, Blockers: blockers,
				Message: fmt.Sprintf("security group %s is in use: %s", g.ID, strings.Join(parts, "; "))}
		}
		if err := tx.DeleteGroup(ctx, g.ID); err != nil {
			return err
		}
		return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: c.AccountID, Version: g.Policies.Version, Time: s.now(),
			SecretID: c.SecretID, RequestID: c.RequestID, Action: "DeleteSecurityGroup",
			Detail: kernel.MustJSON(map[string]any{"Name": g.Name, "Before": history.SetOf(g.Policies)})})
	})
}

// referringGroups returns the other security groups whose policies reference
// id.
func referringGroups(ctx context.Context, tx store.Tx, id string) ([]string, error) {
	refs, err := tx.Referrers(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range refs {
		if r.From != id && strings.HasPrefix(r.From, policy.PrefixSecurityGroup) {
			out = append(out, r.From)
		}
	}
	return out, nil
}

// CloneSecurityGroup copies a group's policies (no bindings) into a new
// group in the caller's region, with the tags in.Tags and, if
// in.CloneTags, the source's (see CloneInput).
func (s *Service) CloneSecurityGroup(ctx context.Context, c Caller, in CloneInput) (SecurityGroup, error) {
	if err := s.base.Tenant(c, true); err != nil {
		return SecurityGroup{}, err
	}
	srcRegion := c.Region
	if in.RemoteRegion != "" {
		if _, err := s.base.CheckRegion(in.RemoteRegion); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Field = "RemoteRegion"
			}
			return SecurityGroup{}, err
		}
		srcRegion = in.RemoteRegion
	}
	if err := kernel.CheckID("SecurityGroupId", policy.PrefixSecurityGroup, in.SecurityGroupID); err != nil {
		return SecurityGroup{}, err
	}
	var errs []error
	if in.Name != nil {
		errs = append(errs, kernel.CheckName("GroupName", *in.Name, true))
	}
	if in.Description != nil {
		errs = append(errs, kernel.CheckDescription("GroupDescription", *in.Description))
	}
	if in.ProjectID != nil && *in.ProjectID < 0 {
		errs = append(errs, kernel.FieldError("ProjectId", strconv.FormatInt(*in.ProjectID, 10), policy.OutOfRange, "must not be negative"))
	}
	tags, err := tagging.Check(in.Tags)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return SecurityGroup{}, err
	}
	var out store.Group
	err = s.update(ctx, func(tx store.Tx) error {
		src, err := kernel.LoadGroup(ctx, tx, c.AccountID, srcRegion, "SecurityGroupId", in.SecurityGroupID)
		if err != nil {
			return err
		}
		set := src.Policies.Clone()
		if srcRegion != c.Region {
			var blockers []string
			for _, d := range []policy.Direction{policy.Ingress, policy.Egress} {
				for i, p := range set.List(d) {
					if p.Peer.IsReference() || p.ServiceID != "" {
						blockers = append(blockers, fmt.Sprintf("%s.%d (%s)", d.Field(), i, p.Describe(d)))
					}
				}
			}
			if len(blockers) > 0 {
				return &Error{Kind: KindUnsupported, Resource: ResourceSecurityGroup, ID: src.ID, Blockers: blockers,
					Message: fmt.Sprintf("cannot clone %s from %s to %s: these policies reference security groups or templates, which are regional: %s",
						src.ID, srcRegion, c.Region, strings.Join(blockers, "; "))}
			}
		}
		now := s.now()
		g := store.Group{Region: c.Region, Name: src.Name, Description: src.Description, Created: now, Updated: now,
			Policies: policy.PolicySet{Ingress: stamp(set.Ingress, now), Egress: stamp(set.Egress, now)}}
		if in.Name != nil {
			g.Name = *in.Name
		}
		if in.Description != nil {
			g.Description = *in.Description
		}
		if in.ProjectID != nil {
			g.ProjectID = *in.ProjectID
		}
		if in.CloneTags {
			g.Tags = slices.Clone(src.Tags)
		}
		g.Tags = tagging.Merge(g.Tags, tags)
		if len(g.Policies.Ingress)+len(g.Policies.Egress) > 0 {
			g.Policies.Version = 1
		}
		if err := s.newGroup(ctx, tx, c, &g); err != nil {
			return err
		}
		out = g
		return nil
	})
	if err != nil {
		return SecurityGroup{}, err
	}
	return toGroup(out), nil
}

// reservedName is the error for a group other than a project's default
// group named "default": every project of a region has its own default group
// of that name, so another would make the name ambiguous.
func reservedName() error {
	return &Error{Kind: KindDuplicate, Resource: ResourceSecurityGroup, Field: "GroupName",
		Message: fmt.Sprintf("the name %q is reserved for the projects' default groups", defaultGroupName)}
}

// isDefaultName reports whether a name is the reserved "default" in any
// case (names with surrounding white space are refused before this).
func isDefaultName(name string) bool { return strings.EqualFold(name, defaultGroupName) }

// newGroupWithID is newGroup with a chosen id; it fills g.ID and g.AccountID.
func (s *Service) newGroupWithID(ctx context.Context, tx store.Tx, c Caller, id string, g *store.Group) error {
	q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
	if err != nil {
		return err
	}
	n, err := tx.CountGroups(ctx, c.AccountID, g.Region, g.ProjectID)
	if err != nil {
		return err
	}
	if n >= q.GroupsPerRegion {
		return kernel.LimitExceeded(QuotaGroupsPerRegion, q.GroupsPerRegion,
			"project %d already has %d security groups in %s; the limit is %d", g.ProjectID, n, g.Region, q.GroupsPerRegion)
	}
	if err := tagging.CheckCount(len(g.Tags), q); err != nil {
		return err
	}
	if !g.IsDefault && isDefaultName(g.Name) {
		return reservedName()
	}
	if _, err := tx.GetGroupByName(ctx, c.AccountID, g.Region, g.Name); err == nil {
		return &Error{Kind: KindDuplicate, Resource: ResourceSecurityGroup, Field: "GroupName",
			Message: fmt.Sprintf("a security group named %q already exists in %s", g.Name, g.Region)}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	g.ID, g.AccountID = id, c.AccountID
	if err := s.validateSet(ctx, tx, *g, g.Policies, q); err != nil {
		return err
	}
	if err := tx.CreateGroup(ctx, *g); err != nil {
		return err
	}
	snap, err := history.Snapshot(g.Policies)
	if err != nil {
		return err
	}
	return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: c.AccountID, Version: g.Policies.Version, Time: g.Created,
		SecretID: c.SecretID, RequestID: c.RequestID, Action: "CreateSecurityGroup",
		Detail: kernel.MustJSON(map[string]any{"Name": g.Name, "Description": g.Description, "ProjectId": g.ProjectID, "After": history.SetOf(g.Policies)}), Snapshot: snap})
}

// DescribeSecurityGroupAssociationStatistics counts what uses each group.
func (s *Service) DescribeSecurityGroupAssociationStatistics(ctx context.Context, c Caller, ids []string) ([]AssociationStatistics, error) {
	bound, refs, err := s.groupUses(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	out := make([]AssociationStatistics, len(ids))
	for i, id := range ids {
		out[i] = AssociationStatistics{SecurityGroupID: id, CVM: bound[id], SG: len(refs[i]), TotalCount: bound[id]}
	}
	return out, nil
}

// DescribeSecurityGroupReferences lists, for each group, the groups whose
// policies reference it.
func (s *Service) DescribeSecurityGroupReferences(ctx context.Context, c Caller, ids []string) ([]GroupReferences, error) {
	_, refs, err := s.groupUses(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	out := make([]GroupReferences, len(ids))
	for i, id := range ids {
		out[i] = GroupReferences{SecurityGroupID: id, ReferredSecurityGroupIDs: refs[i]}
	}
	return out, nil
}

// groupUses checks that every id is one of the caller's groups and returns
// how many instances (recycle bin included) each is bound to and, in the
// order of ids, the other groups whose policies reference it.
func (s *Service) groupUses(ctx context.Context, c Caller, ids []string) (map[string]int, [][]string, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, kernel.FieldError("SecurityGroupIds", "", policy.Missing, "is required")
	}
	if err := kernel.CheckCount("SecurityGroupIds", len(ids), kernel.MaxLimit); err != nil {
		return nil, nil, err
	}
	var bound map[string]int
	refs := make([][]string, len(ids))
	err := s.view(ctx, func(tx store.Tx) error {
		for i, id := range ids {
			if _, err := s.loadGroup(ctx, tx, c, fmt.Sprintf("SecurityGroupIds.%d", i), id); err != nil {
				return err
			}
		}
		var err error
		if bound, err = tx.CountBindings(ctx, ids); err != nil {
			return err
		}
		for i, id := range ids {
			if refs[i], err = referringGroups(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	return bound, refs, err
}

// DescribeSecurityGroupLimits returns the caller's effective quotas.
func (s *Service) DescribeSecurityGroupLimits(ctx context.Context, c Caller) (Quotas, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return Quotas{}, err
	}
	var q Quotas
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		q, err = s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		return err
	})
	return q, err
}
