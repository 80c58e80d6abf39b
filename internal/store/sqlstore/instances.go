package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/palisade-sg/palisade/internal/store"
)

const instanceCols = `id, account_id, region, zone, project_id, name, os_type, private_ips, ipv6s, public_ip, host_id, interface, state, created, updated`

func (t *tx) CreateInstance(ctx context.Context, in store.Instance) error {
	_, err := t.exec(ctx, `INSERT INTO instances (`+instanceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ID, in.AccountID, in.Region, in.Zone, in.ProjectID, in.Name, in.OSType, joinList(in.PrivateIPs), joinList(in.IPv6s),
		in.PublicIP, in.HostID, in.Interface, in.State, toMicros(in.Created), toMicros(in.Updated))
	if err != nil {
		return fmt.Errorf("create instance %s: %w", in.ID, err)
	}
	if err := t.setBindings(ctx, in.ID, in.GroupIDs); err != nil {
		return err
	}
	t.touched.account(in.AccountID)
	t.touched.instances = append(t.touched.instances, in.ID)
	t.touched.members = append(t.touched.members, in.GroupIDs...)
	return nil
}

func (t *tx) setBindings(ctx context.Context, instanceID string, groupIDs []string) error {
	if _, err := t.exec(ctx, `DELETE FROM bindings WHERE instance_id = ?`, instanceID); err != nil {
		return fmt.Errorf("bindings of instance %s: %w", instanceID, err)
	}
	for i, g := range groupIDs {
		if _, err := t.exec(ctx, `INSERT INTO bindings (instance_id, group_id, position) VALUES (?, ?, ?)`, instanceID, g, i); err != nil {
			return fmt.Errorf("bindings of instance %s: %w", instanceID, err)
		}
	}
	return nil
}

func scanInstance(r scanner) (store.Instance, error) {
	var in store.Instance
	var priv, v6 string
	var created, updated int64
	err := r.Scan(&in.ID, &in.AccountID, &in.Region, &in.Zone, &in.ProjectID, &in.Name, &in.OSType, &priv, &v6,
		&in.PublicIP, &in.HostID, &in.Interface, &in.State, &created, &updated)
	in.PrivateIPs, in.IPv6s, in.Created, in.Updated = splitList(priv), splitList(v6), fromMicros(created), fromMicros(updated)
	return in, err
}

func (t *tx) GetInstance(ctx context.Context, id string) (store.Instance, error) {
	return t.getInstance(ctx, id, `id = ?`, id)
}

func (t *tx) GetAccountInstance(ctx context.Context, accountID, region, id string) (store.Instance, error) {
	if accountID == "" {
		return t.getInstance(ctx, id, regionInstanceWhere, id, region)
	}
	return t.getInstance(ctx, id, accountInstanceWhere, id, accountID, region)
}

// The conditions of the instance lookups every simulation and instance
// action runs: a tenant's, and the platform's (any account).
const (
	accountInstanceWhere = `id = ? AND account_id = ? AND region = ?`
	regionInstanceWhere  = `id = ? AND region = ?`
)

// instanceQuery selects one instance by a condition.
func instanceQuery(where string) string {
	return `SELECT ` + instanceCols + ` FROM instances WHERE ` + where
}

// bindingsQuery selects the bindings of n instances.
func bindingsQuery(n int) string {
	return `SELECT instance_id, group_id FROM bindings WHERE instance_id IN ` + placeholders(n) + ` ORDER BY instance_id, position`
}

func (t *tx) getInstance(ctx context.Context, id, q string, args ...any) (store.Instance, error) {
	in, err := scanInstance(t.row(ctx, instanceQuery(q), args...))
	if err != nil {
		return in, notFound(err, "instance", id)
	}
	b, err := t.bindings(ctx, []string{id})
	if err != nil {
		return in, err
	}
	in.GroupIDs = b[id]
	return in, nil
}

