package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/rules"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// Accounts is the account half of the control plane: accounts and their
// credentials, hosts, quotas, the port 25 block, platform addresses, and the
// operator's commands. It is safe for concurrent use.
type Accounts struct {
	base kernel.Base
	st   store.Store
	log  *slog.Logger
	// update runs a write transaction as the service does.
	update func(context.Context, func(store.Tx) error) error
}

// New returns the accounts half over st; writes go through update.
func New(base kernel.Base, st store.Store, log *slog.Logger, update func(context.Context, func(store.Tx) error) error) *Accounts {
	return &Accounts{base: base, st: st, log: log, update: update}
}

// Credential is a SecretId/SecretKey pair and what it stands for.
type Credential struct {
	SecretID  string
	SecretKey string // raw: TC3 signatures are verified with it
	AccountID string // "" for platform and host credentials
	Role      kernel.Role
	HostID    string // for RoleHost
	Created   time.Time
}

// Caller returns the Caller of a request signed with c.
func (c Credential) Caller(region, requestID string) kernel.Caller {
	return kernel.Caller{AccountID: c.AccountID, SecretID: c.SecretID, Role: c.Role, HostID: c.HostID, Region: region, RequestID: requestID}
}

// Account is a tenant as its own credentials see it.
type Account struct {
	ID              string
	Name            string
	Port25Blocked   bool
	Port25LiftedBy  string // SecretId that lifted the block
	Port25LiftedAt  time.Time
	CreatedTime     time.Time
	EffectiveQuotas kernel.Quotas
}

// AccountCredentials is what creating an account returns.
type AccountCredentials struct {
	AccountID string
	SecretID  string
	SecretKey string
}

// HostCredentials is what creating a host returns.
type HostCredentials struct {
	HostID    string
	SecretID  string
	SecretKey string
}

// alnum is the alphabet of SecretIds and SecretKeys.
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

const (
	secretIDPrefix = "AKID"
	secretIDLen    = 32
	secretKeyLen   = 40
)

// LookupCredential returns the credential of secretID, with its raw SecretKey
// for signature verification. An unknown id is a kernel.KindNotFound *kernel.Error with
// Resource kernel.ResourceCredential.
func (s *Accounts) LookupCredential(ctx context.Context, secretID string) (Credential, error) {
	var c store.Credential
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetCredential(ctx, secretID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Disabled) {
		return Credential{}, kernel.NotFound(kernel.ResourceCredential, secretID)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("look up credential: %w", err)
	}
	return Credential{SecretID: c.SecretID, SecretKey: c.SecretKey, AccountID: c.AccountID, Role: c.Role, HostID: c.HostID, Created: c.Created}, nil
}

// DescribeAccount returns the caller's account.
func (s *Accounts) DescribeAccount(ctx context.Context, c kernel.Caller) (Account, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return Account{}, err
	}
	var out Account
	err := s.st.View(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, c.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceAccount, c.AccountID)
		}
		if err != nil {
			return err
		}
		q, err := s.base.EffectiveQuotas(ctx, tx, a.ID)
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
func (s *Accounts) UnblockPort25(ctx context.Context, c kernel.Caller) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, c.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceAccount, c.AccountID)
		}
		if err != nil {
			return err
		}
		if a.Port25Unblocked {
			return nil
		}
		now := s.base.Now()
		a.Port25Unblocked, a.Port25By, a.Port25At = true, c.SecretID, now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return tx.AddAccountEvent(ctx, store.AccountEvent{AccountID: a.ID, Time: now, Kind: store.EventUnblockPort25, SecretID: c.SecretID, RequestID: c.RequestID,
			Detail: rules.Port25Rule() + " unblocked for the account"})
	})
}

// AccountHistory returns the account's history (port 25 unblocking, …).
func (s *Accounts) AccountHistory(ctx context.Context, c kernel.Caller) ([]store.AccountEvent, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, err
	}
	var out []store.AccountEvent
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListAccountEvents(ctx, c.AccountID)
		return err
	})
	return out, err
}

func (s *Accounts) newSecret() (id, key string, err error) {
	id, err = s.base.RandString(alnum, secretIDLen)
	if err != nil {
		return "", "", err
	}
	key, err = s.base.RandString(alnum, secretKeyLen)
	return secretIDPrefix + id, key, err
}

func (s *Accounts) addCredential(ctx context.Context, tx store.Tx, accountID string, role kernel.Role, hostID string) (Credential, error) {
	id, key, err := s.newSecret()
	if err != nil {
		return Credential{}, err
	}
	c := Credential{SecretID: id, SecretKey: key, AccountID: accountID, Role: role, HostID: hostID, Created: s.base.Now()}
	err = tx.CreateCredential(ctx, store.Credential{SecretID: id, SecretKey: key, AccountID: accountID, Role: role, HostID: hostID, Created: c.Created})
	return c, err
}

