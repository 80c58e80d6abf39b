package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/palisade-sg/palisade/internal/store"
)

const groupCols = `id, account_id, region, project_id, name, description, is_default, version, ingress, egress, created, updated`

func (t *tx) CreateGroup(ctx context.Context, g store.Group) error {
	in, err := encodePolicies(g.Policies.Ingress)
	if err != nil {
		return err
	}
	eg, err := encodePolicies(g.Policies.Egress)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO security_groups (`+groupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.AccountID, g.Region, g.ProjectID, g.Name, g.Description, boolInt(g.IsDefault), int64(g.Policies.Version),
		in, eg, toMicros(g.Created), toMicros(g.Updated))
	if err != nil {
		return fmt.Errorf("create group %s: %w", g.ID, err)
	}
	if err := t.setTags(ctx, g.ID, g.Tags); err != nil {
		return err
	}
	if err := t.setRefs(ctx, g.ID, policyRefs(g.Policies)); err != nil {
		return err
	}
	t.touchGroup(g.AccountID, g.ID)
	return nil
}

func (t *tx) touchGroup(accountID, id string) {
	t.touched.account(accountID)
	t.touched.groups = append(t.touched.groups, id)
}

// owner returns the account of a row of table (security_groups, templates,
// instances) by id.
func (t *tx) owner(ctx context.Context, what, table, id string) (string, error) {
	var a string
	if err := t.row(ctx, `SELECT account_id FROM `+table+` WHERE id = ?`, id).Scan(&a); err != nil {
		return "", notFound(err, what, id)
	}
	return a, nil
}

func (t *tx) setTags(ctx context.Context, groupID string, tags []store.Tag) error {
	if _, err := t.exec(ctx, `DELETE FROM group_tags WHERE group_id = ?`, groupID); err != nil {
		return fmt.Errorf("tags of group %s: %w", groupID, err)
	}
	for i, tag := range tags {
		if _, err := t.exec(ctx, `INSERT INTO group_tags (group_id, key, value, position) VALUES (?, ?, ?, ?)`, groupID, tag.Key, tag.Value, i); err != nil {
			return fmt.Errorf("tags of group %s: %w", groupID, err)
		}
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scanGroup(r scanner) (store.Group, error) {
	var g store.Group
	var isDefault int
	var version, created, updated int64
	var in, eg string
	if err := r.Scan(&g.ID, &g.AccountID, &g.Region, &g.ProjectID, &g.Name, &g.Description, &isDefault, &version, &in, &eg, &created, &updated); err != nil {
		return g, err
	}
	g.IsDefault, g.Policies.Version, g.Created, g.Updated = isDefault != 0, uint64(version), fromMicros(created), fromMicros(updated)
	var err error
	if g.Policies.Ingress, err = decodePolicies(in); err != nil {
		return g, fmt.Errorf("group %s: %w", g.ID, err)
	}
	if g.Policies.Egress, err = decodePolicies(eg); err != nil {
		return g, fmt.Errorf("group %s: %w", g.ID, err)
	}
	return g, nil
}

// groupQuery selects one group by a condition.
func groupQuery(where string) string {
	return `SELECT ` + groupCols + ` FROM security_groups WHERE ` + where
}

// accountGroupWhere finds a tenant's group: every API call on a group runs it.
const accountGroupWhere = `id = ? AND account_id = ? AND region = ?`

// tagsQuery selects the tags of n groups.
func tagsQuery(n int) string {
	return `SELECT group_id, key, value FROM group_tags WHERE group_id IN ` + placeholders(n) + ` ORDER BY group_id, position`
}

func (t *tx) getGroup(ctx context.Context, what, key, q string, args ...any) (store.Group, error) {
	g, err := scanGroup(t.row(ctx, groupQuery(q), args...))
	if err != nil {
		return g, notFound(err, what, key)
	}
	tags, err := t.tags(ctx, []string{g.ID})
	if err != nil {
		return g, err
	}
	g.Tags = tags[g.ID]
	return g, nil
}

func (t *tx) GetGroup(ctx context.Context, id string) (store.Group, error) {
	return t.getGroup(ctx, "group", id, `id = ?`, id)
}

func (t *tx) GetAccountGroup(ctx context.Context, accountID, region, id string) (store.Group, error) {
	return t.getGroup(ctx, "group", id, accountGroupWhere, id, accountID, region)
}

func (t *tx) GetGroupByName(ctx context.Context, accountID, region, name string) (store.Group, error) {
	return t.getGroup(ctx, "group named", name, `account_id = ? AND region = ? AND name = ? AND is_default = 0`, accountID, region, name)
}

func (t *tx) GetDefaultGroup(ctx context.Context, accountID, region string, projectID int64) (store.Group, error) {
	return t.getGroup(ctx, "default group of project", fmt.Sprint(projectID), `account_id = ? AND region = ? AND project_id = ? AND is_default = 1`, accountID, region, projectID)
}

func (t *tx) tags(ctx context.Context, ids []string) (map[string][]store.Tag, error) {
	out := map[string][]store.Tag{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := t.query(ctx, tagsQuery(len(ids)), anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var tag store.Tag
		if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		out[id] = append(out[id], tag)
	}
	return out, rows.Err()
}

func (t *tx) UpdateGroup(ctx context.Context, g store.Group, prevVersion uint64) error {
	in, err := encodePolicies(g.Policies.Ingress)
	if err != nil {
		return err
	}
	eg, err := encodePolicies(g.Policies.Egress)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE security_groups SET project_id = ?, name = ?, description = ?, is_default = ?, version = ?, ingress = ?, egress = ?, updated = ? WHERE id = ? AND version = ?`,
		g.ProjectID, g.Name, g.Description, boolInt(g.IsDefault), int64(g.Policies.Version), in, eg, toMicros(g.Updated), g.ID, int64(prevVersion))
	if err != nil {
		return fmt.Errorf("update group %s: %w", g.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update group %s: %w", g.ID, err)
	}
	if n == 0 {
		var v int64
		err := t.row(ctx, `SELECT version FROM security_groups WHERE id = ?`, g.ID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("update group %s: %w", g.ID, store.ErrNotFound)
		}
		return fmt.Errorf("update group %s at version %d (stored %d): %w", g.ID, prevVersion, v, store.ErrVersionMismatch)
	}
	if err := t.setTags(ctx, g.ID, g.Tags); err != nil {
		return err
	}
	if err := t.setRefs(ctx, g.ID, policyRefs(g.Policies)); err != nil {
		return err
	}
	account := g.AccountID
	if account == "" {
		if account, err = t.owner(ctx, "update group", "security_groups", g.ID); err != nil {
			return err
		}
	}
	t.touchGroup(account, g.ID)
	return nil
}

func (t *tx) DeleteGroup(ctx context.Context, id string) error {
	account, err := t.owner(ctx, "delete group", "security_groups", id)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM group_tags WHERE group_id = ?`, id); err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	if _, err := t.exec(ctx, `DELETE FROM refs WHERE from_id = ?`, id); err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	res, err := t.exec(ctx, `DELETE FROM security_groups WHERE id = ?`, id)
	if err := mustAffect(res, err, "delete group", id); err != nil {
		return err
	}
	t.touchGroup(account, id)
	return nil
}

func (t *tx) CountGroups(ctx context.Context, accountID, region string, projectID int64) (int, error) {
	var n int
	if err := t.row(ctx, `SELECT COUNT(*) FROM security_groups WHERE account_id = ? AND region = ? AND project_id = ?`, accountID, region, projectID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count groups: %w", err)
	}
	return n, nil
}

func (t *tx) ListGroups(ctx context.Context, f store.GroupFilter) ([]store.Group, int, error) {
	var w where
	if f.AccountID != "" {
		w.add("g.account_id = ?", f.AccountID)
	}
	if f.Region != "" {
		w.add("g.region = ?", f.Region)
	}
	w.in("g.id", anys(f.IDs))
	w.in("g.name", anys(f.Names))
	w.in("g.project_id", anys(f.ProjectIDs))
	for _, keys := range f.TagKeys {
		w.inSub("g.id", "SELECT t.group_id FROM group_tags t WHERE t.key", keys)
	}
	for _, c := range f.Tags {
		if len(c.Values) == 0 {
			w.add("g.id IN (SELECT t.group_id FROM group_tags t WHERE t.key = ?)", c.Key)
			continue
		}
		w.add("g.id IN (SELECT t.group_id FROM group_tags t WHERE t.key = ? AND t.value IN "+placeholders(len(c.Values))+")",
			append([]any{c.Key}, anys(c.Values)...)...)
	}
	var total int
	if err := t.row(ctx, `SELECT COUNT(*) FROM security_groups g`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	order := "g.seq"
	switch f.OrderBy {
	case "CreatedTime":
		order = "g.created"
	case "UpdateTime":
		order = "g.updated"
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	q := `SELECT ` + prefixed("g.", groupCols) + ` FROM security_groups g` + w.String() + ` ORDER BY ` + order + dir + `, g.seq` + dir
	q, args := paged(q, w.args, f.Limit, f.Offset)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	var out []store.Group
	var ids []string
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list groups: %w", err)
		}
		out = append(out, g)
		ids = append(ids, g.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	rows.Close()
	tags, err := t.tags(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Tags = tags[out[i].ID]
	}
	return out, total, nil
}

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(alias, cols string) string {
	var b []byte
	for i, c := range splitCols(cols) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, alias...)
		b = append(b, c...)
	}
	return string(b)
}

func splitCols(cols string) []string {
	var out []string
	cur := ""
	for _, r := range cols {
		switch r {
		case ',':
			out = append(out, cur)
			cur = ""
		case ' ':
		default:
			cur += string(r)
		}
	}
	return append(out, cur)
}

// paged appends LIMIT/OFFSET (limit 0: no limit) portably.
func paged(q string, args []any, limit, offset int) (string, []any) {
	if limit <= 0 && offset <= 0 {
		return q, args
	}
	if limit <= 0 {
		limit = 1 << 31
	}
	return q + ` LIMIT ? OFFSET ?`, append(append([]any(nil), args...), limit, offset)
}