func (t *tx) bindings(ctx context.Context, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := t.query(ctx, bindingsQuery(len(ids)), anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("bindings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ins, g string
		if err := rows.Scan(&ins, &g); err != nil {
			return nil, fmt.Errorf("bindings: %w", err)
		}
		out[ins] = append(out[ins], g)
	}
	return out, rows.Err()
}

func (t *tx) UpdateInstance(ctx context.Context, in store.Instance) error {
	old, err := t.GetInstance(ctx, in.ID)
	if err != nil {
		return fmt.Errorf("update instance %s: %w", in.ID, err)
	}
	res, err := t.exec(ctx, `UPDATE instances SET zone = ?, project_id = ?, name = ?, os_type = ?, private_ips = ?, ipv6s = ?, public_ip = ?, host_id = ?, interface = ?, state = ?, updated = ? WHERE id = ?`,
		in.Zone, in.ProjectID, in.Name, in.OSType, joinList(in.PrivateIPs), joinList(in.IPv6s), in.PublicIP, in.HostID, in.Interface, in.State, toMicros(in.Updated), in.ID)
	if err := mustAffect(res, err, "update instance", in.ID); err != nil {
		return err
	}
	if err := t.setBindings(ctx, in.ID, in.GroupIDs); err != nil {
		return err
	}
	t.touched.account(old.AccountID)
	t.touched.instances = append(t.touched.instances, in.ID)
	if memberChanged(old, in) {
		t.touched.members = append(append(t.touched.members, old.GroupIDs...), in.GroupIDs...)
	}
	return nil
}

// memberChanged reports whether writing in over old changes what old's or
// in's groups have as members: the bound groups (as a set), the instance's
// addresses or its state.
func memberChanged(old, in store.Instance) bool {
	a, b := slices.Clone(old.GroupIDs), slices.Clone(in.GroupIDs)
	slices.Sort(a)
	slices.Sort(b)
	return !slices.Equal(a, b) || old.State != in.State ||
		!slices.Equal(old.PrivateIPs, in.PrivateIPs) || !slices.Equal(old.IPv6s, in.IPv6s)
}

func (t *tx) ListInstances(ctx context.Context, f store.InstanceFilter) ([]store.Instance, int, error) {
	var w where
	if f.AccountID != "" {
		w.add("i.account_id = ?", f.AccountID)
	}
	if f.Region != "" {
		w.add("i.region = ?", f.Region)
	}
	w.in("i.id", anys(f.IDs))
	w.in("i.name", anys(f.Names))
	w.in("i.zone", anys(f.Zones))
	w.in("i.state", anys(f.States))
	w.in("i.project_id", anys(f.ProjectIDs))
	const bound = "SELECT b.instance_id FROM bindings b WHERE b.group_id"
	if len(f.GroupIDs) > 0 {
		w.inSub("i.id", bound, f.GroupIDs)
	}
	for _, ids := range f.GroupSets {
		w.inSub("i.id", bound, ids)
	}
	var total int
	if err := t.row(ctx, `SELECT COUNT(*) FROM instances i`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list instances: %w", err)
	}
	q, args := paged(`SELECT `+prefixed("i.", instanceCols)+` FROM instances i`+w.String()+` ORDER BY i.seq`, w.args, f.Limit, f.Offset)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	var out []store.Instance
	var ids []string
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list instances: %w", err)
		}
		out = append(out, in)
		ids = append(ids, in.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list instances: %w", err)
	}
	rows.Close()
	b, err := t.bindings(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].GroupIDs = b[out[i].ID]
	}
	return out, total, nil
}

func (t *tx) CountBindings(ctx context.Context, groupIDs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(groupIDs) == 0 {
		return out, nil
	}
	rows, err := t.query(ctx, `SELECT group_id, COUNT(*) FROM bindings WHERE group_id IN `+placeholders(len(groupIDs))+` GROUP BY group_id`, anys(groupIDs)...)
	if err != nil {
		return nil, fmt.Errorf("count bindings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var n int
		if err := rows.Scan(&g, &n); err != nil {
			return nil, fmt.Errorf("count bindings: %w", err)
		}
		out[g] = n
	}
	return out, rows.Err()
}