// createAccount creates an account, its name unique, and its first admin
// credential: a random one, or preset when given.
func (s *Accounts) createAccount(ctx context.Context, tx store.Tx, name string, preset *PresetCredential) (AccountCredentials, error) {
	if err := kernel.CheckName("Name", name, true); err != nil {
		return AccountCredentials{}, err
	}
	switch a, err := tx.FindAccountByName(ctx, name); {
	case err == nil:
		return AccountCredentials{}, &kernel.Error{Kind: kernel.KindDuplicate, Resource: kernel.ResourceAccount, ID: a.ID, Field: "Name",
			Message: fmt.Sprintf("the account name %q is taken by %s", name, a.ID)}
	case !errors.Is(err, store.ErrNotFound):
		return AccountCredentials{}, err
	}
	id, err := s.base.NewID(policy.PrefixAccount)
	if err != nil {
		return AccountCredentials{}, err
	}
	if err := tx.CreateAccount(ctx, store.Account{ID: id, Name: name, Created: s.base.Now()}); err != nil {
		return AccountCredentials{}, err
	}
	if preset != nil {
		if err := s.presetCredential(ctx, tx, *preset, id, kernel.RoleAdmin); err != nil {
			return AccountCredentials{}, err
		}
		return AccountCredentials{AccountID: id, SecretID: preset.SecretID, SecretKey: preset.SecretKey}, nil
	}
	c, err := s.addCredential(ctx, tx, id, kernel.RoleAdmin, "")
	if err != nil {
		return AccountCredentials{}, err
	}
	return AccountCredentials{AccountID: id, SecretID: c.SecretID, SecretKey: c.SecretKey}, nil
}

// CreateAccount creates an account and its first (admin) credential.
func (s *Accounts) CreateAccount(ctx context.Context, name string) (AccountCredentials, error) {
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
func (s *Accounts) CreateCredential(ctx context.Context, accountID string, role kernel.Role) (Credential, error) {
	if role != kernel.RoleAdmin && role != kernel.RoleReadOnly {
		return Credential{}, kernel.FieldError("Role", string(role), policy.Malformed, "must be admin or readonly")
	}
	var out Credential
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceAccount, accountID)
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
func (s *Accounts) CreatePlatformKey(ctx context.Context) (Credential, error) {
	var out Credential
	err := s.update(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.addCredential(ctx, tx, "", kernel.RolePlatform, "")
		return err
	})
	if err != nil {
		return Credential{}, fmt.Errorf("create platform key: %w", err)
	}
	return out, nil
}

// CreateHost creates a host and its credential.
func (s *Accounts) CreateHost(ctx context.Context, name string) (HostCredentials, error) {
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

func (s *Accounts) createHost(ctx context.Context, tx store.Tx, name string) (HostCredentials, error) {
	if err := kernel.CheckName("Name", name, true); err != nil {
		return HostCredentials{}, err
	}
	id, err := s.base.NewID(policy.PrefixHost)
	if err != nil {
		return HostCredentials{}, err
	}
	if err := tx.CreateHost(ctx, store.Host{ID: id, Name: name, Created: s.base.Now()}); err != nil {
		return HostCredentials{}, err
	}
	c, err := s.addCredential(ctx, tx, "", kernel.RoleHost, id)
	if err != nil {
		return HostCredentials{}, err
	}
	return HostCredentials{HostID: id, SecretID: c.SecretID, SecretKey: c.SecretKey}, nil
}

// SetQuotas overrides an account's quotas (zero fields unchanged) and
// returns the effective quotas.
func (s *Accounts) SetQuotas(ctx context.Context, accountID string, q kernel.Quotas) (kernel.Quotas, error) {
	var out kernel.Quotas
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return kernel.NotFound(kernel.ResourceAccount, accountID)
		} else if err != nil {
			return err
		}
		for _, spec := range kernel.QuotaSpecs() {
			v := *spec.Field(&q)
			if v < 0 {
				return kernel.FieldError(spec.Name, fmt.Sprint(v), policy.OutOfRange, "must not be negative")
			}
			if v > 0 {
				if err := tx.SetQuotaOverride(ctx, accountID, spec.Name, v); err != nil {
					return err
				}
			}
		}
		var err error
		out, err = s.base.EffectiveQuotas(ctx, tx, accountID)
		return err
	})
	if err != nil {
		return kernel.Quotas{}, fmt.Errorf("set quotas: %w", err)
	}
	return out, nil
}

// AddPlatformAddress adds a platform service address prefix.
func (s *Accounts) AddPlatformAddress(ctx context.Context, p netip.Prefix) error {
	if !p.IsValid() {
		return kernel.FieldError("Prefix", p.String(), policy.Malformed, "is not a valid prefix")
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
func (s *Accounts) RemovePlatformAddress(ctx context.Context, p netip.Prefix) error {
	err := s.update(ctx, func(tx store.Tx) error { return tx.DeletePlatformAddress(ctx, p.Masked().String()) })
	if errors.Is(err, store.ErrNotFound) {
		return &kernel.Error{Kind: kernel.KindNotFound, Resource: "PlatformAddress", ID: p.String(), Message: fmt.Sprintf("platform address %s not found", p)}
	}
	if err != nil {
		return fmt.Errorf("remove platform address: %w", err)
	}
	return nil
}

// PlatformAddresses returns every platform service address.
func (s *Accounts) PlatformAddresses(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.platformAddresses(ctx, tx)
		return err
	})
	return out, err
}

func (s *Accounts) platformAddresses(ctx context.Context, tx store.Tx) ([]netip.Prefix, error) {
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
func (s *Accounts) EnsureBootstrap(ctx context.Context) (*AccountCredentials, error) {
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
