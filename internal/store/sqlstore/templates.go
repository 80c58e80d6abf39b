package sqlstore

import (
	"context"
	"fmt"

	"github.com/palisade-sg/palisade/internal/store"
)

const templateCols = `id, account_id, region, kind, name, entries, created, updated`

func isGroupKind(kind store.TemplateKind) bool {
	return kind == store.KindAddressGroup || kind == store.KindServiceGroup
}

func templateRefs(t store.Template) []string {
	if !isGroupKind(t.Kind) {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range t.Entries {
		if !seen[e.Value] {
			seen[e.Value] = true
			out = append(out, e.Value)
		}
	}
	return out
}

func (t *tx) CreateTemplate(ctx context.Context, tp store.Template) error {
	entries, err := encodeEntries(tp.Entries)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO templates (`+templateCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tp.ID, tp.AccountID, tp.Region, tp.Kind, tp.Name, entries, toMicros(tp.Created), toMicros(tp.Updated))
	if err != nil {
		return fmt.Errorf("create template %s: %w", tp.ID, err)
	}
	if err := t.setRefs(ctx, tp.ID, templateRefs(tp)); err != nil {
		return err
	}
	t.touchTemplate(tp.AccountID, tp.ID)
	return nil
}

func (t *tx) touchTemplate(accountID, id string) {
	t.touched.account(accountID)
	t.touched.templates = append(t.touched.templates, id)
}

func scanTemplate(r scanner) (store.Template, error) {
	var tp store.Template
	var entries string
	var created, updated int64
	if err := r.Scan(&tp.ID, &tp.AccountID, &tp.Region, &tp.Kind, &tp.Name, &entries, &created, &updated); err != nil {
		return tp, err
	}
	tp.Created, tp.Updated = fromMicros(created), fromMicros(updated)
	var err error
	tp.Entries, err = decodeEntries(entries)
	return tp, err
}

func (t *tx) GetTemplate(ctx context.Context, id string) (store.Template, error) {
	return t.getTemplate(ctx, id, `id = ?`, id)
}

func (t *tx) GetAccountTemplate(ctx context.Context, accountID, region, id string) (store.Template, error) {
	return t.getTemplate(ctx, id, accountTemplateWhere, id, accountID, region)
}

// accountTemplateWhere finds a tenant's template.
const accountTemplateWhere = `id = ? AND account_id = ? AND region = ?`

// templateQuery selects one template by a condition.
func templateQuery(where string) string {
	return `SELECT ` + templateCols + ` FROM templates WHERE ` + where
}

func (t *tx) getTemplate(ctx context.Context, id, q string, args ...any) (store.Template, error) {
	tp, err := scanTemplate(t.row(ctx, templateQuery(q), args...))
	if err != nil {
		return tp, notFound(err, "template", id)
	}
	return tp, nil
}

func (t *tx) UpdateTemplate(ctx context.Context, tp store.Template) error {
	entries, err := encodeEntries(tp.Entries)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE templates SET name = ?, entries = ?, updated = ? WHERE id = ?`, tp.Name, entries, toMicros(tp.Updated), tp.ID)
	if err := mustAffect(res, err, "update template", tp.ID); err != nil {
		return err
	}
	if err := t.setRefs(ctx, tp.ID, templateRefs(tp)); err != nil {
		return err
	}
	account := tp.AccountID
	if account == "" {
		if account, err = t.owner(ctx, "update template", "templates", tp.ID); err != nil {
			return err
		}
	}
	t.touchTemplate(account, tp.ID)
	return nil
}

func (t *tx) DeleteTemplate(ctx context.Context, id string) error {
	account, err := t.owner(ctx, "delete template", "templates", id)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM refs WHERE from_id = ?`, id); err != nil {
		return fmt.Errorf("delete template %s: %w", id, err)
	}
	res, err := t.exec(ctx, `DELETE FROM templates WHERE id = ?`, id)
	if err := mustAffect(res, err, "delete template", id); err != nil {
		return err
	}
	t.touchTemplate(account, id)
	return nil
}

func (t *tx) ListTemplates(ctx context.Context, f store.TemplateFilter) ([]store.Template, int, error) {
	var w where
	if f.AccountID != "" {
		w.add("account_id = ?", f.AccountID)
	}
	if f.Region != "" {
		w.add("region = ?", f.Region)
	}
	if f.Kind != "" {
		w.add("kind = ?", f.Kind)
	}
	w.in("id", anys(f.IDs))
	w.in("name", anys(f.Names))
	var total int
	if err := t.row(ctx, `SELECT COUNT(*) FROM templates`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list templates: %w", err)
	}
	q, args := paged(`SELECT `+templateCols+` FROM templates`+w.String()+` ORDER BY seq`, w.args, f.Limit, f.Offset)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list templates: %w", err)
	}
	defer rows.Close()
	var out []store.Template
	for rows.Next() {
		tp, err := scanTemplate(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list templates: %w", err)
		}
		out = append(out, tp)
	}
	return out, total, rows.Err()
}
