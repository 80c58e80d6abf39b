package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// instancePoliciesQuery reads an instance with, one row per binding in
// order, the bound group's policies (one row of NULLs when it has none).
const instancePoliciesQuery = instancePoliciesSelect + ` WHERE i.id = ? ORDER BY b.position`

// accountInstancePoliciesQuery is instancePoliciesQuery for a tenant's
// instance: another account's or region's is not found, exactly as a
// missing one (no row is read for it).
const accountInstancePoliciesQuery = instancePoliciesSelect + ` WHERE i.id = ? AND i.account_id = ? AND i.region = ? ORDER BY b.position`

const instancePoliciesSelect = `SELECT i.id, i.account_id, i.region, i.zone, i.project_id, i.name, i.os_type, i.private_ips, i.ipv6s, i.public_ip, i.host_id, i.interface, i.state, i.created, i.updated,
 b.group_id, g.version, g.ingress, g.egress
 FROM instances i LEFT JOIN bindings b ON b.instance_id = i.id LEFT JOIN security_groups g ON g.id = b.group_id`

func (t *tx) GetInstancePolicies(ctx context.Context, id string) (store.Instance, []store.GroupPolicies, error) {
	return t.instancePolicies(ctx, id, instancePoliciesQuery, id)
}

func (t *tx) GetAccountInstancePolicies(ctx context.Context, accountID, region, id string) (store.Instance, []store.GroupPolicies, error) {
	return t.instancePolicies(ctx, id, accountInstancePoliciesQuery, id, accountID, region)
}

func (t *tx) instancePolicies(ctx context.Context, id, q string, args ...any) (store.Instance, []store.GroupPolicies, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return store.Instance{}, nil, fmt.Errorf("policies of instance %s: %w", id, err)
	}
	defer rows.Close()
	var (
		in                     store.Instance
		groups                 []store.GroupPolicies
		priv, v6               string
		created, updated       int64
		group, ingress, egress sql.NullString
		version                sql.NullInt64
		found                  bool
	)
	for rows.Next() {
		err := rows.Scan(&in.ID, &in.AccountID, &in.Region, &in.Zone, &in.ProjectID, &in.Name, &in.OSType, &priv, &v6,
			&in.PublicIP, &in.HostID, &in.Interface, &in.State, &created, &updated, &group, &version, &ingress, &egress)
		if err != nil {
			return store.Instance{}, nil, fmt.Errorf("policies of instance %s: %w", id, err)
		}
		found = true
		if !group.Valid {
			continue
		}
		if !version.Valid {
			return store.Instance{}, nil, fmt.Errorf("group %s bound to instance %s: %w", group.String, id, store.ErrNotFound)
		}
		set, err := t.db.policies.get(group.String, version.Int64, ingress.String, egress.String)
		if err != nil {
			return store.Instance{}, nil, fmt.Errorf("group %s: %w", group.String, err)
		}
		in.GroupIDs = append(in.GroupIDs, group.String)
		groups = append(groups, store.GroupPolicies{ID: group.String, Policies: set})
	}
	if err := rows.Err(); err != nil {
		return store.Instance{}, nil, fmt.Errorf("policies of instance %s: %w", id, err)
	}
	if !found {
		return store.Instance{}, nil, fmt.Errorf("instance %s: %w", id, store.ErrNotFound)
	}
	in.PrivateIPs, in.IPv6s, in.Created, in.Updated = splitList(priv), splitList(v6), fromMicros(created), fromMicros(updated)
	return in, groups, nil
}

// membersQuery reads the bindings to n groups with the bound instances.
func membersQuery(n int) string {
	return `SELECT b.group_id, i.id, i.host_id, i.state, i.private_ips, i.ipv6s FROM bindings b JOIN instances i ON i.id = b.instance_id
 WHERE b.group_id IN ` + placeholders(n) + ` ORDER BY i.seq, b.position`
}

// resolveMembersQuery reads n groups, each with the bindings to it and the
// bound instances: one row of NULLs but the group's id for a group nobody
// is bound to, and no row for a group that does not exist.
func resolveMembersQuery(n int) string {
	return `SELECT g.id, i.id, i.host_id, i.state, i.private_ips, i.ipv6s FROM security_groups g LEFT JOIN bindings b ON b.group_id = g.id LEFT JOIN instances i ON i.id = b.instance_id
 WHERE g.id IN ` + placeholders(n) + ` ORDER BY i.seq, b.position`
}

// templatesQuery reads n templates and what the reference index names as
// referred to by them: the members of those that are template groups.
func templatesQuery(n int) string {
	in := placeholders(n)
	return `SELECT ` + templateCols + ` FROM templates WHERE id IN ` + in + ` OR id IN (SELECT to_id FROM refs WHERE from_id IN ` + in + `) ORDER BY seq`
}

