package service

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/store"
)

const (
	secretIDPrefix = "AKID"
	secretIDLen    = 32
	secretKeyLen   = 40
)

// LookupCredential returns the credential of secretID, with its raw SecretKey
// for signature verification. An unknown id is a KindNotFound *Error with
// Resource ResourceCredential.
func (s *Service) LookupCredential(ctx context.Context, secretID string) (Credential, error) {
	var c store.Credential
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetCredential(ctx, secretID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Disabled) {
		return Credential{}, notFound(ResourceCredential, secretID)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("look up credential: %w", err)
	}
	return Credential{SecretID: c.SecretID, SecretKey: c.SecretKey, AccountID: c.AccountID, Role: Role(c.Role), HostID: c.HostID, Created: c.Created}, nil
}

// DescribeAccount returns the caller's account.
func (s *Service) DescribeAccount(ctx context.Context, c Caller) (Account, error) {
	if err := s.tenant(c, false); err != nil {
		return Account{}, err
	}
	var out Account
	err := s.view(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, c.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(ResourceAccount, c.AccountID)
		}
		if err != nil {
			return err
		}
		q, err := s.effectiveQuotas(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		out = Account{ID: a.ID, Name: a.Name, Port25Blocked: !a.Port25Unblocked, Port25LiftedBy: a.Port25By, Port25LiftedAt: a.Port25At, CreatedTime: a.Created, EffectiveQuotas: q}
		return nil
	})
	return out, err
}

// UnblockPort25 lifts the caller's account's outbound TCP 25 block and records
// who did it, and when, in the account's history. Lifting it again is a
// no-op.
func (s *Service) UnblockPort25(ctx context.Context, c Caller) error {
	if err := s.tenant(c, true); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, c.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(ResourceAccount, c.AccountID)
		}
		if err != nil {
			return err
		}
		if a.Port25Unblocked {
			return nil
		}
		now := s.now()
		a.Port25Unblocked, a.Port25By, a.Port25At = true, c.SecretID, now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return tx.AddAccountEvent(ctx, store.AccountEvent{AccountID: a.ID, Time: now, Kind: store.EventUnblockPort25, SecretID: c.SecretID, RequestID: c.RequestID,
			Detail: rules.Port25Rule() + " unblocked for the account"})
	})
}

// AccountHistory returns the account's history (port 25 unblocking, …).
func (s *Service) AccountHistory(ctx context.Context, c Caller) ([]store.AccountEvent, error) {
	if err := s.tenant(c, false); err != nil {
		return nil, err
	}
	var out []store.AccountEvent
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListAccountEvents(ctx, c.AccountID)
		return err
	})
	return out, err
}

func (s *Service) newSecret() (id, key string, err error) {
	id, err = s.randString(alnum, secretIDLen)
	if err != nil {
		return "", "", err
	}
	key, err = s.randString(alnum, secretKeyLen)
	return secretIDPrefix + id, key, err
}

func (s *Service) addCredential(ctx context.Context, tx store.Tx, accountID string, role Role, hostID string) (Credential, error) {
	id, key, err := s.newSecret()
	if err != nil {
		return Credential{}, err
	}
	c := Credential{SecretID: id, SecretKey: key, AccountID: accountID, Role: role, HostID: hostID, Created: s.now()}
	err = tx.CreateCredential(ctx, store.Credential{SecretID: id, SecretKey: key, AccountID: accountID, Role: role, HostID: hostID, Created: c.Created})
	return c, err
}

// createAccount creates an account, its name unique, and its first admin
// credential: a random one, or preset when given.
func (s *Service) createAccount(ctx context.Context, tx store.Tx, name string, preset *PresetCredential) (AccountCredentials, error) {
	if err := checkName("Name", name, true); err != nil {
		return AccountCredentials{}, err
	}
	switch a, err := tx.FindAccountByName(ctx, name); {
	case err == nil:
		return AccountCredentials{}, &Error{Kind: KindDuplicate, Resource: ResourceAccount, ID: a.ID, Field: "Name",
			Message: fmt.Sprintf("the account name %q is taken by %s", name, a.ID)}
	case !errors.Is(err, store.ErrNotFound):
		return AccountCredentials{}, err
	}
	id, err := s.newID(policy.PrefixAccount)
	if err != nil {
		return AccountCredentials{}, err
	}
	if err := tx.CreateAccount(ctx, store.Account{ID: id, Name: name, Created: s.now()}); err != nil {
		return AccountCredentials{}, err
	}
	if preset != nil {
		if err := s.presetCredential(ctx, tx, *preset, id, RoleAdmin); err != nil {
			return AccountCredentials{}, err
		}
		return AccountCredentials{AccountID: id, SecretID: preset.SecretID, SecretKey: preset.SecretKey}, nil
	}
	c, err := s.addCredential(ctx, tx, id, RoleAdmin, "")
	if err != nil {
		return AccountCredentials{}, err
	}
	return AccountCredentials{AccountID: id, SecretID: c.SecretID, SecretKey: c.SecretKey}, nil
}

// CreateAccount creates an account and its first (admin) credential.
func (s *Service) CreateAccount(ctx context.Context, name string) (AccountCredentials, error) {
	var out AccountCredentials
	err := s.update(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.createAccount(ctx, tx, name, nil)
		return err
	})
	if err != nil {
		return AccountCredentials{}, fmt.Errorf("create account: %w", err)
	}
	s.log.Info("account created", "account", out.AccountID, "name", name)
	return out, nil
}

