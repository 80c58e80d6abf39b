package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/store"
)

type tx struct {
	db       *DB
	q        *sql.Tx
	pool     *sql.DB
	readOnly bool
	// reportOnly: a Report transaction, which writes only through report.
	reportOnly bool
	// touched is what the transaction's writes touched, committed as its
	// feed entry.
	touched touched
}

var (
	errReadOnly   = errors.New("write in a read-only transaction")
	errReportOnly = errors.New("write of the desired state in a report transaction")
)

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.readOnly {
		return nil, errReadOnly
	}
	if t.reportOnly {
		return nil, errReportOnly
	}
	t.touched.wrote = true
	if t.db.d.Savepoints {
		if _, err := t.q.ExecContext(ctx, `SAVEPOINT palisade_statement`); err != nil {
			return nil, err
		}
	}
	res, err := t.q.ExecContext(ctx, t.db.rebind(q), args...)
	if t.db.d.Savepoints {
		if err != nil {
			if _, serr := t.q.ExecContext(ctx, `ROLLBACK TO SAVEPOINT palisade_statement`); serr != nil {
				return nil, errors.Join(err, serr)
			}
		}
		if _, serr := t.q.ExecContext(ctx, `RELEASE SAVEPOINT palisade_statement`); serr != nil {
			return nil, errors.Join(err, serr)
		}
	}
	if err != nil && t.db.d.IsUnique != nil && t.db.d.IsUnique(err) {
		return nil, fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return res, err
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := t.db.prepared[t.pool][q]; s != nil {
		return t.q.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.q.QueryContext(ctx, t.db.rebind(q), args...)
}

func (t *tx) row(ctx context.Context, q string, args ...any) *sql.Row {
	if s := t.db.prepared[t.pool][q]; s != nil {
		return t.q.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.q.QueryRowContext(ctx, t.db.rebind(q), args...)
}

// mustAffect turns "no row changed" into ErrNotFound.
func mustAffect(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", what, id, store.ErrNotFound)
	}
	return nil
}

func notFound(err error, what, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", what, id, store.ErrNotFound)
	}
	return fmt.Errorf("%s %s: %w", what, id, err)
}

// ---- accounts ----

