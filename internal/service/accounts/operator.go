package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// The operator's commands on accounts, credentials and hosts (palisade
// admin …), and preset bootstrap credentials.

// AccountInfo is an account as the operator lists it.
type AccountInfo struct {
	AccountId       string
	Name            string
	Port25Unblocked bool
	CreatedTime     time.Time
}

// ListAccounts returns every account.
func (s *Accounts) ListAccounts(ctx context.Context) ([]AccountInfo, error) {
	out := []AccountInfo{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		as, err := tx.ListAccounts(ctx)
		for _, a := range as {
			out = append(out, AccountInfo{AccountId: a.ID, Name: a.Name, Port25Unblocked: a.Port25Unblocked, CreatedTime: a.Created})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// DeleteAccount deletes an account that owns no security group, instance
// or template, with its credentials; otherwise it fails with kernel.KindInUse
// naming what it owns.
func (s *Accounts) DeleteAccount(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, id); errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceAccount, id)
		} else if err != nil {
			return err
		}
		g, i, t, err := tx.AccountResources(ctx, id)
		if err != nil {
			return err
		}
		if g+i+t > 0 {
			return &kernel.Error{Kind: kernel.KindInUse, Resource: kernel.ResourceAccount, ID: id,
				Blockers: []string{fmt.Sprintf("%d security groups", g), fmt.Sprintf("%d instances", i), fmt.Sprintf("%d templates", t)},
				Message:  fmt.Sprintf("account %s still owns %d security groups, %d instances and %d templates: delete them first", id, g, i, t)}
		}
		return tx.DeleteAccount(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	s.log.Info("account deleted", "account", id)
	return nil
}

// CredentialInfo is a credential as the operator lists it, without its
// SecretKey.
type CredentialInfo struct {
	SecretId    string
	AccountId   string
	Role        string
	HostId      string
	Disabled    bool
	CreatedTime time.Time
}

// ListCredentials returns the credentials of an account, or every
// credential when accountID is "".
func (s *Accounts) ListCredentials(ctx context.Context, accountID string) ([]CredentialInfo, error) {
	out := []CredentialInfo{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		if accountID != "" {
			if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
				return kernel.NotFound(kernel.ResourceAccount, accountID)
			} else if err != nil {
				return err
			}
		}
		cs, err := tx.ListCredentials(ctx, accountID)
		for _, c := range cs {
			out = append(out, CredentialInfo{SecretId: c.SecretID, AccountId: c.AccountID, Role: string(c.Role), HostId: c.HostID, Disabled: c.Disabled, CreatedTime: c.Created})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return out, nil
}

// SetCredentialDisabled disables a credential (it signs nothing from the
// next request on) or enables it again.
func (s *Accounts) SetCredentialDisabled(ctx context.Context, secretID string, disabled bool) error {
	err := s.update(ctx, func(tx store.Tx) error {
		return tx.SetCredentialDisabled(ctx, secretID, disabled)
	})
	if errors.Is(err, store.ErrNotFound) {
		return kernel.NotFound(kernel.ResourceCredential, secretID)
	}
	if err != nil {
		return fmt.Errorf("set credential %s: %w", secretID, err)
	}
	return nil
}

// DeleteCredential deletes a credential.
func (s *Accounts) DeleteCredential(ctx context.Context, secretID string) error {
	err := s.update(ctx, func(tx store.Tx) error { return tx.DeleteCredential(ctx, secretID) })
	if errors.Is(err, store.ErrNotFound) {
		return kernel.NotFound(kernel.ResourceCredential, secretID)
	}
	if err != nil {
		return fmt.Errorf("delete credential %s: %w", secretID, err)
	}
	return nil
}

// RotateCredential creates a new credential for the account (or host, or
// platform) and role of secretID and returns it. The old one keeps working
// until it is disabled or deleted, so clients can move to the new key
// without downtime; retire disables the old one in the same transaction.
func (s *Accounts) RotateCredential(ctx context.Context, secretID string, retire bool) (Credential, error) {
	var out Credential
	err := s.update(ctx, func(tx store.Tx) error {
		old, err := tx.GetCredential(ctx, secretID)
		if errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceCredential, secretID)
		}
		if err != nil {
			return err
		}
		if out, err = s.addCredential(ctx, tx, old.AccountID, old.Role, old.HostID); err != nil {
			return err
		}
		if retire {
			return tx.SetCredentialDisabled(ctx, secretID, true)
		}
		return nil
	})
	if err != nil {
		return Credential{}, fmt.Errorf("rotate credential %s: %w", secretID, err)
	}
	return out, nil
}

// HostInfo is a host as the operator lists it, with what its agent last
// reported (absent before any report): the revision it has applied, when,
// and the errors it met ("INSTANCE: message", or the message alone for the
// host).
type HostInfo struct {
	HostId          string
	Name            string
	CreatedTime     time.Time
	AppliedRevision *int64     `json:",omitempty"`
	LastReportTime  *time.Time `json:",omitempty"`
	AgentErrors     []string   `json:",omitempty"`
}