// CreateCredential adds a credential (admin or readonly) to an account.
func (s *Service) CreateCredential(ctx context.Context, accountID string, role Role) (Credential, error) {
	if role != RoleAdmin && role != RoleReadOnly {
		return Credential{}, fieldError("Role", string(role), policy.Malformed, "must be admin or readonly")
	}
	var out Credential
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return notFound(ResourceAccount, accountID)
		} else if err != nil {
			return err
		}
		var err error
		out, err = s.addCredential(ctx, tx, accountID, role, "")
		return err
	})
	if err != nil {
		return Credential{}, fmt.Errorf("create credential: %w", err)
	}
	return out, nil
}

// CreatePlatformKey creates a platform credential.
func (s *Service) CreatePlatformKey(ctx context.Context) (Credential, error) {
	var out Credential
	err := s.update(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.addCredential(ctx, tx, "", RolePlatform, "")
		return err
	})
	if err != nil {
		return Credential{}, fmt.Errorf("create platform key: %w", err)
	}
	return out, nil
}

// CreateHost creates a host and its credential.
func (s *Service) CreateHost(ctx context.Context, name string) (HostCredentials, error) {
	var out HostCredentials
	err := s.update(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.createHost(ctx, tx, name)
		return err
	})
	if err != nil {
		return HostCredentials{}, fmt.Errorf("create host: %w", err)
	}
	return out, nil
}

func (s *Service) createHost(ctx context.Context, tx store.Tx, name string) (HostCredentials, error) {
	if err := checkName("Name", name, true); err != nil {
		return HostCredentials{}, err
	}
	id, err := s.newID(policy.PrefixHost)
	if err != nil {
		return HostCredentials{}, err
	}
	if err := tx.CreateHost(ctx, store.Host{ID: id, Name: name, Created: s.now()}); err != nil {
		return HostCredentials{}, err
	}
	c, err := s.addCredential(ctx, tx, "", RoleHost, id)
	if err != nil {
		return HostCredentials{}, err
	}
	return HostCredentials{HostID: id, SecretID: c.SecretID, SecretKey: c.SecretKey}, nil
}

// SetQuotas overrides an account's quotas (zero fields unchanged) and
// returns the effective quotas.
func (s *Service) SetQuotas(ctx context.Context, accountID string, q Quotas) (Quotas, error) {
	var out Quotas
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return notFound(ResourceAccount, accountID)
		} else if err != nil {
			return err
		}
		for _, spec := range QuotaSpecs() {
			v := *spec.Field(&q)
			if v < 0 {
				return fieldError(spec.Name, fmt.Sprint(v), policy.OutOfRange, "must not be negative")
			}
			if v > 0 {
				if err := tx.SetQuotaOverride(ctx, accountID, spec.Name, v); err != nil {
					return err
				}
			}
		}
		var err error
		out, err = s.effectiveQuotas(ctx, tx, accountID)
		return err
	})
	if err != nil {
		return Quotas{}, fmt.Errorf("set quotas: %w", err)
	}
	return out, nil
}

// AddPlatformAddress adds a platform service address prefix.
func (s *Service) AddPlatformAddress(ctx context.Context, p netip.Prefix) error {
	if !p.IsValid() {
		return fieldError("Prefix", p.String(), policy.Malformed, "is not a valid prefix")
	}
	err := s.update(ctx, func(tx store.Tx) error { return tx.AddPlatformAddress(ctx, p.Masked().String()) })
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("add platform address: %w", err)
	}
	return nil
}

// RemovePlatformAddress removes a stored platform service address prefix.
func (s *Service) RemovePlatformAddress(ctx context.Context, p netip.Prefix) error {
	err := s.update(ctx, func(tx store.Tx) error { return tx.DeletePlatformAddress(ctx, p.Masked().String()) })
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Kind: KindNotFound, Resource: "PlatformAddress", ID: p.String(), Message: fmt.Sprintf("platform address %s not found", p)}
	}
	if err != nil {
		return fmt.Errorf("remove platform address: %w", err)
	}
	return nil
}

// PlatformAddresses returns every platform service address.
func (s *Service) PlatformAddresses(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.platformAddresses(ctx, tx)
		return err
	})
	return out, err
}

func (s *Service) platformAddresses(ctx context.Context, tx store.Tx) ([]netip.Prefix, error) {
	stored, err := tx.ListPlatformAddresses(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(stored))
	for _, str := range stored {
		p, err := netip.ParsePrefix(str)
		if err != nil {
			return nil, fmt.Errorf("stored platform address %q: %w", str, err)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// EnsureBootstrap creates an admin account when the store has none and
// returns its credentials; it returns nil when accounts already exist.
func (s *Service) EnsureBootstrap(ctx context.Context) (*AccountCredentials, error) {
	var out *AccountCredentials
	err := s.update(ctx, func(tx store.Tx) error {
		n, err := tx.CountAccounts(ctx)
		if err != nil || n > 0 {
			return err
		}
		c, err := s.createAccount(ctx, tx, "admin", nil)
		out = &c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return out, nil
}