// Sizes of IN lists. A list of ids is padded to the next power of two by
// repeating its last id, so that queries take few shapes; those up to
// maxPreparedIn ids are prepared (see preparedQueries).
const maxPreparedIn = 64

// padIn returns ids, padded, as arguments.
func padIn(ids []string) []any {
	n := 1
	for n < len(ids) {
		n *= 2
	}
	out := make([]any, n)
	for i := range out {
		out[i] = ids[min(i, len(ids)-1)]
	}
	return out
}

func (t *tx) ListMembers(ctx context.Context, groupIDs []string) ([]store.Member, error) {
	if len(groupIDs) == 0 {
		return nil, nil
	}
	args := padIn(groupIDs)
	rows, err := t.query(ctx, membersQuery(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var priv, v6 string
		var host sql.NullString
		if err := rows.Scan(&m.GroupID, &m.InstanceID, &host, &m.State, &priv, &v6); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		m.HostID = host.String
		m.PrivateIPs, m.IPv6s = splitList(priv), splitList(v6)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return out, nil
}

func (t *tx) ResolveMembers(ctx context.Context, groupIDs []string) ([]string, []store.Member, error) {
	if len(groupIDs) == 0 {
		return nil, nil, nil
	}
	args := padIn(groupIDs)
	rows, err := t.query(ctx, resolveMembersQuery(len(args)), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var (
		existing []string
		out      []store.Member
	)
	for rows.Next() {
		var group string
		var id, host, state, priv, v6 sql.NullString
		if err := rows.Scan(&group, &id, &host, &state, &priv, &v6); err != nil {
			return nil, nil, fmt.Errorf("members: %w", err)
		}
		if !slices.Contains(existing, group) {
			existing = append(existing, group)
		}
		if !id.Valid {
			continue
		}
		out = append(out, store.Member{GroupID: group, InstanceID: id.String, HostID: host.String, State: store.InstanceState(state.String),
			PrivateIPs: splitList(priv.String), IPv6s: splitList(v6.String)})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("members: %w", err)
	}
	return existing, out, nil
}

func (t *tx) ResolveTemplates(ctx context.Context, ids []string) ([]store.Template, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// What the reference index brings that is not a member of a template
	// group among ids is dropped below.
	args := padIn(ids)
	rows, err := t.query(ctx, templatesQuery(len(args)), append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("resolve templates: %w", err)
	}
	defer rows.Close()
	var list []store.Template
	for rows.Next() {
		tp, err := scanTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("resolve templates: %w", err)
		}
		list = append(list, tp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("resolve templates: %w", err)
	}
	var members []string
	for _, tp := range list {
		if isGroupKind(tp.Kind) && slices.Contains(ids, tp.ID) {
			for _, e := range tp.Entries {
				members = append(members, e.Value)
			}
		}
	}
	return slices.DeleteFunc(list, func(tp store.Template) bool {
		return !slices.Contains(ids, tp.ID) && !slices.Contains(members, tp.ID)
	}), nil
}

// policyCache keeps groups' decoded policy sets with the stored text they
// were decoded from, so that a group read again unchanged is not decoded
// again. It holds about policyCacheBytes of stored text, dropping entries at
// random beyond that.
type policyCache struct {
	mu     sync.Mutex
	groups map[string]*decodedSet
	bytes  int
}

// decodedSet is a group's policy set and the stored columns it comes from.
type decodedSet struct {
	version         int64
	ingress, egress string
	set             policy.PolicySet
}

const policyCacheBytes = 32 << 20

// size is what d counts against policyCacheBytes.
func (d *decodedSet) size() int { return len(d.ingress) + len(d.egress) + 256 }

// get returns the policy set stored as version, ingress and egress for a
// group, decoding it unless the cache holds it from the same text.
func (c *policyCache) get(id string, version int64, ingress, egress string) (policy.PolicySet, error) {
	c.mu.Lock()
	d := c.groups[id]
	c.mu.Unlock()
	if d != nil && d.version == version && d.ingress == ingress && d.egress == egress {
		return d.set, nil
	}
	set := policy.PolicySet{Version: uint64(version)}
	var err error
	if set.Ingress, err = decodePolicies(ingress); err != nil {
		return set, err
	}
	if set.Egress, err = decodePolicies(egress); err != nil {
		return set, err
	}
	c.put(id, &decodedSet{version: version, ingress: ingress, egress: egress, set: set})
	return set, nil
}

func (c *policyCache) put(id string, d *decodedSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups == nil {
		c.groups = map[string]*decodedSet{}
	}
	if old := c.groups[id]; old != nil {
		c.bytes -= old.size()
	}
	c.groups[id] = d
	c.bytes += d.size()
	for k, v := range c.groups {
		if c.bytes <= policyCacheBytes {
			break
		}
		if k != id {
			delete(c.groups, k)
			c.bytes -= v.size()
		}
	}
}