// ListHosts returns every host.
func (s *Accounts) ListHosts(ctx context.Context) ([]HostInfo, error) {
	out := []HostInfo{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		hs, err := tx.ListHosts(ctx)
		if err != nil {
			return err
		}
		ids := make([]string, len(hs))
		for i, h := range hs {
			ids[i] = h.ID
		}
		status, err := tx.ListHostStatus(ctx, ids)
		if err != nil {
			return err
		}
		byID := make(map[string]store.HostStatus, len(status))
		for _, st := range status {
			byID[st.HostID] = st
		}
		for _, h := range hs {
			info := HostInfo{HostId: h.ID, Name: h.Name, CreatedTime: h.Created}
			if st, ok := byID[h.ID]; ok {
				rev, at := st.AppliedRevision, st.Reported
				info.AppliedRevision, info.LastReportTime = &rev, &at
				for _, e := range st.Errors {
					msg := e.Message
					if e.InstanceID != "" {
						msg = e.InstanceID + ": " + msg
					}
					info.AgentErrors = append(info.AgentErrors, msg)
				}
			}
			out = append(out, info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	return out, nil
}

// DeleteHost deletes a host and its agent credentials; it fails with
// kernel.KindInUse, naming them, while instances that are not terminated are
// placed on it.
func (s *Accounts) DeleteHost(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetHost(ctx, id); errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceHost, id)
		} else if err != nil {
			return err
		}
		ins, err := tx.HostInstances(ctx, id)
		if err != nil {
			return err
		}
		if len(ins) > 0 {
			return &kernel.Error{Kind: kernel.KindInUse, Resource: kernel.ResourceHost, ID: id, Blockers: ins,
				Message: fmt.Sprintf("host %s still carries instances %s: purge or move them first", id, strings.Join(ins, ", "))}
		}
		return tx.DeleteHost(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete host: %w", err)
	}
	return nil
}

// PresetCredential is a SecretId/SecretKey pair chosen by the operator
// (for CI and development) instead of a random one.
type PresetCredential struct {
	SecretID, SecretKey string
}

// check validates a preset: a SecretId of 8 to 64 letters and digits, a
// SecretKey of 16 to 128 printable characters without spaces.
func (p PresetCredential) check() error {
	if n := len(p.SecretID); n < 8 || n > 64 || strings.IndexFunc(p.SecretID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return &kernel.Error{Kind: kernel.KindInvalid, Field: "SecretId", Message: "a preset SecretId must be 8 to 64 letters and digits"}
	}
	if n := len(p.SecretKey); n < 16 || n > 128 || strings.IndexFunc(p.SecretKey, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return &kernel.Error{Kind: kernel.KindInvalid, Field: "SecretKey", Message: "a preset SecretKey must be 16 to 128 printable characters without spaces"}
	}
	return nil
}

// EnsureBootstrapWith is EnsureBootstrap with the first admin's
// credential given rather than random. When accounts exist already it
// returns nil and changes nothing, even if that credential is not among
// them.
func (s *Accounts) EnsureBootstrapWith(ctx context.Context, preset PresetCredential) (*AccountCredentials, error) {
	if err := preset.check(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	var out *AccountCredentials
	err := s.update(ctx, func(tx store.Tx) error {
		n, err := tx.CountAccounts(ctx)
		if err != nil || n > 0 {
			return err
		}
		c, err := s.createAccount(ctx, tx, "admin", &preset)
		out = &c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return out, nil
}

func (s *Accounts) presetCredential(ctx context.Context, tx store.Tx, preset PresetCredential, accountID string, role kernel.Role) error {
	err := tx.CreateCredential(ctx, store.Credential{SecretID: preset.SecretID, SecretKey: preset.SecretKey, AccountID: accountID, Role: role, Created: s.base.Now()})
	if errors.Is(err, store.ErrConflict) {
		return &kernel.Error{Kind: kernel.KindDuplicate, Resource: kernel.ResourceCredential, ID: preset.SecretID, Field: "SecretId", Message: fmt.Sprintf("SecretId %s exists already", preset.SecretID)}
	}
	return err
}

// EnsurePlatformKey creates the platform credential preset unless a
// credential of that SecretId exists; it reports whether it created it.
// An existing one of another role or key is an error.
func (s *Accounts) EnsurePlatformKey(ctx context.Context, preset PresetCredential) (bool, error) {
	if err := preset.check(); err != nil {
		return false, fmt.Errorf("platform key: %w", err)
	}
	created := false
	err := s.update(ctx, func(tx store.Tx) error {
		c, err := tx.GetCredential(ctx, preset.SecretID)
		switch {
		case err == nil && (c.Role != kernel.RolePlatform || c.SecretKey != preset.SecretKey):
			return &kernel.Error{Kind: kernel.KindDuplicate, Resource: kernel.ResourceCredential, ID: preset.SecretID, Field: "SecretId",
				Message: fmt.Sprintf("SecretId %s exists already with another role or key", preset.SecretID)}
		case err == nil:
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		created = true
		return s.presetCredential(ctx, tx, preset, "", kernel.RolePlatform)
	})
	if err != nil {
		return false, fmt.Errorf("platform key: %w", err)
	}
	return created, nil
}

// AddPresetCredential adds the credential preset, of role admin or
// readonly, to an account.
func (s *Accounts) AddPresetCredential(ctx context.Context, accountID string, role kernel.Role, preset PresetCredential) error {
	if role != kernel.RoleAdmin && role != kernel.RoleReadOnly {
		return kernel.FieldError("Role", string(role), policy.Malformed, "must be admin or readonly")
	}
	if err := preset.check(); err != nil {
		return fmt.Errorf("add credential: %w", err)
	}
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceAccount, accountID)
		} else if err != nil {
			return err
		}
		return s.presetCredential(ctx, tx, preset, accountID, role)
	})
	if err != nil {
		return fmt.Errorf("add credential: %w", err)
	}
	return nil
}
