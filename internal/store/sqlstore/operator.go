package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/palisade-sg/palisade/internal/store"
)

// The operator's listings and deletions of accounts, credentials and hosts.

// ListAccounts returns every account, in creation order.
func (t *tx) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := t.query(ctx, `SELECT id, name, port25_unblocked, port25_by, port25_at, created FROM accounts ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		var a store.Account
		var at, created int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Port25Unblocked, &a.Port25By, &at, &created); err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		a.Port25At, a.Created = fromMicros(at), fromMicros(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AccountResources counts what an account owns besides its credentials:
// security groups, instances and templates.
func (t *tx) AccountResources(ctx context.Context, accountID string) (groups, instances, templates int, err error) {
	err = t.row(ctx, `SELECT (SELECT COUNT(*) FROM security_groups WHERE account_id = ?),
		(SELECT COUNT(*) FROM instances WHERE account_id = ?),
		(SELECT COUNT(*) FROM templates WHERE account_id = ?)`, accountID, accountID, accountID).Scan(&groups, &instances, &templates)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("count resources of %s: %w", accountID, err)
	}
	return groups, instances, templates, nil
}

// DeleteAccount deletes an account with its credentials, quota overrides
// and account history. The caller checks first that it owns nothing else.
func (t *tx) DeleteAccount(ctx context.Context, id string) error {
	t.touched.account(id)
	t.touched.accountRow = true
	for _, q := range []string{
		`DELETE FROM credentials WHERE account_id = ?`,
		`DELETE FROM quotas WHERE account_id = ?`,
		`DELETE FROM account_events WHERE account_id = ?`,
	} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return fmt.Errorf("delete account %s: %w", id, err)
		}
	}
	res, err := t.exec(ctx, `DELETE FROM accounts WHERE id = ?`, id)
	return mustAffect(res, err, "delete account", id)
}

// ListCredentials returns the credentials of an account (or, with
// accountID "", every credential), SecretKeys left empty, in creation
// order.
func (t *tx) ListCredentials(ctx context.Context, accountID string) ([]store.Credential, error) {
	q := `SELECT secret_id, account_id, role, host_id, created, disabled FROM credentials`
	var args []any
	if accountID != "" {
		q += ` WHERE account_id = ?`
		args = append(args, accountID)
	}
	rows, err := t.query(ctx, q+` ORDER BY created, secret_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	var out []store.Credential
	for rows.Next() {
		var c store.Credential
		var account, host sql.NullString
		var created int64
		if err := rows.Scan(&c.SecretID, &account, &c.Role, &host, &created, &c.Disabled); err != nil {
			return nil, fmt.Errorf("list credentials: %w", err)
		}
		c.AccountID, c.HostID, c.Created = account.String, host.String, fromMicros(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetCredentialDisabled disables or enables a credential.
func (t *tx) SetCredentialDisabled(ctx context.Context, secretID string, disabled bool) error {
	if err := t.touchCredential(ctx, secretID); err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE credentials SET disabled = ? WHERE secret_id = ?`, boolInt(disabled), secretID)
	return mustAffect(res, err, "set credential", secretID)
}

// DeleteCredential deletes a credential.
func (t *tx) DeleteCredential(ctx context.Context, secretID string) error {
	if err := t.touchCredential(ctx, secretID); err != nil {
		return err
	}
	res, err := t.exec(ctx, `DELETE FROM credentials WHERE secret_id = ?`, secretID)
	return mustAffect(res, err, "delete credential", secretID)
}

// touchCredential notes, for the feed, the account or host a credential
// belongs to (nothing when there is no such credential: the write then
// fails with ErrNotFound).
func (t *tx) touchCredential(ctx context.Context, secretID string) error {
	var account, host sql.NullString
	err := t.row(ctx, `SELECT account_id, host_id FROM credentials WHERE secret_id = ?`, secretID).Scan(&account, &host)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("credential %s: %w", secretID, err)
	}
	t.touched.account(account.String)
	if host.String != "" {
		t.touched.hosts = append(t.touched.hosts, host.String)
	}
	return nil
}

// ListHosts returns every host, in creation order.
func (t *tx) ListHosts(ctx context.Context) ([]store.Host, error) {
	rows, err := t.query(ctx, `SELECT id, name, created FROM hosts ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	var out []store.Host
	for rows.Next() {
		var h store.Host
		var created int64
		if err := rows.Scan(&h.ID, &h.Name, &created); err != nil {
			return nil, fmt.Errorf("list hosts: %w", err)
		}
		h.Created = fromMicros(created)
		out = append(out, h)
	}
	return out, rows.Err()
}

// HostInstances returns the ids of the instances placed on a host that
// are not terminated.
func (t *tx) HostInstances(ctx context.Context, hostID string) ([]string, error) {
	return t.strings(ctx, "host instances", `SELECT id FROM instances WHERE host_id = ? AND state <> 'TERMINATED' ORDER BY seq`, hostID)
}

// DeleteHost deletes a host and its credentials.
func (t *tx) DeleteHost(ctx context.Context, id string) error {
	t.touched.account("")
	t.touched.hosts = append(t.touched.hosts, id)
	for _, q := range []string{`DELETE FROM host_status WHERE host_id = ?`, `DELETE FROM host_counters WHERE host_id = ?`} {
		if _, err := t.report(ctx, q, id); err != nil {
			return fmt.Errorf("delete host %s: %w", id, err)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM credentials WHERE host_id = ?`, id); err != nil {
		return fmt.Errorf("delete host %s: %w", id, err)
	}
	res, err := t.exec(ctx, `DELETE FROM hosts WHERE id = ?`, id)
	return mustAffect(res, err, "delete host", id)
}