func (t *tx) CreateAccount(ctx context.Context, a store.Account) error {
	_, err := t.exec(ctx, `INSERT INTO accounts (id, name, port25_unblocked, port25_by, port25_at, created) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, boolInt(a.Port25Unblocked), a.Port25By, toMicros(a.Port25At), toMicros(a.Created))
	if err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	t.touched.account(a.ID)
	t.touched.accountRow = true
	return nil
}

const (
	accountColumns  = `id, name, port25_unblocked, port25_by, port25_at, created`
	getAccountQuery = `SELECT ` + accountColumns + ` FROM accounts WHERE id = ?`
)

func (t *tx) GetAccount(ctx context.Context, id string) (store.Account, error) {
	return t.scanAccount(ctx, id, getAccountQuery, id)
}

// resolveAccountQuery is getAccountQuery with the feed's head, as
// revisionQuery reads it, in a row first (k 0), then a row (k 1) for each
// platform address in platformAddressesQuery's order.
const resolveAccountQuery = `SELECT 0 AS k, ` + accountColumns + `, COALESCE((SELECT MAX(revision) FROM changes), 0), '' FROM accounts WHERE id = ?
 UNION ALL SELECT 1, '', '', 0, '', 0, 0, 0, prefix FROM platform_addresses ORDER BY 1, 9`

func (t *tx) ResolveAccount(ctx context.Context, id string) (store.Account, int64, []string, error) {
	rows, err := t.query(ctx, resolveAccountQuery, id)
	if err != nil {
		return store.Account{}, 0, nil, fmt.Errorf("account %s: %w", id, err)
	}
	defer rows.Close()
	var (
		a                store.Account
		found            bool
		head             int64
		platform         []string
		k, unblocked     int
		at, created, rev int64
		prefix           string
	)
	for rows.Next() {
		var r store.Account
		if err := rows.Scan(&k, &r.ID, &r.Name, &unblocked, &r.Port25By, &at, &created, &rev, &prefix); err != nil {
			return store.Account{}, 0, nil, fmt.Errorf("account %s: %w", id, err)
		}
		if k == 0 {
			a, found, head = r, true, rev
			a.Port25Unblocked, a.Port25At, a.Created = unblocked != 0, fromMicros(at), fromMicros(created)
			continue
		}
		platform = append(platform, prefix)
	}
	if err := rows.Err(); err != nil {
		return store.Account{}, 0, nil, fmt.Errorf("account %s: %w", id, err)
	}
	if !found {
		return store.Account{}, 0, nil, fmt.Errorf("account %s: %w", id, store.ErrNotFound)
	}
	return a, head, platform, nil
}

func (t *tx) FindAccountByName(ctx context.Context, name string) (store.Account, error) {
	return t.scanAccount(ctx, name, `SELECT `+accountColumns+` FROM accounts WHERE name = ? ORDER BY created, id LIMIT 1`, name)
}

func (t *tx) scanAccount(ctx context.Context, key, query string, args ...any) (store.Account, error) {
	var a store.Account
	var unblocked int
	var at, created int64
	err := t.row(ctx, query, args...).Scan(&a.ID, &a.Name, &unblocked, &a.Port25By, &at, &created)
	if err != nil {
		return a, notFound(err, "account", key)
	}
	a.Port25Unblocked, a.Port25At, a.Created = unblocked != 0, fromMicros(at), fromMicros(created)
	return a, nil
}

func (t *tx) UpdateAccount(ctx context.Context, a store.Account) error {
	res, err := t.exec(ctx, `UPDATE accounts SET name = ?, port25_unblocked = ?, port25_by = ?, port25_at = ? WHERE id = ?`,
		a.Name, boolInt(a.Port25Unblocked), a.Port25By, toMicros(a.Port25At), a.ID)
	if err := mustAffect(res, err, "update account", a.ID); err != nil {
		return err
	}
	t.touched.account(a.ID)
	t.touched.accountRow = true
	return nil
}

func (t *tx) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := t.row(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

func (t *tx) AddAccountEvent(ctx context.Context, e store.AccountEvent) error {
	_, err := t.exec(ctx, `INSERT INTO account_events (account_id, time, kind, secret_id, request_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.AccountID, toMicros(e.Time), e.Kind, e.SecretID, e.RequestID, e.Detail)
	if err != nil {
		return fmt.Errorf("add event to account %s: %w", e.AccountID, err)
	}
	t.touched.account(e.AccountID)
	return nil
}

func (t *tx) ListAccountEvents(ctx context.Context, accountID string) ([]store.AccountEvent, error) {
	rows, err := t.query(ctx, `SELECT account_id, time, kind, secret_id, request_id, detail FROM account_events WHERE account_id = ? ORDER BY seq`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list events of account %s: %w", accountID, err)
	}
	defer rows.Close()
	var out []store.AccountEvent
	for rows.Next() {
		var e store.AccountEvent
		var tm int64
		if err := rows.Scan(&e.AccountID, &tm, &e.Kind, &e.SecretID, &e.RequestID, &e.Detail); err != nil {
			return nil, fmt.Errorf("list events of account %s: %w", accountID, err)
		}
		e.Time = fromMicros(tm)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t *tx) QuotaOverrides(ctx context.Context, accountID string) (map[string]int, error) {
	rows, err := t.query(ctx, `SELECT name, value FROM quotas WHERE account_id = ?`, accountID)
	if err != nil {
		return nil, fmt.Errorf("quotas of account %s: %w", accountID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var v int
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("quotas of account %s: %w", accountID, err)
		}
		out[name] = v
	}
	return out, rows.Err()
}

func (t *tx) SetQuotaOverride(ctx context.Context, accountID, name string, value int) error {
	if _, err := t.exec(ctx, `DELETE FROM quotas WHERE account_id = ? AND name = ?`, accountID, name); err != nil {
		return fmt.Errorf("set quota %s of account %s: %w", name, accountID, err)
	}
	if _, err := t.exec(ctx, `INSERT INTO quotas (account_id, name, value) VALUES (?, ?, ?)`, accountID, name, value); err != nil {
		return fmt.Errorf("set quota %s of account %s: %w", name, accountID, err)
	}
	t.touched.account(accountID)
	return nil
}

// ---- credentials and hosts ----

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (t *tx) CreateCredential(ctx context.Context, c store.Credential) error {
	sealed, err := t.db.secrets.Seal(c.SecretID, c.SecretKey)
	if err != nil {
		return fmt.Errorf("create credential %s: %w", c.SecretID, err)
	}
	_, err = t.exec(ctx, `INSERT INTO credentials (secret_id, secret_key, account_id, role, host_id, created) VALUES (?, ?, ?, ?, ?, ?)`,
		c.SecretID, sealed, nullable(c.AccountID), c.Role, nullable(c.HostID), toMicros(c.Created))
	if err != nil {
		return fmt.Errorf("create credential %s: %w", c.SecretID, err)
	}
	t.touched.account(c.AccountID)
	return nil
}

const getCredentialQuery = `SELECT secret_id, secret_key, account_id, role, host_id, created, disabled FROM credentials WHERE secret_id = ?`

func (t *tx) GetCredential(ctx context.Context, secretID string) (store.Credential, error) {
	var c store.Credential
	var account, host sql.NullString
	var sealed string
	var created int64
	err := t.row(ctx, getCredentialQuery, secretID).
		Scan(&c.SecretID, &sealed, &account, &c.Role, &host, &created, &c.Disabled)
	if err != nil {
		return store.Credential{}, notFound(err, "credential", secretID)
	}
	if c.SecretKey, err = t.db.secrets.Open(c.SecretID, sealed); err != nil {
		return store.Credential{}, fmt.Errorf("secret key of %s cannot be decrypted: %w", c.SecretID, err)
	}
	c.AccountID, c.HostID, c.Created = account.String, host.String, fromMicros(created)
	return c, nil
}

func (t *tx) CreateHost(ctx context.Context, h store.Host) error {
	if _, err := t.exec(ctx, `INSERT INTO hosts (id, name, created) VALUES (?, ?, ?)`, h.ID, h.Name, toMicros(h.Created)); err != nil {
		return fmt.Errorf("create host %s: %w", h.ID, err)
	}
	t.touched.hosts = append(t.touched.hosts, h.ID)
	return nil
}

func (t *tx) GetHost(ctx context.Context, id string) (store.Host, error) {
	var h store.Host
	var created int64
	if err := t.row(ctx, `SELECT id, name, created FROM hosts WHERE id = ?`, id).Scan(&h.ID, &h.Name, &created); err != nil {
		return h, notFound(err, "host", id)
	}
	h.Created = fromMicros(created)
	return h, nil
}

// ---- platform addresses ----

func (t *tx) AddPlatformAddress(ctx context.Context, prefix string) error {
	if _, err := t.exec(ctx, `INSERT INTO platform_addresses (prefix, created) VALUES (?, 0)`, prefix); err != nil {
		return fmt.Errorf("add platform address %s: %w", prefix, err)
	}
	t.touched.platform = true
	return nil
}

func (t *tx) DeletePlatformAddress(ctx context.Context, prefix string) error {
	res, err := t.exec(ctx, `DELETE FROM platform_addresses WHERE prefix = ?`, prefix)
	if err := mustAffect(res, err, "delete platform address", prefix); err != nil {
		return err
	}
	t.touched.platform = true
	return nil
}

const platformAddressesQuery = `SELECT prefix FROM platform_addresses ORDER BY prefix`

func (t *tx) ListPlatformAddresses(ctx context.Context) ([]string, error) {
	return t.strings(ctx, "list platform addresses", platformAddressesQuery)
}

func (t *tx) strings(ctx context.Context, what, q string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ---- references ----

func (t *tx) setRefs(ctx context.Context, from string, to []string) error {
	if _, err := t.exec(ctx, `DELETE FROM refs WHERE from_id = ?`, from); err != nil {
		return fmt.Errorf("references of %s: %w", from, err)
	}
	for _, id := range to {
		if _, err := t.exec(ctx, `INSERT INTO refs (from_id, to_id) VALUES (?, ?)`, from, id); err != nil {
			return fmt.Errorf("references of %s: %w", from, err)
		}
	}
	return nil
}

func (t *tx) Referrers(ctx context.Context, ids []string) ([]store.Ref, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := t.query(ctx, `SELECT from_id, to_id FROM refs WHERE to_id IN `+placeholders(len(ids))+` ORDER BY to_id, from_id`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("referrers: %w", err)
	}
	defer rows.Close()
	var out []store.Ref
	for rows.Next() {
		var r store.Ref
		if err := rows.Scan(&r.From, &r.To); err != nil {
			return nil, fmt.Errorf("referrers: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ---- history ----

func (t *tx) AddHistory(ctx context.Context, h store.History) error {
	_, err := t.exec(ctx, `INSERT INTO group_history (group_id, account_id, version, time, secret_id, request_id, action, detail, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.GroupID, h.AccountID, int64(h.Version), toMicros(h.Time), h.SecretID, h.RequestID, h.Action, h.Detail, h.Snapshot)
	if err != nil {
		return fmt.Errorf("add history of group %s: %w", h.GroupID, err)
	}
	t.touched.account(h.AccountID)
	return nil
}

func (t *tx) ListHistory(ctx context.Context, groupID string) ([]store.History, error) {
	rows, err := t.query(ctx, `SELECT seq, group_id, account_id, version, time, secret_id, request_id, action, detail, snapshot FROM group_history WHERE group_id = ? ORDER BY seq`, groupID)
	if err != nil {
		return nil, fmt.Errorf("history of group %s: %w", groupID, err)
	}
	defer rows.Close()
	var out []store.History
	for rows.Next() {
		var h store.History
		var version, tm int64
		if err := rows.Scan(&h.Seq, &h.GroupID, &h.AccountID, &version, &tm, &h.SecretID, &h.RequestID, &h.Action, &h.Detail, &h.Snapshot); err != nil {
			return nil, fmt.Errorf("history of group %s: %w", groupID, err)
		}
		h.Version, h.Time = uint64(version), fromMicros(tm)
		out = append(out, h)
	}
	return out, rows.Err()
}

func (t *tx) PruneHistory(ctx context.Context, groupID string, keepFrom uint64) (int, error) {
	// The subquery walks the versions down from keepFrom to the first
	// snapshot: at most the snapshot interval of rows.
	res, err := t.exec(ctx, `DELETE FROM group_history WHERE group_id = ? AND version < (
		SELECT version FROM group_history WHERE group_id = ? AND version <= ? AND snapshot <> '' ORDER BY version DESC LIMIT 1)`,
		groupID, groupID, int64(keepFrom))
	if err != nil {
		return 0, fmt.Errorf("prune history of group %s: %w", groupID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune history of group %s: %w", groupID, err)
	}
	return int(n), nil
}

// where accumulates SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(col string, vals []any) {
	if len(vals) > 0 {
		w.add(col+" IN "+placeholders(len(vals)), vals...)
	}
}

// inSub adds the condition "col IN (sub IN (vals…))", sub being a SELECT
// whose WHERE clause ends with the column compared with vals. An empty vals
// matches nothing.
func (w *where) inSub(col, sub string, vals []string) {
	if len(vals) == 0 {
		w.add("1 = 0")
		return
	}
	w.add(col+" IN ("+sub+" IN "+placeholders(len(vals))+")", anys(vals)...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}
